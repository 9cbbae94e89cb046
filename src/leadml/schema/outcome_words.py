"""The words of an outcome column's values: converted, not converted, still open.

A CRM's status or stage column says more than converted / not converted: leads still being
worked ("Engaging", "Open - Not Contacted") have no outcome yet and must never be learned from.
``leadml.data.target`` reads each value as folded words (punctuation, underscores and dashes
as spaces: "Closed - Won", "closed_won" and "CLOSED WON" are all "closed won"), first as a
whole phrase, then word by word, minding negations ("Closed - Not Converted" is not converted,
"Open - Not Contacted" is still open). The words follow the CRMs' own lists (Salesforce lead
statuses and opportunity stages, HubSpot lead statuses and deal stages, Dynamics 365 status
reasons, Zoho) in English, Portuguese, Spanish and Polish, with German and French. A word that
could mean two things ("qualified": converted in Dynamics 365, a stage elsewhere) is left
unplaced, so that the user says what it means rather than leadml guessing.
"""

from __future__ import annotations

from leadml.schema.lexicon import name_words, words


def status_words(text: str) -> list[str]:
    """A status value as folded words: ``"7 - Closed Won"`` → ``['7', 'closed', 'won']``;
    apostrophes vanish (``won't`` → ``wont``, never ``won``)."""
    return name_words(str(text).lower().replace("'", "").replace("\u2019", ""))


def phrases(*groups: str) -> frozenset[str]:
    """A vocabulary of phrases from comma-separated strings, each folded like a status value."""
    found = (" ".join(status_words(p)) for group in groups for p in group.split(","))
    return frozenset(p for p in found if p)


#: Whole values that mean converted, and only as the whole value (a "1" or "yes" inside a longer
#: value is a stage number or a word of a sentence).
CONVERTED_ANSWERS = phrases(
    "1, true, yes, y, t, success, sim, si, tak, ja, oui, verdadeiro, verdadero, prawda, wahr",
    "vrai",
)
#: Whole values that mean not converted.
NOT_CONVERTED_ANSWERS = phrases(
    "0, false, no, n, f, failure, nao, nie, nein, non, falso, falsz, falsch, faux"
)
#: Whole values that mean a lead still open.
OPEN_ANSWERS = phrases("lead, subscriber")

