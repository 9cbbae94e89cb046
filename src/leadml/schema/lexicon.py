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


def spelled_words(name: str) -> dict[str, str]:
    """Each folded word of a name → as the name spells it (``orcamento`` → ``Orçamento``), so
    evidence quotes the user's own words."""
    spaced = _CAMEL.sub(" ", str(name))
    return {fold(w): w for w in re.findall(r"[^\W_]+", spaced)}


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
#: The form-default words among them, and more (Salesforce's "--None--", "Please choose"): the
#: answer a web form exports when the lead saw the field and left it at its default. Kept apart
#: from the words that really mean unknown ("N/A", "null", "unknown"), since "saw the form and
#: skipped it" and "never saw the form" convert differently; a schema's ``unanswered`` turns the
#: difference on (schemas without it read all of these as missing, as they always did).
FORM_DEFAULTS = frozenset(
    fold(w).replace(" ", "")
    for w in (
        "select",
        "--select--",
        "please select",
        "select one",
        "select an option",
        "please choose",
        "choose",
        "choose one",
        "-- please select --",
        "--none--",
        "-none-",
        "none selected",
        "selecione",
        "selecione uma opção",
        "escolha",
        "seleccione",
        "seleccionar",
        "seleccione una opción",
        "elija",
        "wybierz",
        "wybierz z listy",
        "bitte wählen",
        "sélectionner",
        "choisir",
    )
)
#: The words that mean the value is unknown, whatever the form showed.
MISSING_WORDS = PLACEHOLDERS - {w for w in PLACEHOLDERS if w.replace(" ", "") in FORM_DEFAULTS}


def is_form_default(word: str) -> bool:
    """Whether ``word`` is a form's default answer ("Select", "-- Select --", "Wybierz")."""
    return fold(str(word).strip()).replace(" ", "") in FORM_DEFAULTS


def form_defaults(values: list[str] | tuple[str, ...]) -> list[str]:
    """The form-default words among ``values``, one spelling each ("Select" and "select" are
    one), in the order given."""
    seen: dict[str, str] = {}
    for value in values:
        if is_form_default(value):
            seen.setdefault(fold(str(value).strip()).replace(" ", ""), value)
    return list(seen.values())


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
    "primeiro ultimo completo principal contato contacto kontakt osoba numero comercial",
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

# (The words that place a column in a group and a criterion are in ``group_words``.)

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
#: Words in a field's *values* that read like a rep's judgement of the lead after contact
#: ("Potential Lead", "Hot", "High in Relevance", "Might be", "Not interested", "Ringing",
#: "Will revert"): with a fill pattern that follows the outcome, sales set the field.
JUDGEMENT_VALUE_WORDS = words(
    "potential hot warm cold qualified unqualified relevance relevant irrelevant might maybe",
    "worst sure interested uninterested ringing revert reverted busy unreachable callback",
    "potencial quente morno frio qualificado desqualificado relevante interessado talvez",
    "caliente tibio calificado cualificado descalificado interesado quizas",
    "potencjalny goracy cieply zimny kwalifikowany zainteresowany niezainteresowany",
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
