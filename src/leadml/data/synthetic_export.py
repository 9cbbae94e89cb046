"""A messy web-form lead export, as a real CRM writes one: for trying leadml as a new user would.

Why a second synthetic table: :mod:`leadml.data.synthetic` is tidy by design (snake_case
names, a schema written for it). A real export is not: an EdTech company's web-form leads, with
"Yes"/"No" strings, ``Select`` placeholders, a creation date and a budget question in Portuguese
(``Data de criação``, ``Orçamento disponível``), fields sales set after the call, scores with
binned copies, the staff's names, personal data, and no timing question. The traits are known,
so a test can check that inference, the leakage guard and the explanations find them.

The generating process, per lead (log-odds of ``Converted``; overall about 37 %):

* **Latents**: intent ``z`` and means ``m``, both standard normal. Intent raises visits, time on
  the website and the chance to answer each question, and adds +0.7 directly; means drives the
  occupation and the budget answer.
* **Origin** (:data:`ORIGIN_EFFECT`: "Lead Add Form" +2.4, "Landing Page Submission" +0.25,
  "API" -0.35, "Lead Import" -0.9) and **source**, drawn per origin (:data:`SOURCE_EFFECT`:
  "Welingak Website" +1.8, "Reference" +1.2, "Facebook" -0.6, "Olark Chat" -0.9).
* **Engagement**: ``Total Time Spent on Website`` +2.6·(1 - exp(-t/500)) (strong, monotone);
  ``TotalVisits`` +0.25·log1p(v); ``Last Activity`` ("SMS Sent" +0.9, "Email Bounced" -0.9).
  Leads added by form or import mostly never browsed (0 visits, 0 time). Page views per visit
  carry nothing of their own.
* **Answers**: occupation ("Working Professional" +2.2, "Housewife" +1.5, "Unemployed" -0.2,
  "Student" -0.6), what matters most ("Better Career Prospects" +0.5, "Flexibility &
  Convenience" -0.3, "Other" -0.5), budget (-0.5 / +0.2 / +0.7 from "Até R$ 1.000" up),
  specialization (-0.2 … +0.2), ``Do Not Email`` = Yes -1.1, ``Through Recommendations`` = Yes
  +0.5. An unanswered question adds nothing: its signal is the intent that made it unanswered.
* **Placeholders carry signal**: a question is answered with probability sigmoid(a + b·z), a
  and b per origin (:data:`ANSWER`). A lead who saw the web form ("Landing Page Submission",
  "Lead Add Form") and skipped it gets ``Select`` ("Selecione" for the budget); a lead who
  never saw it ("API", "Lead Import") gets a blank (occupation and what matters most have no
  placeholder: blank either way). In ``Specialization``, ``How did you hear about us`` and
  ``City``, ``Select`` converts at about 42 % and blank at about 14 %.
* **Staff**: ``Sales Agent`` drawn at random, each with a close-rate effect of its own
  (:data:`AGENT_EFFECT`, -0.6 … +0.6); ``Manager`` is the agent's (four agents each).

Drawn **after** the outcome, as sales set them after contact (the leakage guard must catch them):
``Lead Profile`` ("Potential Lead" for 45 % of converted and 8 % of the others, a few other
profiles, else ``Select`` or blank at random), ``Lead Quality`` and ``Tags`` (shares per
outcome: :data:`QUALITY_P`, :data:`TAG_P`), ``Asymmetrique Activity Score`` (7–18, +1.2 for
converted, blank 45 %) and its binned copy ``Asymmetrique Activity Index`` (≥ 15 "01.High",
13–14 "02.Medium", ≤ 12 "03.Low", blank where the score is). ``Email`` and ``Phone`` are drawn
apart from everything: no signal. ``Lead Number`` rises with ``Data de criação`` (18 months
from July 2023); ``Prospect ID`` is a uuid4 drawn from the seed. There is no timing field.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Each question's values, how often each is drawn (_P) and its push on the log-odds (_EFFECT).
ORIGINS = ["Landing Page Submission", "API", "Lead Add Form", "Lead Import"]
ORIGIN_P, ORIGIN_EFFECT = [0.53, 0.39, 0.075, 0.005], np.array([0.25, -0.35, 2.4, -0.9])
FORM_ORIGINS = ("Landing Page Submission", "Lead Add Form")
#: Lead Source, drawn per origin (rows follow ORIGINS); None is a blank source.
SOURCES = ["Google", "google", "Direct Traffic", "Organic Search", "Olark Chat"]
SOURCES += ["Referral Sites", "Reference", "Welingak Website", "Facebook", None]
SOURCE_P = np.array(
    [
        [0.36, 0.01, 0.42, 0.15, 0.00, 0.04, 0.00, 0.00, 0.01, 0.01],
        [0.26, 0.01, 0.06, 0.12, 0.50, 0.02, 0.00, 0.00, 0.01, 0.02],
        [0.02, 0.00, 0.00, 0.00, 0.00, 0.00, 0.74, 0.21, 0.00, 0.03],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.95, 0.05],
    ]
)
SOURCE_EFFECT = np.array([0.1, 0.1, 0.0, 0.0, -0.9, -0.2, 1.2, 1.8, -0.6, 0.0])
#: Answer probability sigmoid(a + b·z) per origin (rows follow ORIGINS), per question kind.
ANSWER = {
    "form": np.array([[0.5, 0.7], [-0.4, 1.9], [-0.6, 0.4], [-2.0, 1.0]]),
    "profile": np.array([[1.4, 0.6], [0.2, 1.4], [1.5, 0.3], [-1.5, 1.0]]),
}
ACTIVITIES = ["Email Opened", "SMS Sent", "Olark Chat Conversation", "Page Visited on Website"]
ACTIVITIES += ["Converted to Lead", "Email Bounced", "Email Link Clicked"]
ACTIVITIES += ["Form Submitted on Website", "Unreachable", None]
ACTIVITY_P = [0.37, 0.3, 0.11, 0.07, 0.05, 0.035, 0.03, 0.015, 0.01, 0.01]
ACTIVITY_EFFECT = np.array([0.3, 0.9, -0.8, 0.0, -0.7, -0.9, 0.0, 0.0, -0.3, 0.0])
OCCUPATIONS = ["Unemployed", "Student", "Working Professional", "Other", "Housewife"]
OCCUPATION_EFFECT = np.array([-0.2, -0.6, 2.2, 0.0, 1.5])
MATTERS = ["Better Career Prospects", "Flexibility & Convenience", "Other"]
MATTERS_P, MATTERS_EFFECT = [0.965, 0.02, 0.015], np.array([0.5, -0.3, -0.5])
BUDGETS = ["Até R$ 1.000", "R$ 1.000 – 5.000", "Mais de R$ 5.000"]
BUDGET_EFFECT = np.array([-0.5, 0.2, 0.7])
SPECIALIZATIONS = ["Finance Management", "Human Resource Management", "Marketing Management"]
SPECIALIZATIONS += ["Operations Management", "Business Administration", "IT Projects Management"]
SPECIALIZATIONS += ["Supply Chain Management", "Banking, Investment And Insurance"]
SPECIALIZATIONS += ["Media and Advertising", "Travel and Tourism", "International Business"]
SPECIALIZATIONS += ["Healthcare Management", "Hospitality Management", "E-COMMERCE"]
SPECIALIZATIONS += ["Retail Management", "Rural and Agribusiness", "E-Business"]
SPECIALIZATIONS += ["Services Excellence"]
SPEC_P = [0.16, 0.14, 0.14, 0.09, 0.07, 0.06, 0.06, 0.05, 0.04, 0.04, 0.03, 0.03, 0.02, 0.02]
SPEC_P += [0.02, 0.015, 0.01, 0.005]
SPEC_EFFECT = np.array([0.1, 0.15, 0.2, 0.05, 0, 0, 0, 0.15, -0.1, -0.2, -0.05, 0.1, -0.15, -0.05])
SPEC_EFFECT = np.r_[SPEC_EFFECT, -0.1, 0.0, 0.0, -0.2]
HEARD = ["Online Search", "Word Of Mouth", "Student of SomeSchool", "Other", "Multiple Sources"]
HEARD += ["Advertisements", "Social Media", "Email", "SMS"]
HEARD_P = [0.35, 0.16, 0.15, 0.1, 0.08, 0.06, 0.05, 0.03, 0.02]
CITIES = ["São Paulo", "Rio de Janeiro", "Other Cities", "Belo Horizonte", "Other Metro Cities"]
CITIES += ["Tier II Cities"]
CITY_P = [0.5, 0.12, 0.16, 0.1, 0.09, 0.03]
COUNTRIES = ["Brazil", "Portugal", "United States", "Argentina", "Angola", "unknown"]
COUNTRY_P = [0.92, 0.02, 0.02, 0.015, 0.01, 0.015]
#: Sales-set fields, drawn from the outcome: rows are (not converted, converted).
PROFILES = ["Potential Lead", "Other Leads", "Student of SomeSchool", "Lateral Student"]
PROFILE_P = np.array([[0.08, 0.05, 0.04, 0.002], [0.45, 0.03, 0.005, 0.01]])
QUALITIES = ["High in Relevance", "Might be", "Not Sure", "Low in Relevance", "Worst", None]
QUALITY_P = np.array([[0.02, 0.14, 0.17, 0.04, 0.1, 0.53], [0.14, 0.2, 0.12, 0.06, 0.01, 0.47]])
TAGS = ["Will revert after reading the email", "Ringing", "Closed by Horizzon"]
TAGS += ["Interested in other courses", "Already a student", "switched off", "Busy", None]
TAG_P = np.array(
    [
        [0.07, 0.2, 0.002, 0.09, 0.07, 0.04, 0.02, 0.508],
        [0.55, 0.02, 0.15, 0.01, 0.005, 0.002, 0.02, 0.243],
    ]
)
MANAGERS = ["Dustin Brinkmann", "Melvin Marxen", "Cara Losch", "Rocco Neubert", "Celia Rouche"]
AGENTS = ["Moses Frase", "Darcel Schlecht", "Zane Levy", "Anna Snelling", "Vicki Laflamme"]
AGENTS += ["Kary Hendrixson", "Cecily Lampkin", "Versie Hillebrand", "Lajuana Vencill"]
AGENTS += ["Gladys Colclough", "Jonathan Berthelot", "Maureen Marcano", "Violet Mclelland"]
AGENTS += ["Corliss Cosme", "Rosie Papadopoulos", "Garret Kinder", "Wilburn Farren"]
AGENTS += ["Elizabeth Anderson", "Daniell Hammack", "Cassey Cress"]
#: Each agent's own push on the log-odds: a fixed shuffle of -0.6 … +0.6, the same for every seed.
AGENT_EFFECT = np.random.default_rng(20).permutation(np.linspace(-0.6, 0.6, len(AGENTS)))
FIRST = ["ana", "bruno", "carla", "diego", "elisa", "felipe", "gabriela", "hugo", "isabela"]
FIRST += ["joao", "karina", "lucas", "mariana", "nicolas", "olivia", "pedro", "rafaela", "thiago"]
LAST = ["silva", "santos", "oliveira", "souza", "rodrigues", "ferreira", "alves", "pereira"]
LAST += ["lima", "gomes", "costa", "ribeiro", "martins", "carvalho", "almeida", "lopes"]
AREA_CODES = [11, 21, 31, 41, 51, 61, 71, 81, 85, 19]
INTERCEPT = -2.65
ORIGIN_DAY = "2023-07-01"
WINDOW_DAYS = 549  # about 18 months
FIRST_LEAD_NUMBER = 579_533


def _labels(values: list, codes: np.ndarray) -> np.ndarray:
    """Codes into an object array of labels (None becomes NaN: a blank cell)."""
    return np.array([np.nan if v is None else v for v in values], dtype=object)[codes]


def _draw_by(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One level per row from ``table[group]`` (rows of shares): a vectorised conditional draw."""
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)[group]
    return np.minimum((rng.random(len(group))[:, None] > cum).sum(axis=1), table.shape[1] - 1)