#: Words and phrases of a converted lead, wherever they stand in the value.
CONVERTED_STATUS = phrases(
    "won, win, closed won, converted, closed converted, customer, client, evangelist, signed",
    "sold, purchased, bought, deal won, opportunity won",
    # Portuguese
    "ganho, ganha, ganhou, fechado ganho, convertido, convertida, fechado convertido, cliente",
    "vendido, vendida, assinado, assinada, comprou",
    # Spanish
    "ganado, ganada, gano, cerrado ganado, cerrada ganada, cerrado convertido, firmado, firmada",
    "compro",
    # Polish
    "wygrana, wygrany, wygrane, zamkniete wygrane, przekonwertowany, przekonwertowana",
    "przekonwertowane, skonwertowany, skonwertowana, skonwertowane, klient, sprzedany",
    "sprzedana, sprzedane, podpisany, podpisana, podpisane, kupil, kupila",
    # German and French
    "gewonnen, konvertiert, umgewandelt, kunde, verkauft, unterschrieben, gekauft",
    "gagne, gagnee, converti, convertie, vendu, vendue, signe, signee",
)
#: Words and phrases of a lead closed without converting.
NOT_CONVERTED_STATUS = phrases(
    "lost, loss, closed lost, not converted, closed not converted, unconverted, disqualified",
    "unqualified, rejected, declined, junk, spam, cancelled, canceled, dead, abandoned",
    "outsold, out sold, not interested, uninterested, disinterested, bad timing, bad fit",
    "cannot contact, can not contact, cant contact, unable to contact, could not contact",
    "couldnt contact, deal lost, lost deal",
    # Portuguese
    "perdido, perdida, perdeu, fechado perdido, nao convertido, desqualificado",
    "desqualificada, rejeitado, rejeitada, recusado, recusada, cancelado, cancelada, lixo",
    "descartado, descartada, desistiu, abandonado, abandonada, desinteressado, desinteressada",
    # Spanish
    "cerrado perdido, cerrada perdida, no convertido, descalificado, descalificada",
    "rechazado, rechazada, basura, desinteresado, desinteresada",
    # Polish
    "przegrana, przegrany, przegrane, zamkniete przegrane, utracony, utracona, utracone",
    "stracony, stracona, stracone, nieprzekonwertowany, nieprzekonwertowana",
    "nieprzekonwertowane, nieskonwertowany, nieskonwertowana, nieskonwertowane",
    "zdyskwalifikowany, zdyskwalifikowana, zdyskwalifikowane, odrzucony, odrzucona",
    "odrzucone, anulowany, anulowana, anulowane, niezainteresowany, niezainteresowana",
    "niezainteresowane, niezakwalifikowany, niezakwalifikowana, niezakwalifikowane, smieci",
    "porzucony, porzucona, porzucone, brak zainteresowania",
    # German and French
    "verloren, nicht konvertiert, disqualifiziert, abgelehnt, storniert, abgesagt",
    "annulliert, perdu, perdue, non converti, non convertie, disqualifie, disqualifiee",
    "rejete, rejetee, refuse, refusee, annule, annulee, abandonne, abandonnee",
)
#: Words and phrases of a lead still being worked: no outcome yet.
OPEN_STATUS = phrases(
    "open, new, working, working contacted, contacted, open not contacted, attempted",
    "attempting, attempted to contact, attempting contact, contact in future, connected",
    "in progress, pending, on hold, nurturing, nurture, in nurture, engaging, engaged",
    "prospecting, prospect, prospection, qualification, pre qualified, prequalified",
    "needs analysis, value proposition, decision makers, id decision makers",
    "identify decision makers, perception analysis, proposal, price quote, quote",
    "negotiation, review, open deal, appointment scheduled, presentation scheduled",
    "meeting scheduled, demo scheduled, qualified to buy, decision maker bought in",
    "contract sent, follow up, followup, interested, interest, potential customer",
    "prospective customer, potential client, prospective client, started",
    # Portuguese
    "aberto, aberta, novo, nova, trabalhando, contatado, contatada, contactada, em andamento",
    "em progresso, em processo, em negociacao, em espera, pendente, em contato",
    "tentativa de contato, tentativa de contacto, nutricao, prospeccao, qualificacao",
    "analise de necessidades, proposta de valor, tomadores de decisao, analise de percepcao",
    "proposta, cotacao, negociacao, revisao, interessado, interessada, interesse",
    "cliente potencial, iniciado, iniciada",
    # Spanish
    "abierto, abierta, nuevo, nueva, trabajando, contactado, en curso, en progreso, en proceso",
    "en negociacion, en espera, pendiente, intento de contacto, nutricion, prospeccion",
    "calificacion, cualificacion, analisis de necesidades, propuesta de valor",
    "toma de decisiones, analisis de percepcion, propuesta, presupuesto, cotizacion",
    "negociacion, revision, seguimiento, interesado, interesada, interes, empezado, empezada",
    # Polish
    "otwarty, otwarta, otwarte, nowy, nowa, nowe, w trakcie, w toku, w realizacji",
    "skontaktowany, skontaktowana, skontaktowane, skontaktowano, niekontaktowany",
    "niekontaktowana, niekontaktowane, kontaktowany, kontaktowana, kontaktowane, proba kontaktu",
    "oczekujacy, oczekujaca, oczekujace",
    "poszukiwanie, kwalifikacja, analiza potrzeb, propozycja wartosci, identyfikacja decydentow",
    "analiza percepcji, oferta, wycena, negocjacje, przeglad, zainteresowany, zainteresowana",
    "zainteresowanie, potencjalny klient, rozpoczety, rozpoczeta, rozpoczete",
    # German and French
    "offen, neu, in bearbeitung, kontaktiert, nicht kontaktiert, ausstehend, qualifizierung",
    "bedarfsanalyse, wertversprechen, entscheider identifizieren, wahrnehmungsanalyse",
    "angebot, preisangebot, verhandlung, uberprufung, interessiert, potenzieller kunde",
    "ouvert, ouverte, nouveau, nouvelle, en cours, contacte, contactee, non contacte",
    "en attente, analyse des besoins, proposition de valeur, identifier les decideurs",
    "analyse de perception, proposition, devis, negociation, interesse, client potentiel",
)
#: Words that say a lead is closed or done but not how: with a word for won or lost they are
#: that ("Closed - Won"); alone, or with only words of an open lead, the value is unplaced.
CLOSED_STATUS = phrases(
    "closed, completed, finished, done, accepted, fechado, fechada, concluido, concluida",
    "finalizado, finalizada, aceito, aceita, cerrado, cerrada, completado, completada",
    "aceptado, aceptada, zamkniete, zamkniety, zamknieta, zakonczone, zakonczony, zakonczona",
    "zaakceptowany, zaakceptowana, zaakceptowane, geschlossen, abgeschlossen, akzeptiert",
    "ferme, fermee, termine, terminee, accepte, acceptee",
)
#: Words that could mean two things: placed by the words around them, never on their own.
#: "Qualified" is a converted lead in Dynamics 365 and a stage in progress elsewhere; an
#: opportunity, an MQL or an SQL is converted to some and still open to others.
UNDECIDED_STATUS = phrases(
    "qualified, qualificado, qualificada, calificado, calificada, cualificado, cualificada",
    "kwalifikowany, kwalifikowana, zakwalifikowany, zakwalifikowana, zakwalifikowane",
    "qualifiziert, qualifie, qualifiee, opportunity, oportunidade, oportunidad, szansa",
    "szansa sprzedazy, opportunite, chance, mql, sql, sal, marketing qualified lead",
    "sales qualified lead, sales accepted lead, qualified lead, recycled, duplicate, churned",
)
#: Words that turn the next word around: "not converted", "não convertido", "no longer
#: interested", "kein Interesse".
NEGATIONS = words(
    "not no non nao nie nicht kein keine keinen pas ne sem sin never nunca nigdy jamais",
    "dont didnt doesnt wont isnt cannot cant unable without brak",
)
#: Words that make a following word of a converted lead hypothetical: a "potential customer".
HEDGES = words(
    "potential prospective possible future potencial futuro eventual potencjalny potenzieller",
    "potenzielle potentiel potentielle",
)
#: Words of an open lead that, negated, still mean open: "Open - Not Contacted".
STILL_OPEN_WHEN_NEGATED = words(
    "contacted contatado contatada contactado contactada contacte contactee kontaktiert",
    "skontaktowany skontaktowana skontaktowane skontaktowano kontaktowany kontaktowana",
    "kontaktowane started iniciado iniciada",
    "empezado empezada rozpoczety rozpoczeta rozpoczete",
)
#: Words that, negated, mean not converted: "not interested", "sem interesse", "not qualified".
NOT_CONVERTED_WHEN_NEGATED = words(
    "interested interest interessado interessada interesse interesado interesada interes",
    "zainteresowany zainteresowana zainteresowanie interessiert",
    "qualified qualificado qualificada calificado calificada cualificado cualificada",
    "kwalifikowany kwalifikowana zakwalifikowany zakwalifikowana zakwalifikowane",
    "qualifiziert qualifie qualifiee",
)
#: Words around a stage's name that say nothing of the outcome: "Stage 3: Prospecting".
STAGE_WORDS = words("stage status step phase etapa estagio fase estado etap krok stufe etape")
