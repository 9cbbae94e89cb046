"""The words that place a column in a group and a qualification criterion, and that tell the
company's own staff from a trait of the lead.

Read like :mod:`leadml.schema.lexicon` (whole folded words, never substrings), with phrases
besides: ``do_not_email`` below matches the run of words "Do Not Email". Web-form exports name
columns after the question asked ("What matters most to you in choosing a course", "Como nos
conheceu?"), so the need, source and opt-in vocabularies hold the words such questions are
made of, in English, Portuguese, Spanish and Polish, with a few German and French ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadml.schema.lexicon import fold, words


@dataclass(frozen=True)
class Vocabulary:
    """Whole words, and phrases (runs of whole words), that mean one thing in a column name."""

    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...] = ()

    def found(self, tokens: Sequence[str]) -> list[str]:
        """The words and phrases of ``tokens`` (a name's folded words) found here, in the
        name's order; a word inside a phrase found is not counted again."""
        hits: list[tuple[int, str]] = []
        used: set[int] = set()
        for phrase in self.phrases:
            size = len(phrase)
            for start in range(len(tokens) - size + 1):
                if tuple(tokens[start : start + size]) == phrase:
                    hits.append((start, " ".join(phrase)))
                    used.update(range(start, start + size))
                    break
        for i, token in enumerate(tokens):
            if i not in used and token in self.words and all(token != h for _, h in hits):
                hits.append((i, token))
        return [hit for _, hit in sorted(hits)]

    def weight(self, tokens: Sequence[str]) -> int:
        """How strongly the name speaks for this vocabulary: a phrase counts two words."""
        return sum(2 if " " in hit else 1 for hit in self.found(tokens))


def vocabulary(*lines: str) -> Vocabulary:
    """A vocabulary from space-separated entries; ``do_not_email`` is a phrase of three words."""
    entries = [fold(entry) for line in lines for entry in line.split()]
    phrases = tuple(tuple(e.split("_")) for e in entries if "_" in e)
    return Vocabulary(frozenset(e for e in entries if "_" not in e), phrases)


# -- groups --------------------------------------------------------------------------------------
#: Channels a lead can come through: a column named for one (a Yes/No "Search" flag, a
#: "Newspaper Article" tick box) records the lead's source.
CHANNEL_NAMES = vocabulary(
    "search busca buscador google bing newspaper newspapers article articles magazine",
    "magazines jornal jornais revista revistas periodico diario gazeta czasopismo prasa",
    "zeitung press forum forums foro foros advertisement advertisements advert adverts ads",
    "advertising anuncio anuncios publicidade publicidad reklama reklamy annonce werbung",
    "recommendation recommendations recomendacao recomendacoes recomendacion",
    "recomendaciones rekomendacja rekomendacje polecenie polecenia indicacao indicacoes",
    "referral referrals facebook instagram twitter tiktok youtube radio tv television",
    "billboard outdoor affiliate afiliado afiliados word_of_mouth boca_a_boca",
    "trade_show feira feria targi",
)
#: Words of a name that says where the lead came from (besides the channels themselves).
SOURCE_NAMES = vocabulary(
    "source sources origin origem origen fonte fuente zrodlo channel channels canal canais",
    "kanal utm medium referrer referencia reference landing hear heard conheceu conheceram",
    "conocio conociste entero dowiedziales dowiedziala dowiedzieli erfahren connu",
    "ficou_sabendo found_us find_us",
)
#: Words of a name that records what the lead did, or agreed to be sent (opt-ins count:
#: asking for updates or a free copy is the lead's own engagement).
ENGAGEMENT_NAMES = vocabulary(
    "visit visits visitas wizyty wizyt page pages paginas strony views view pageviews",
    "click clicks cliques clics klikniecia klikniec open opens aberturas aperturas otwarcia",
    "webinar webinars download downloads downloaded sessions session sessoes sesiones sesje",
    "activity activities atividade atividades actividad actividades aktywnosc engagement",
    "calls call chamadas llamadas ligacoes polaczenia contacts contatos contactos kontakty",
    "contact campaign campanha campana kampania demo trial meetings meeting reunioes",
    "reuniones spotkania logins login events eventos wydarzenia interactions interacoes",
    "responses respostas respuestas replies visited opened clicked attended duration",
    "previous prior anterior anteriores poprzedni poprzednie pdays poutcome",
    "newsletter newsletters boletim boletin subscribe subscribed subscriber subscription",
    "unsubscribe unsubscribed inscrito suscrito subskrypcja optin optout opt_in opt_out",
    "consent consentimento consentimiento zgoda einwilligung update updates atualizacoes",
    "actualizaciones aktualizacje receive receber recibir otrzymywac content conteudo",
    "contenido tresc ebook whitepaper bounce bounced besuche seitenaufrufe visites",
    "ouvertures do_not_email do_not_call do_not_contact do_not_sms nao_enviar no_enviar",
    "nie_wysylac nao_ligar no_llamar nie_dzwonic free_copy time_spent time_on_site",
    "time_on_website tempo_no_site tiempo_en_sitio czas_na_stronie",
)
#: What the lead is after (a course, a product, a plan) and how sales rated the fit: the
#: answers a qualification call collects.
PRODUCT_NAMES = vocabulary(
    "course courses curso cursos kurs kursy product products produto produtos producto",
    "productos produkt produkty plan plano planes program programme programa",
)
QUALIFICATION_NAMES = vocabulary(
    "profile perfil profil persona quality qualidade calidad jakosc rating qualification",
    "qualificacao calificacion kwalifikacja fit tier",
)
FIRMOGRAPHIC_NAMES = vocabulary(
    "company companies empresa empresas firma industry industria setor sector branza",
    "segment segmento employees funcionarios empleados pracownicy headcount staff size porte",
    "tamano wielkosc revenue faturamento receita ingresos facturacion przychod przychody",
    "obroty turnover business negocio catalog catalogo founded fundacao stock gtin vertical",
    "nicho funding domain dominio ramo_de_atividade ramo_de_actividad",
)
DEMOGRAPHIC_NAMES = vocabulary(
    "age idade edad wiek gender genero plec country pais kraj city cidade ciudad miasto",
    "state estado region regiao wojewodztwo job title role cargo seniority senioridade",
    "department departamento dzial education escolaridade educacion wyksztalcenie marital",
    "civil language idioma jezyk occupation profissao profesion zawod ocupacao ocupacion",
    "position puesto stanowisko nationality nacionalidade nacionalidad narodowosc location",
    "localizacao ubicacion lokalizacja province provincia county uf pays ville stadt beruf",
    "profession",
)
FINANCIAL_NAMES = vocabulary(
    "balance saldo credit credito kredyt loan loans emprestimo prestamo pozyczka housing",
    "mortgage hipoteca debt divida deuda default income salary salario renda dochod",
)
#: Indicators of the market, not of the lead (macro-economic series joined onto leads).
MARKET_NAMES = vocabulary(
    "idx rate rates inflation inflacao inflacion inflacja euribor libor selic cpi gdp pib",
    "unemployment desemprego desempleo bezrobocie price_index confidence_index",
)
#: Group → its name vocabulary, in the order that settles a tie ("X Education Forums" is a
#: channel before it is an education; "utm_campaign" a source before a campaign count).
GROUP_NAMES: dict[str, Vocabulary] = {
    "source": Vocabulary(
        CHANNEL_NAMES.words | SOURCE_NAMES.words, CHANNEL_NAMES.phrases + SOURCE_NAMES.phrases
    ),
    "engagement": ENGAGEMENT_NAMES,
    "qualification": Vocabulary(
        PRODUCT_NAMES.words | QUALIFICATION_NAMES.words,
        PRODUCT_NAMES.phrases + QUALIFICATION_NAMES.phrases,
    ),
    "firmographic": FIRMOGRAPHIC_NAMES,
    "demographic": DEMOGRAPHIC_NAMES,
    "financial": FINANCIAL_NAMES,
    "market": MARKET_NAMES,
}
#: Groups whose columns describe the market or the calendar, not the lead: no criterion.
NO_CRITERION_GROUPS = ("market", "calendar")

# -- criteria ------------------------------------------------------------------------------------
#: Criterion → words in a column name that suggest it (BANT's four, and GPCT's goals).
CRITERION_NAMES: dict[str, Vocabulary] = {
    "budget": vocabulary(
        "budget budgets orcamento orcamentos presupuesto budzet spend spending price pricing",
        "investment investimento inversion inwestycja afford revenue faturamento receita",
        "ingresos facturacion przychod przychody balance saldo income salary salario renda",
        "dochod pay payment payments pagamento pago platnosc zaplata price_range how_much",
        "quanto cuanto ile amount valor kwota",
    ),
    "authority": vocabulary(
        "role cargo title job seniority senioridade decision decisor decisao autoridade",
        "authority autoridad rola funkcja stanowisko position puesto occupation profissao",
        "profesion zawod ocupacao ocupacion profession beruf decision_maker signer approver",
    ),
    "need": vocabulary(
        "need needs necessidade necessidades necesidad necesidades potrzeba potrzeby pain",
        "painpoint problem problems problema problemas problemy challenge challenges desafio",
        "desafios wyzwanie wyzwania interest interests interesse interes zainteresowanie",
        "usecase use_case requirement requirements requisito wymaganie matters matter",
        "choosing choose escolher elegir wybor why porque por_que reason reasons razao motivo",
        "motivos razon powod motivation motivacao motivacion motywacja looking_for",
        "interested_in procura procurando buscas buscando szukasz specialization",
        "specialisation specialty especializacao especializacion especialidade specjalizacja",
        "besoin bedarf warum grund pourquoi raison",
    ),
    "timing": vocabulary(
        "timeline timeframe prazo plazo termin harmonogram urgency urgencia pilnosc when",
        "quando cuando kiedy horizon horizonte deadline schedule cronograma time_frame",
        "how_soon zeitrahmen delai echeance",
    ),
    "goals": vocabulary(
        "goal goals objective objectives objetivo objetivos meta metas cel cele ziel ziele",
        "objectif objectifs aim aims",
    ),
}
#: Criteria that are answers to a qualification question rather than a trait of the lead.
QUALIFICATION_CRITERIA = ("budget", "need", "timing", "goals")

# -- values --------------------------------------------------------------------------------------
#: Words in a categorical column's values that mark job titles (authority).
TITLE_VALUE_WORDS = words(
    "manager director ceo cto cfo coo cmo vp head chief president owner founder analyst",
    "engineer specialist coordinator gerente diretor diretora coordenador coordinador analista",
    "dono socio kierownik dyrektor prezes wlasciciel specjalista",
)
#: Words in values that mark a time horizon (timing).
TIME_VALUE_WORDS = words(
    "month months mes meses miesiac miesiace miesiecy week weeks semana semanas tydzien",
    "tygodni year years ano anos rok lat quarter trimestre kwartal asap immediately imediato",
    "inmediato natychmiast days dias dni",
)
#: Currency marks in values (budget).
CURRENCY_MARKS = ("$", "€", "£", "r$", "zł", "zl", "usd", "eur", "brl", "pln")
#: Values that are channels a lead comes through (Google, Organic Search, Direct Traffic ...).
CHANNEL_VALUES = vocabulary(
    " ".join(CHANNEL_NAMES.words),
    " ".join("_".join(phrase) for phrase in CHANNEL_NAMES.phrases),
    "organic paid direct traffic social email e_mail newsletter chat sms whatsapp ppc cpc seo",
    "sem display publicities publicity blog website webinar partner parceiro online offline",
    "inbound outbound cold_call meta linkedin yahoo telegram olark click2call walk_in",
    "organico pago trafego trafico redes",
)
#: Words in values that state a goal or a pain (need): "Better Career Prospects", "reduce
#: costs", "grow sales", "Flexibility & Convenience".
NEED_VALUE_WORDS = words(
    "career prospects flexibility convenience reduce cut lower grow growth increase improve",
    "save saving savings automate automation efficiency productivity compliance scale expand",
    "learn learning skills upskill reskill certification carreira crescer crescimento",
    "reduzir aumentar melhorar economizar eficiencia automatizar flexibilidade conveniencia",
    "carrera crecer crecimiento reducir mejorar ahorrar flexibilidad kariera rozwoj obnizyc",
    "zwiekszyc poprawic oszczednosc elastycznosc wygoda",
)
#: Date parts: a column named only with these (``day``, ``month``, ``dia da semana``) whose
#: values fit is a calendar field, as are values that are month or weekday names.
CALENDAR_NAMES = words(
    "day dia dzien jour month mes miesiac monat mois weekday dow wochentag year ano rok jahr",
    "annee quarter trimestre kwartal quartal hour hora godzina stunde heure week semana",
    "tydzien woche semaine",
)
#: Words that may join date parts in such a name ("day of the week", "dia da semana").
CALENDAR_FILLERS = words("of the in de da do del la tygodnia")
MONTH_VALUES = words(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june",
    "july august september october november december janeiro fevereiro marco abril maio",
    "junho julho agosto setembro outubro novembro dezembro enero febrero abr mayo junio",
    "julio septiembre octubre noviembre diciembre ene ago dic fev out dez styczen luty",
    "kwiecien czerwiec lipiec sierpien wrzesien pazdziernik listopad grudzien",
)
WEEKDAY_VALUES = words(
    "mon tue wed thu fri sat sun monday tuesday wednesday thursday friday saturday sunday",
    "segunda terca quarta quinta sexta sabado domingo lunes martes miercoles jueves viernes",
    "poniedzialek wtorek sroda czwartek piatek sobota niedziela",
)

# -- staff ---------------------------------------------------------------------------------------
#: Name words for the company's own people or teams who worked the lead: who sold is not who
#: buys, and a rep's name shown to a rep as a reason helps no one.
STAFF_NAMES = vocabulary(
    "agent agents agente agentes owner owners rep reps representative representatives",
    "representante representantes sdr sdrs bdr bdrs manager managers assigned assignee",
    "assignees consultant consultants consultor consultora closer closers vendedor",
    "vendedora vendedores salesperson salesman saleswoman responsavel responsable gestor",
    "gestora handlowiec handlowca opiekun opiekuna atendente csm bdm kam berater vertreter",
    "account_executive sales_executive handled_by worked_by created_by modified_by updated_by",
)
#: Staff words that also have everyday meanings ("home office", "team size"): they mark staff
#: only beside other staff or sales words.
WEAK_STAFF_NAMES = words("team teams equipe equipo zespol squad office escritorio oficina biuro")
WEAK_STAFF_NAMES |= words("comercial sr ae")
#: Words that may sit beside a staff word in a staff column's name.
STAFF_QUALIFIERS = words(
    "sales vendas ventas sprzedaz sprzedazy lead leads deal deals account name nome nombre",
    "id code the of de do da del inside outside field key regional area responsible current",
)
#: Cues that the column is about the lead after all: a count or size ("team size", "number of
#: managers"), or the lead as an owner ("business owner", "homeowner").
NOT_STAFF_NAMES = vocabulary(
    "size count number headcount tamanho tamano wielkosc liczba quantidade cantidad",
    "business_owner company_owner home_owner homeowner property_owner home_office user_agent",
)
