"""The words that tell what a CRM column means, in the languages lead data comes in.

Schema inference and the leakage guard read column names the way a person would: split into
words (``lastActivityDate`` → last, activity, date), accents folded (``orçamento`` →
``orcamento``, ``budżet`` → ``budzet``), then looked up here. English, Portuguese, Spanish and
Polish come first because the field's guides are written in them; a few German and French
words ride along. Matching is by whole word, never by substring: ``poutcome`` is not
``outcome`` and ``email_opens`` is not an e-mail address.
"""

from __future__ import annotations

import re
import unicodedata

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")
#: Letters NFKD does not decompose.
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "æ": "ae"})


def fold(text: str) -> str:
    """Lower case without accents: ``Orçamento`` → ``orcamento``, ``Budżet`` → ``budzet``."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def name_words(name: str) -> list[str]:
    """A column name as folded words: ``lastActivityDate`` → ``['last', 'activity', 'date']``."""
    spaced = _CAMEL.sub(" ", str(name))
    return [w for w in _SPLIT.split(fold(spaced)) if w]


def words(*groups: str) -> frozenset[str]:
    """A vocabulary from space-separated strings, folded like column names."""
    return frozenset(fold(w) for group in groups for w in group.split())


# -- placeholders --------------------------------------------------------------------------------
#: Answers a form exports when the field was left at its default: they mean "missing".
PLACEHOLDERS = frozenset(
    fold(w)
    for w in (
        "",
        "select",
        "--select--",
        "-- select --",
        "please select",
        "select one",
        "selecione",
        "seleccione",
        "seleccionar",
        "wybierz",
        "n/a",
        "na",
        "n.a.",
        "#n/a",
        "null",
        "nan",
        "-",
        "--",
        "---",
        "?",
        "unknown",
        "desconhecido",
        "desconocido",
        "nieznany",
        "not specified",
        "unspecified",
        "não informado",
        "no especificado",
        "nie podano",
        "brak danych",
        "(blank)",
        "(empty)",
    )
)

# -- personal data -------------------------------------------------------------------------------
#: Words that make a column personal data when a name is made of them (and qualifiers) only.
PII_WORDS = words(
    "name names fullname firstname lastname surname forename nome sobrenome nombre apellido",
    "apellidos imie nazwisko vorname nachname nom prenom",
    "email mail emails correo correio poczta",
    "phone telephone telefone telefono tel mobile cell cellphone celular movil whatsapp",
    "telefon komorka handy",
    "address endereco direccion adres adresse street rua calle ulica",
    "ssn cpf rg dni nie nif pesel nip passport passaporte pasaporte paszport",
    "birthday birthdate dob nascimento nacimiento urodzenia",
    "ip linkedin skype",
)
#: Words that may sit beside a personal-data word without changing its meaning.
PII_QUALIFIERS = words(
    "first last full given family middle primary secondary work personal business home",
    "contact lead person owner number no nr num de do da del e 1 2 3 address date of id",
    "primeiro ultimo completo principal contato contacto kontakt osoba numero",
    "data fecha",
)
#: Words that make a "name" column about a thing, not a person.
NOT_PERSONAL = words(
    "company empresa firma account conta cuenta konto organization organisation org business",
    "product produto producto produkt page pagina strona campaign campanha campana kampania",
    "file arquivo archivo plik domain dominio host server event evento form formulario",
    "segment segmento stage list lista source origem origen utm channel",
)

# -- identifiers ---------------------------------------------------------------------------------
ID_WORDS = words("id ids uuid guid key pk identifier identificador identyfikator hash")

# -- time ----------------------------------------------------------------------------------------
DATE_WORDS = words("date data fecha dt time timestamp datetime day dia at on czas")
#: Words that mark the date a lead entered the funnel: the natural time column.
CREATED_WORDS = words(
    "created creation create criado criacao creado creacion utworzenia utworzono",
    "first primeiro primera primer pierwszy signup registered registration cadastro registro",
    "rejestracji submitted submission entry received added inbound capture captured",
)

# -- groups and BANT criteria --------------------------------------------------------------------
#: Group → words in a column name that place it there (order = priority on a tie).
GROUP_WORDS: dict[str, frozenset[str]] = {
    "market": words(
        "idx index indice indeks rate rates inflation inflacao inflacion inflacja euribor libor",
        "selic cpi gdp pib unemployment desemprego desempleo bezrobocie",
    ),
    "source": words(
        "source sources origin origem origen fonte fuente zrodlo channel canal kanal utm",
        "medium referrer referral landing referencia polecenie",
    ),
    "engagement": words(
        "visit visits visitas wizyty wizyt page pages paginas strony views view pageviews",
        "click clicks cliques clics klikniecia klikniec open opens aberturas aperturas otwarcia",
        "webinar webinars download downloads downloaded sessions session sessoes sesiones sesje",
        "activity activities atividade atividades actividad actividades aktywnosc engagement",
        "calls call chamadas llamadas ligacoes polaczenia contacts contatos contactos kontakty",
        "campaign campanha campana kampania demo trial meetings meeting reunioes reuniones",
        "spotkania logins login events eventos wydarzenia interactions interacoes",
        "responses respostas respuestas replies visited opened clicked attended",
    ),
    "firmographic": words(
        "company companies empresa empresas firma industry industria setor sector branza",
        "segment segmento employees funcionarios empleados pracownicy headcount staff size porte",
        "tamano wielkosc revenue faturamento receita ingresos facturacion przychod przychody",
        "obroty turnover business negocio catalog catalogo founded fundacao stock gtin",
    ),
    "demographic": words(
        "age idade edad wiek gender genero plec country pais kraj city cidade ciudad miasto",
        "state estado region regiao wojewodztwo job title role cargo seniority senioridade",
        "department departamento dzial education escolaridade educacion wyksztalcenie marital",
        "civil language idioma jezyk occupation profissao profesion zawod ocupacao ocupacion",
        "position puesto stanowisko",
    ),
    "financial": words(
        "balance saldo credit credito kredyt loan loans emprestimo prestamo pozyczka housing",
        "mortgage hipoteca debt divida deuda default income salary salario renda dochod",
    ),
}
#: BANT criterion → words in a column name that suggest it.
CRITERION_WORDS: dict[str, frozenset[str]] = {
    "budget": words(
        "budget budgets orcamento orcamentos presupuesto budzet spend spending price pricing",
        "investment investimento inversion inwestycja afford revenue faturamento receita",
        "ingresos facturacion przychod przychody balance saldo income salary salario renda",
        "dochod",
    ),
    "authority": words(
        "role cargo title job seniority senioridade decision decisor decisao decisión authority",
        "autoridade autoridad rola funkcja stanowisko position puesto occupation profissao",
        "profesion zawod ocupacao ocupacion",
    ),
    "need": words(
        "need needs necessidade necessidades necesidad necesidades potrzeba potrzeby pain",
        "painpoint problem problema problemy challenge desafio wyzwanie interest interesse",
        "interes zainteresowanie usecase requirement requisito wymaganie goal objetivo",
    ),
    "timing": words(
        "timeline timeframe prazo plazo termin harmonogram urgency urgencia pilnosc when",
        "quando cuando kiedy horizon horizonte deadline schedule cronograma",
    ),
}
#: Groups whose columns describe the market, not the lead: no BANT criterion applies.
NO_CRITERION_GROUPS = ("market",)
#: Criteria that are answers to a qualification question rather than a trait of the lead.
QUALIFICATION_CRITERIA = ("budget", "need", "timing")

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

# -- leakage -------------------------------------------------------------------------------------
#: Name words that mean the outcome itself or an event after first contact.
OUTCOME_WORDS = words(
    "status stage stages duration won lost win loss outcome result results converted",
    "conversion churn churned closed close closing tags tag signed disqualified",
    "situacao situacion etapa estagio fase duracao duracion ganho ganado perdido perdida",
    "resultado fechamento fechado cierre cerrado wynik etap zamkniecia zamkniety wygrana",
    "przegrana trwania",
)
#: Name words for sales' own judgement of a lead, set after contact (a rep's quality rating, a
#: disposition, notes, another scorer's score): the outcome seen through a person's eyes.
JUDGEMENT_WORDS = words(
    "quality rating rated disposition feedback notes note comment comments remark remarks",
    "score scoring qualidade avaliacao calidad valoracion calificacion ocena jakosc",
)
#: Name words of a "last activity" field: ``last`` plus one of the second group.
LAST_WORDS = words("last latest recent ultima ultimo ostatnia ostatni")
ACTIVITY_WORDS = words(
    "activity activities action actions contact touch interaction notable atividade actividad"
)
#: Words in a level of such a field that mean sales already spoke to the lead.
CONTACT_WORDS = words(
    "call called calls phone conversation meeting meet met spoke spoken talked approached",
    "unreachable voicemail ligacao reuniao llamada reunion rozmowa spotkanie",
)
#: Name words of a column that numbers the leads.
NUMBER_WORDS = words("id number no nr num numero code key ref seq sequence serial")
#: Name words that mark the date an outcome was reached.
OUTCOME_DATE_WORDS = words("won lost closed close closing fechamento cierre zamkniecia signed")

# -- person names --------------------------------------------------------------------------------
#: Common given names (many languages) and surnames: a column of values like "Ana Silva" whose
#: words are often found here is a column of people's names, whatever it is called.
FIRST_NAMES = words(
    "james john robert michael william david richard joseph thomas charles christopher daniel",
    "matthew anthony mark donald steven paul andrew joshua kevin brian george timothy ronald",
    "jason edward jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott",
    "brandon benjamin samuel frank gregory raymond alexander patrick jack dennis jerry tyler",
    "aaron jose adam henry nathan douglas zachary peter kyle walter ethan jeremy harold keith",
    "christian roger noah gerald carl terry sean austin arthur lawrence jesse dylan bryan joe",
    "jordan billy bruce albert willie gabriel logan alan juan wayne roy ralph randy eugene",
    "vincent russell elijah louis bobby philip johnny mary patricia jennifer linda elizabeth",
    "barbara susan jessica sarah karen nancy lisa betty margaret sandra ashley kimberly emily",
    "donna michelle dorothy carol amanda melissa deborah stephanie rebecca sharon laura cynthia",
    "kathleen amy shirley angela helen anna brenda pamela nicole emma samantha katherine",
    "christine debra rachel catherine carolyn janet ruth maria heather diane virginia julie",
    "joyce victoria olivia kelly christina lauren joan evelyn judith megan cheryl andrea hannah",
    "martha jacqueline frances gloria ann teresa kathryn sara janice jean alice madison doris",
    "abigail julia judy grace denise amber marilyn beverly danielle theresa sophia marie diana",
    "brittany natalie isabella charlotte rose alexis kayla ana ben carla elena farid hugo ines",
    "jakub kofi lena marta olga pedro qing rosa sam tomasz uma victor wen ximena yusuf zofia",
    "joao jose antonio francisco carlos paulo pedro lucas luiz marcos luis gabriel rafael",
    "marcelo bruno eduardo felipe raimundo rodrigo manoel mateus andre fernando fabio leonardo",
    "gustavo guilherme leandro tiago anderson ricardo marcio jorge sebastiao alexandre roberto",
    "sergio claudio diego vitor thiago matheus joaquim miguel arthur heitor davi bernardo",
    "francisca antonia adriana juliana marcia fernanda patricia aline sandra camila amanda",
    "bruna jessica leticia julia luciana vanessa mariana gabriela vera beatriz larissa lucia",
    "alice sofia helena valentina laura manuela isadora carmen dolores pilar josefa isabel",
    "javier manuel jesus alejandro enrique ramon vicente angel ignacio alberto alvaro adrian",
    "oscar ruben santiago mario pablo hector cristina montserrat mercedes rocio lorena silvia",
    "raquel nuria irene eva natalia clara ines paula piotr krzysztof andrzej tomasz pawel",
    "michal marcin stanislaw jan grzegorz jerzy tadeusz adam lukasz zbigniew ryszard dariusz",
    "henryk mariusz kazimierz wojciech robert mateusz marek jacek kamil maciej dawid szymon",
    "krystyna barbara ewa elzbieta zofia agnieszka joanna malgorzata magdalena katarzyna",
    "monika danuta jadwiga aleksandra dorota teresa beata renata iwona karolina hans peter",
    "klaus wolfgang jurgen dieter stefan uwe michael andreas thomas frank markus sabine ursula",
    "petra monika jean pierre michel philippe alain nicolas francois christophe sophie nathalie",
    "isabelle sylvie catherine valerie giuseppe giovanni francesco luca marco alessandro",
    "andrea matteo lorenzo giulia chiara francesca sara mohammed muhammad ahmed ali omar",
    "fatima aisha hassan ibrahim mustafa raj rahul amit priya anil sunil wei li ming hiroshi",
    "yuki kenji akira sakura chen wang zhang liu ivan dmitri sergei natasha svetlana",
)
SURNAMES = words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez",
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson",
    "white harris sanchez clark ramirez lewis robinson walker young allen king wright scott",
    "torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter",
    "roberts silva santos oliveira souza rodrigues ferreira alves pereira lima gomes costa",
    "ribeiro martins carvalho almeida lopes soares fernandes vieira barbosa rocha dias",
    "nascimento andrade moreira nunes marques machado mendes freitas cardoso ramos goncalves",
    "santana teixeira fernandez gomez diaz moreno munoz alvarez romero alonso gutierrez",
    "navarro ruiz serrano molina morales ortiz delgado castro ortega rubio marin sanz nunez",
    "iglesias medina garrido cortes castillo nowak kowalski wisniewski wojcik kowalczyk",
    "kaminski lewandowski zielinski szymanski wozniak dabrowski kozlowski jankowski mazur",
    "kwiatkowski krawczyk piotrowski grabowski nowakowski pawlowski michalski muller schmidt",
    "schneider fischer weber meyer wagner becker schulz hoffmann dubois durand leroy moreau",
    "simon laurent lefebvre michel rossi russo ferrari esposito bianchi romano colombo ricci",
    "khan patel singh kumar sharma ahmed ali hassan tanaka suzuki sato watanabe okafor jensen",
    "novak nielsen hansen larsen kim park chen wang zhang li liu yang huang zhao wu zhou",
)
#: Words that make a Title Case value a company, not a person.
COMPANY_WORDS = words(
    "inc ltd llc gmbh corp co sa ltda plc ag bv srl spa oy ab group holding holdings",
    "solutions technologies technology systems services consulting partners industries bank",
    "labs studio media software global international company companhia compania sp zoo",
)