def _uuid4(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random uuid4 strings from the seeded generator, vectorised (uuid.uuid4 is not seeded)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hex_digit = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    digits = np.delete(np.arange(36), [8, 13, 18, 23])
    text[:, digits[0::2]], text[:, digits[1::2]] = hex_digit[raw >> 4], hex_digit[raw & 0x0F]
    flat = text.tobytes().decode("ascii")
    return np.array([flat[i : i + 36] for i in range(0, 36 * n, 36)], dtype=object)


def _answered(rng: np.random.Generator, origin: np.ndarray, z: np.ndarray, kind: str) -> np.ndarray:
    """Who answers a question: more often with intent, at a rate set by the lead's origin."""
    a, b = ANSWER[kind][origin].T
    return rng.random(len(z)) < 1 / (1 + np.exp(-(a + b * z)))


def _unanswered(
    values: np.ndarray, answered: np.ndarray, saw_form: np.ndarray, word: str
) -> np.ndarray:
    """Skipped on the form: the form's placeholder; never shown the form: a blank cell."""
    out = values.copy()
    out[~answered & saw_form] = word
    out[~answered & ~saw_form] = np.nan
    return out


def generate_export(rows: int, seed: int = 0) -> pd.DataFrame:
    """A deterministic messy lead export of ``rows`` leads (same seed, same table); the
    generating process is in the module docstring. ``Converted`` is 0/1, blanks are NaN."""
    rng = np.random.default_rng(seed)
    n = rows
    seconds = np.sort(rng.random(n)) * WINDOW_DAYS * 86_400
    created = pd.Timestamp(ORIGIN_DAY) + pd.to_timedelta(np.round(seconds), unit="s")
    lead_number = FIRST_LEAD_NUMBER + np.cumsum(rng.integers(1, 4, n))
    origin = rng.choice(len(ORIGINS), size=n, p=ORIGIN_P)
    saw_form = np.isin(_labels(ORIGINS, origin), FORM_ORIGINS)
    z, m = rng.standard_normal(n), rng.standard_normal(n)
    source = _draw_by(rng, SOURCE_P, origin)

    # Engagement: leads added by form or import never browsed; half of chat leads did not.
    added = np.isin(_labels(ORIGINS, origin), ["Lead Add Form", "Lead Import"])
    never = added & (rng.random(n) < 0.9)
    never |= (source == SOURCES.index("Olark Chat")) & (rng.random(n) < 0.45)
    visits = np.where(never, 0, rng.poisson(np.exp(1.0 + 0.3 * z + 0.6 * rng.standard_normal(n))))
    on_site = np.exp(5.5 + 0.6 * z + 0.8 * rng.standard_normal(n))  # seconds, median ~4 minutes
    time_spent = np.where(visits == 0, 0, np.minimum(np.round(on_site), 2_272)).astype(int)
    pages = visits + rng.poisson(visits * 1.4)
    per_visit = np.round(np.divide(pages, visits, out=np.zeros(n), where=visits > 0), 2)
    activity = rng.choice(len(ACTIVITIES), size=n, p=ACTIVITY_P)

    # Answers: means drives occupation and budget; each question may be skipped.
    w = m + 0.5 * rng.standard_normal(n)
    occupation = np.select([w > 1.55, w < -2.1], [2, 1], default=0)
    other = rng.random(n)
    occupation = np.where(other < 0.003, 3, np.where(other > 0.9985, 4, occupation))
    budget = np.searchsorted([-0.4, 0.9], 0.8 * m + 0.6 * rng.standard_normal(n))
    matters = rng.choice(len(MATTERS), size=n, p=MATTERS_P)
    spec = rng.choice(len(SPECIALIZATIONS), size=n, p=np.array(SPEC_P) / sum(SPEC_P))
    profile_ok = _answered(rng, origin, z, "profile")
    budget_ok = _answered(rng, origin, z, "profile")
    spec_ok, heard_ok, city_ok = (_answered(rng, origin, z, "form") for _ in range(3))
    do_not_email = rng.random(n) < 0.08
    recommended = rng.random(n) < 0.008
    agent = rng.integers(0, len(AGENTS), n)

    logit = (
        INTERCEPT
        + ORIGIN_EFFECT[origin]
        + SOURCE_EFFECT[source]
        + 2.6 * (1 - np.exp(-time_spent / 500))
        + 0.25 * np.log1p(visits)
        + ACTIVITY_EFFECT[activity]
        + np.where(profile_ok, OCCUPATION_EFFECT[occupation] + MATTERS_EFFECT[matters], 0)
        + np.where(budget_ok, BUDGET_EFFECT[budget], 0)
        + np.where(spec_ok, SPEC_EFFECT[spec], 0)
        - 1.1 * do_not_email
        + 0.5 * recommended
        + 0.7 * z
        + AGENT_EFFECT[agent]
    )
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    # Set by sales after contact: drawn from the outcome.
    profile = _draw_by(rng, np.c_[PROFILE_P, 1 - PROFILE_P.sum(axis=1)], converted)
    profile = _labels([*PROFILES, "Select"], profile)
    profile[(profile == "Select") & (rng.random(n) < 0.36)] = np.nan
    score = np.clip(np.round(13.6 + 1.2 * converted + 1.3 * rng.standard_normal(n)), 7, 18)
    score[rng.random(n) < 0.45] = np.nan
    index = np.select([score >= 15, score >= 13], ["01.High", "02.Medium"], "03.Low").astype(object)
    # Personal data, drawn apart from everything: tables of parts, taken by index (fast).
    emails = np.array([f"{a}.{b}{k}@example.com" for a in FIRST for b in LAST for k in range(100)])
    four = np.array([f"{k:04d}" for k in range(10_000)], dtype=object)
    area = np.array([f"+55 {a} 9" for a in AREA_CODES], dtype=object)
    phone = area[rng.integers(0, len(area), n)] + four[rng.integers(0, 10_000, n)] + "-"
    phone += four[rng.integers(0, 10_000, n)]
    city = rng.choice(len(CITIES), size=n, p=CITY_P)
    heard = rng.choice(len(HEARD), size=n, p=HEARD_P)
    country = _labels(COUNTRIES, rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P))
    country[rng.random(n) < np.where(saw_form, 0.05, 0.55)] = np.nan

    occupation, matters = _labels(OCCUPATIONS, occupation), _labels(MATTERS, matters)
    specialization = _labels(SPECIALIZATIONS, spec)

    def yes_no(flag: np.ndarray) -> np.ndarray:
        return np.where(flag, "Yes", "No").astype(object)

    frame = pd.DataFrame(
        {
            "Prospect ID": _uuid4(rng, n),
            "Lead Number": lead_number,
            "Data de criação": created.strftime("%Y-%m-%d %H:%M:%S"),
            "Lead Origin": _labels(ORIGINS, origin),
            "Lead Source": _labels(SOURCES, source),
            "Do Not Email": yes_no(do_not_email),
            "Do Not Call": yes_no(rng.random(n) < 0.0003),
            "Converted": converted,
            "TotalVisits": visits.astype(float),
            "Total Time Spent on Website": time_spent,
            "Page Views Per Visit": per_visit,
            "Last Activity": _labels(ACTIVITIES, activity),
            "Country": country,
            "City": _unanswered(_labels(CITIES, city), city_ok, saw_form, "Select"),
            "Specialization": _unanswered(specialization, spec_ok, saw_form, "Select"),
            "What is your current occupation": np.where(profile_ok, occupation, np.nan),
            "What matters most to you in choosing a course": np.where(profile_ok, matters, np.nan),
            "Orçamento disponível": _unanswered(
                _labels(BUDGETS, budget), budget_ok, saw_form, "Selecione"
            ),
            "How did you hear about us": _unanswered(
                _labels(HEARD, heard), heard_ok, saw_form, "Select"
            ),
            "Search": yes_no(rng.random(n) < 0.015),
            "Newspaper Article": yes_no(rng.random(n) < 0.003),
            "Through Recommendations": yes_no(recommended),
            "A free copy of Mastering The Interview": yes_no(
                rng.random(n) < np.where(origin == 0, 0.55, 0.08)
            ),
            "Lead Profile": profile,
            "Lead Quality": _labels(QUALITIES, _draw_by(rng, QUALITY_P, converted)),
            "Tags": _labels(TAGS, _draw_by(rng, TAG_P, converted)),
            "Asymmetrique Activity Score": score,
            "Asymmetrique Activity Index": np.where(np.isnan(score), np.nan, index),
            "Sales Agent": _labels(AGENTS, agent),
            "Manager": _labels(MANAGERS, agent % len(MANAGERS)),
            "Email": emails.astype(object)[rng.integers(0, len(emails), n)],
            "Phone": phone,
        }
    )
    # Blank visit counts where the tracker lost the session, as real exports have them.
    lost = rng.random(n) < 0.015
    frame.loc[lost, ["TotalVisits", "Page Views Per Visit"]] = np.nan
    return frame
