"""Schema inference on hand-made CRM exports: one test per rule, plus the CLI verb."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.column_roles import ordinal_levels
from leadml.data.parse import parse_dates
from leadml.data.split import split_rows
from leadml.data.suggest import suggest_schema
from leadml.data.validate import validate
from leadml.errors import DataError
from leadml.features.encoder import FeatureEncoder
from leadml.schema import LeadSchema

N = 400
FIRST = ["Ana", "John", "Maria", "Piotr", "Lucas", "Sofia", "David", "Zofia", "Javier", "Emma"]
LAST = ["Silva", "Smith", "Nowak", "Garcia", "Costa", "Brown", "Kowalski", "Santos", "Lopez"]


def crm_export(n: int = N, seed: int = 0) -> pd.DataFrame:
    """A small raw export with one column for each inference rule."""
    rng = np.random.default_rng(seed)
    pick = lambda values, p=None: rng.choice(values, n, p=p)  # noqa: E731
    people = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(n)]
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 300, n)), "D")
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "Unnamed: 0": np.arange(n),
            "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
            "last_activity_date": (created + pd.to_timedelta(rng.integers(0, 30, n), "D")).strftime(
                "%Y-%m-%d"
            ),
            "contact": [f"{p.split()[0].lower()}{i}@example.com" for i, p in enumerate(people)],
            "field_7": [
                f"+48 {rng.integers(100, 999)} {rng.integers(100, 999)} 123" for _ in people
            ],
            "contact_person": people,
            "Nome": pick(["a", "b", "c"]),
            "email_opens": rng.poisson(3, n),
            "employees": rng.integers(5, 5000, n),
            "newsletter": pick(["Sim", "Não"]),
            "webinar": pick([0, 1]),
            "orçamento": pick(["< 10k", "10k–50k", "50k–100k", "> 100k", "Select"]),
            "presupuesto_anual": rng.normal(5e4, 1e4, n).round(2),
            "budżet": rng.integers(0, 100, n),
            "cargo": pick(["Gerente de TI", "Diretor Comercial", "Analista", "CEO", "N/A"]),
            "prazo": pick(["Imediato", "3 meses", "6 meses", "12 meses", "-"]),
            "potrzeba": pick(["niska", "średnia", "wysoka", ""]),
            "q7": pick(["Sales Manager", "IT Director", "CFO", "Analyst", "Head of Ops"]),
            "industry": pick(["Retail", "Software", "Banking", "unknown"]),
            "campaign_id": pick([f"c{i}" for i in range(8)]),
            "page_url": [f"https://x.example/p/{rng.integers(0, 120)}" for _ in range(n)],
            "free_text": [f"called on {i} about offer {rng.integers(1e6)}" for i in range(n)],
            "region_code": ["PL"] * n,
            "x17": rng.normal(size=n),
            "revenue_txt": [str(v) if v % 20 else "n.d." for v in rng.integers(1, 1000, n)],
            "Status": pick(["Won", "Lost"], p=[0.3, 0.7]),
        }
    )


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return crm_export()


@pytest.fixture(scope="module")
def inferred(export: pd.DataFrame):
    return suggest_schema(export, "Status")


def spec(inferred, name: str):
    return inferred.schema.feature(name)


def test_kinds(inferred) -> None:
    kinds = {f.name: f.kind for f in inferred.schema.features}
    assert kinds["employees"] == kinds["presupuesto_anual"] == kinds["x17"] == "numeric"
    assert kinds["newsletter"] == kinds["webinar"] == "boolean"
    assert kinds["industry"] == kinds["cargo"] == kinds["campaign_id"] == "categorical"
    # A few stray words in a numeric column become placeholders, not a category.
    assert kinds["revenue_txt"] == "numeric"
    assert "n.d." in inferred.schema.missing_values


def test_ordinal_scales_and_ranges(inferred) -> None:
    assert spec(inferred, "orçamento").kind == "ordinal"
    assert spec(inferred, "orçamento").levels == ["< 10k", "10k–50k", "50k–100k", "> 100k"]
    assert spec(inferred, "potrzeba").levels == ["niska", "średnia", "wysoka"]
    assert ordinal_levels(["High", "Low", "Medium"]) == (
        ["Low", "Medium", "High"],
        "a low/medium/high scale",
    )
    assert ordinal_levels(["51-200", "1-10", "11-50", "500+"])[0] == [
        "1-10",
        "11-50",
        "51-200",
        "500+",
    ]
    assert ordinal_levels(["red", "green", "blue"]) is None


def test_identifiers_are_excluded(inferred) -> None:
    schema = inferred.schema
    assert schema.id == "lead_id"
    assert "Unnamed: 0" in schema.exclude  # a row number: unique, increasing integers
    assert "free_text" in schema.exclude  # unique text per row
    for column in ("lead_id", "Unnamed: 0", "free_text"):
        assert column not in schema.feature_names
    # A key into another table repeats: it is a category, said so.
    assert any("reference to another table" in n for n in inferred.columns["campaign_id"].notes)


def test_constant_columns_are_excluded(inferred) -> None:
    assert "region_code" in inferred.schema.exclude
    assert "single value" in inferred.columns["region_code"].notes[0]


def test_time_column_and_derived_date_features(inferred) -> None:
    schema = inferred.schema
    assert schema.time == "created_at"
    derived = {f.name: (f.kind, f.source) for f in schema.features if f.source}
    # 300 days of history: weekday yes, month no (it would stand in for the date).
    assert derived == {
        "created_at_weekday": ("weekday", "created_at"),
        "last_activity_date_age_days": ("age_days", "last_activity_date"),
    }
    assert any("cannot show seasons" in n for n in inferred.columns["created_at"].notes)


def test_month_is_derived_from_a_long_history_and_earliest_date_is_time() -> None:
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, 300), "D")
    frame = pd.DataFrame(
        {
            "follow_up": (start + pd.Timedelta(days=9)).strftime("%d/%m/%Y"),
            "arrived": start.strftime("%Y-%m-%d"),
            "score": rng.normal(size=300),
            "won": rng.choice(["yes", "no"], 300),
        }
    )
    schema = suggest_schema(frame, "won").schema
    assert schema.time == "arrived"  # no "created" in any name: the earliest date wins
    kinds = {f.name: f.kind for f in schema.features if f.source == "arrived"}
    assert kinds == {"arrived_month": "month", "arrived_weekday": "weekday"}


def test_date_features_are_computed_the_same_at_scoring_time(inferred, export) -> None:
    checked = validate(export, inferred.schema, min_class_count=1)
    fitted = FeatureEncoder.fit(checked.schema, checked.frame)
    encoder = FeatureEncoder.from_dict(fitted.to_dict())
    matrix = encoder.transform(encoder.parse(export.head(25)))
    for i, lead in enumerate(export.head(25).to_dict(orient="records")):
        np.testing.assert_array_equal(encoder.encode_row(lead)[0], matrix[i])
    j = encoder.names.index("last_activity_date_age_days")
    lead = {"created_at": "2024-03-10 09:00:00", "last_activity_date": "2024-03-01"}
    assert encoder.encode_row(lead)[0, j] == pytest.approx(9.375)
    # Sent without its own time, a lead is aged at scoring time (now), so it is ~ years.
    assert encoder.encode_row({"last_activity_date": "2024-03-01"})[0, j] > 300
    # A blank time leaves the age unknown, as it does in a batch.
    assert math.isnan(encoder.encode_row({**lead, "created_at": ""})[0, j])
    k = encoder.names.index("created_at_weekday")
    assert encoder.encode_row(lead)[0, k] == 6  # 10 March 2024 was a Sunday


def test_placeholders_mean_missing(inferred, export) -> None:
    schema = inferred.schema
    assert {"Select", "N/A", "-", "", "unknown"} <= set(schema.missing_values)
    assert inferred.placeholders["orçamento"] == ["'Select'"]
    encoder = FeatureEncoder.fit(schema, export)
    j = encoder.names.index("cargo")
    assert math.isnan(encoder.encode_row({"cargo": "N/A"})[0, j])
    assert not math.isnan(encoder.encode_row({"cargo": "CEO"})[0, j])


def test_high_cardinality_and_near_unique_text(inferred) -> None:
    assert "page_url" in inferred.high_cardinality  # 120 pages over 400 leads: kept, pooled
    assert spec(inferred, "page_url").kind == "categorical"
    assert inferred.columns["free_text"].role == "excluded"  # unique on every row
    rng = np.random.default_rng(3)
    notes = [f"note {i}" for i in rng.integers(0, 200, 300)]  # ~70% distinct: free text
    frame = pd.DataFrame({"notes": notes, "n": rng.integers(0, 9, 300), "y": [0, 1] * 150})
    found = suggest_schema(frame, "y")
    assert found.schema.exclude == ["notes"]
    assert "near-unique text" in found.columns["notes"].notes[0]


def test_pii_by_content_under_innocent_names(inferred) -> None:
    schema = inferred.schema
    assert {"contact", "field_7", "contact_person"} <= set(schema.pii)
    assert "e-mail" in inferred.columns["contact"].notes[0]
    assert "phone" in inferred.columns["field_7"].notes[0]
    assert "names" in inferred.columns["contact_person"].notes[0]
    # Job titles are Title Case too, but not people.
    assert "q7" not in schema.pii and "q7" in schema.feature_names


def test_pii_by_name_but_not_lookalikes(inferred) -> None:
    schema = inferred.schema
    assert "Nome" in schema.pii  # Portuguese "name", whatever it holds
    assert "email_opens" in schema.feature_names  # a count, not an address
    for name in ("e-mail", "telefone_celular", "nazwisko", "Apellido", "first_name", "ip_address"):
        frame = pd.DataFrame(
            {name: ["x", "y"] * 50, "y": [0, 1] * 50, "n": [i % 7 for i in range(100)]}
        )
        assert suggest_schema(frame, "y").schema.pii == [name], name
    for name in ("company_name", "landing_page_name", "email_clicks"):
        frame = pd.DataFrame(
            {name: ["x", "y"] * 50, "y": [0, 1] * 50, "n": [i % 7 for i in range(100)]}
        )
        assert suggest_schema(frame, "y").schema.pii == [], name


def test_pii_never_leaks_into_features_or_the_toml(inferred, export) -> None:
    schema = inferred.schema
    assert not set(schema.pii) & {f.column for f in schema.features}
    text = inferred.to_toml("export.csv")
    for column in ("contact", "field_7", "contact_person"):
        assert not any(str(v) in text for v in export[column].head(50))


@pytest.mark.parametrize(
    ("column", "criterion"),
    [
        ("orçamento", "budget"),
        ("presupuesto_anual", "budget"),
        ("budżet", "budget"),
        ("cargo", "authority"),
        ("prazo", "timing"),
        ("potrzeba", "need"),
        ("q7", "authority"),  # from its values: job titles
    ],
)
def test_bant_criteria_from_names_and_values(inferred, column: str, criterion: str) -> None:
    assert spec(inferred, column).criterion == criterion


@pytest.mark.parametrize(
    ("name", "criterion"),
    [
        ("budget", "budget"),
        ("Presupuesto", "budget"),
        ("job_role", "authority"),
        ("stanowisko", "authority"),
        ("purchase_timeline", "timing"),
        ("plazo_de_compra", "timing"),
        ("termin_zakupu", "timing"),
        ("business_need", "need"),
        ("necesidad", "need"),
        ("necessidade", "need"),
    ],
)
def test_multilingual_column_names(name: str, criterion: str) -> None:
    frame = pd.DataFrame({name: ["a", "b", "c", "d"] * 25, "y": [0, 1] * 50})
    assert suggest_schema(frame, "y").schema.feature(name).criterion == criterion


def test_groups_and_unassigned_columns(inferred) -> None:
    assert spec(inferred, "employees").group == "firmographic"
    assert spec(inferred, "email_opens").group == "engagement"
    assert spec(inferred, "industry").group == "firmographic"
    assert spec(inferred, "x17").group == "other"
    assert spec(inferred, "x17").criterion == "none"
    assert "x17" in inferred.unassigned
    assert any(line.startswith("unassigned") and "x17" in line for line in inferred.summary())


def test_target_values_and_positive() -> None:
    frame = crm_export(120)
    assert suggest_schema(frame, "Status").schema.positive == "Won"
    coded = frame.assign(Status=np.where(frame["Status"] == "Won", "A", "B"))
    with pytest.raises(DataError, match="--positive"):
        suggest_schema(coded, "Status")
    assert suggest_schema(coded, "Status", positive="A").schema.positive == "A"
    with pytest.raises(DataError, match="target column 'converted' not found"):
        suggest_schema(frame, "converted")
    live = suggest_schema(frame.assign(Status=["Won", "Lost", "Open"] * 40), "Status").schema
    assert (live.positive, live.negative, live.open) == ("Won", ["Lost"], ["Open"])
    with pytest.raises(DataError, match="cannot tell whether 'qualified'"):
        suggest_schema(frame.assign(Status=["Won", "Lost", "Qualified"] * 40), "Status")


def test_the_toml_round_trips(inferred, tmp_path: Path) -> None:
    path = tmp_path / "schema.toml"
    path.write_text(inferred.to_toml("export.csv"), encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8"))["target"] == "Status"
    assert LeadSchema.load(path) == inferred.schema


def test_cli_schema_infer_writes_a_schema_and_previews_the_guard(
    tmp_path: Path, export: pd.DataFrame
) -> None:
    data = tmp_path / "export.csv"
    export.assign(deal_stage=np.where(export["Status"] == "Won", "closing", "qualifying")).to_csv(
        data, sep=";", index=False
    )
    out = tmp_path / "schema.toml"
    done = CliRunner().invoke(
        app, ["schema", "infer", "--data", str(data), "--target", "Status", "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    schema = LeadSchema.load(out)
    assert schema.id == "lead_id" and schema.time == "created_at"
    assert {"contact", "field_7", "contact_person"} <= set(schema.pii)
    assert "leakage guard will leave out 'deal_stage'" in done.output
    assert "leakage guard will leave out 'deal_stage'" in out.read_text(encoding="utf-8")
    printed = CliRunner().invoke(
        app, ["schema", "infer", "--data", str(data), "--target", "Status"]
    )
    assert printed.exit_code == 0
    assert 'target = "Status"' in printed.stdout


def test_cli_schema_infer_errors_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv(data, index=False)
    done = CliRunner().invoke(app, ["schema", "infer", "--data", str(data), "--target", "nope"])
    assert done.exit_code == 2
    assert "target column 'nope' not found" in done.output
    assert "Traceback" not in done.output


def test_time_column_with_daylight_saving_offsets() -> None:
    """CRM timestamps change UTC offset twice a year; inference, validation and split cope."""
    rng = np.random.default_rng(9)
    winter = [f"2024-03-{d:02d}T10:00:00+01:00" for d in range(1, 31)]
    summer = [f"2024-04-{d:02d}T10:00:00+02:00" for d in range(1, 31)]
    frame = pd.DataFrame(
        {
            "created_at": (winter + summer) * 5,
            "visits": rng.poisson(3, 300),
            "won": rng.choice(["yes", "no"], 300),
        }
    )
    schema = suggest_schema(frame, "won").schema
    assert schema.time == "created_at"
    checked = validate(frame, schema, min_class_count=10)
    split = split_rows(checked.frame, checked.y, schema)
    assert split.method == "time (created_at)"
    stamps = parse_dates(frame["created_at"])
    assert stamps.iloc[split.test].min() >= stamps.iloc[split.train].max()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcomes", "deals.csv"], "--outcomes needs --on KEY"),
        (["--target", "won", "--on", "lead_id"], "--on KEY goes with --outcomes FILE"),
        (["--outcomes", "deals.csv", "--on", "nope"], "--on column 'nope' is not in the lead"),
    ],
)
def test_cli_outcome_options_errors(tmp_path: Path, monkeypatch, args, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"lead_id": [1, 2], "won": ["yes", "no"]}).to_csv("leads.csv", index=False)
    pd.DataFrame({"lead_id": [1]}).to_csv("deals.csv", index=False)
    done = CliRunner().invoke(app, ["schema", "infer", "--data", "leads.csv", *args])
    assert done.exit_code == 2, done.output
    assert message in done.output


# -- categories that only memorise ---------------------------------------------------------------
def funnel(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """A marketing-funnel export: busy landing pages, a partner per lead, and columns whose
    values are mostly seen once or twice."""
    rng = np.random.default_rng(seed)
    pages = [rng.bytes(16).hex() for _ in range(60)]
    return pd.DataFrame(
        {
            "mql_id": [f"M{i:05d}" for i in range(n)],
            "landing_page": rng.choice(pages, n),  # hashes, ten leads each: real signal
            "partner_id": rng.choice([f"p{i}" for i in range(60)], n),  # an id by name, busy
            "session_hash": [rng.bytes(8).hex() for _ in range(n // 2) for _ in (0, 1)],
            "page_slug": np.concatenate(  # most rows in pages seen once or twice
                [[f"p{i}" for i in range(160) for _ in (0, 1)], rng.choice(["home", "blog"], 280)]
            ),
            "campaign_id": rng.choice([f"c{i}" for i in range(8)], n),  # few: a reference
            "industry": rng.choice(["Retail", "Software", "Banking"], n),
            "visits": rng.poisson(3, n),
            "won": rng.choice(["yes", "no"], n),
        }
    )


def test_categories_that_only_memorise_are_left_out_said_why() -> None:
    from leadml.explain.reasons import can_be_reason

    found = suggest_schema(funnel(), "won")
    schema = found.schema
    assert set(schema.exclude) == {"session_hash", "page_slug"}
    assert {"landing_page", "partner_id", "campaign_id", "industry", "visits"} <= set(
        schema.feature_names
    )
    notes = {c: "; ".join(found.columns[c].notes) for c in schema.exclude}
    assert "identifier" in notes["session_hash"]
    assert "seen fewer than 3 times" in notes["page_slug"] and "only memorise" in notes["page_slug"]
    lines = [line for line in found.summary() if line.startswith("left out:")]
    assert len(lines) == 2
    # Busy hashes and ids stay features (they carry signal) but are never worded as reasons.
    pages = sorted(funnel()["landing_page"].unique())
    assert not can_be_reason("landing_page", "categorical", pages)
    assert not can_be_reason("partner_id", "categorical", [f"p{i}" for i in range(60)])
    assert can_be_reason("industry", "categorical", ["Retail", "Software", "Banking"])
    assert any("never worded as a reason" in n for n in found.columns["campaign_id"].notes)


def test_dates_derived_by_inference_read_as_days_ago(inferred) -> None:
    from leadml.explain.reasons import reason_text

    age = spec(inferred, "last_activity_date_age_days")
    assert reason_text(age, age.name, age.kind, 1.2) == "Last activity date: 1 day ago"
    assert reason_text(age, age.name, age.kind, 30.0) == "Last activity date: 30 days ago"
    weekday = spec(inferred, "created_at_weekday")
    assert reason_text(weekday, weekday.name, weekday.kind, 1) == "Created at: a Tuesday"


def test_real_funnel_export_keeps_its_landing_pages_but_never_words_them(
    shared_data: Path,
) -> None:
    """Olist's landing page ids are hashes, but most leads share a busy page: the column
    carries signal (the data's README expects it), so it stays a feature, never a reason."""
    from leadml.data.read import read_table
    from leadml.explain.reasons import can_be_reason

    folder = shared_data / "olist-marketing-funnel"
    leads = read_table(folder / "olist_marketing_qualified_leads_dataset.csv")
    found = suggest_schema(leads.assign(won=np.arange(len(leads)) % 9 == 0), "won")
    assert found.schema.id == "mql_id"
    assert {"origin", "landing_page_id"} <= set(found.schema.feature_names)
    pages = leads["landing_page_id"].dropna().unique().tolist()
    assert not can_be_reason("landing_page_id", "categorical", pages)
    assert can_be_reason("origin", "categorical", leads["origin"].dropna().unique().tolist())


# -- a web-form export: groups, criteria and staff -----------------------------------------------
def web_form_export(n: int = 600, seed: int = 11) -> pd.DataFrame:
    """An EdTech-style export as the issue describes it: form answers (one in Portuguese),
    channel tick boxes, opt-ins, activity counts, and the reps and managers who worked it."""
    rng = np.random.default_rng(seed)
    pick = lambda values: rng.choice(values, n)  # noqa: E731
    yes_no = ["Yes", "No"]
    return pd.DataFrame(
        {
            "Prospect ID": [f"{rng.bytes(8).hex()}-{i}" for i in range(n)],
            "Lead Origin": pick(["Landing Page Submission", "API", "Lead Add Form"]),
            "Lead Source": pick(["Google", "Direct Traffic", "Organic Search", "Referral Sites"]),
            "Do Not Email": pick(yes_no),
            "Converted": rng.integers(0, 2, n),
            "TotalVisits": rng.poisson(3, n),
            "Total Time Spent on Website": rng.integers(0, 2000, n),
            "Country": pick(["Brazil", "India", "Portugal"]),
            "Specialization": pick(["Finance Management", "Marketing Management", "Select"]),
            "What is your current occupation": pick(["Unemployed", "Student", "Working Pro"]),
            "What matters most to you in choosing a course": pick(
                ["Better Career Prospects", "Flexibility & Convenience", "Other"]
            ),
            "Orçamento disponível": pick(
                ["Até R$ 1.000", "R$ 1.000 – 5.000", "Mais de R$ 5.000", "Selecione"]
            ),
            "How did you hear about us": pick(["Online Search", "Word Of Mouth", "Select"]),
            "Search": pick(yes_no),
            "Through Recommendations": pick(yes_no),
            "A free copy of Mastering The Interview": pick(yes_no),
            "Receive More Updates About Our Courses": pick(yes_no),
            "q17": rng.normal(size=n),
            "Sales Agent": pick(["Wilburn Farren", "Ana Silva", "Piotr Nowak", "Moses Frase"]),
            "Manager": pick(["Melvin Marxen", "Dustin Brinkmann"]),
            "Job title": pick(["Manager", "Director", "Analyst", "Student"]),
        }
    )


@pytest.fixture(scope="module")
def web_form() -> pd.DataFrame:
    return web_form_export()


def test_a_web_form_export_feeds_budget_authority_and_need(web_form: pd.DataFrame) -> None:
    found = suggest_schema(web_form, "Converted")
    placed = {f.name: (f.group, f.criterion) for f in found.schema.features}
    assert placed["Orçamento disponível"] == ("qualification", "budget")
    assert placed["What is your current occupation"] == ("demographic", "authority")
    assert placed["Job title"] == ("demographic", "authority")  # "Manager" values: not staff
    assert placed["What matters most to you in choosing a course"] == ("qualification", "need")
    assert placed["Specialization"] == ("qualification", "need")
    for column in ("Lead Origin", "Lead Source", "How did you hear about us", "Search"):
        assert placed[column] == ("source", "none"), column
    for column in ("Do Not Email", "TotalVisits", "Receive More Updates About Our Courses"):
        assert placed[column] == ("engagement", "none"), column
    assert found.unassigned == ["q17"]
    fed = {c for c, features in found.schema.criteria().items() if features}
    assert {"budget", "authority", "need"} <= fed


def test_evidence_in_one_line_per_feature(web_form: pd.DataFrame) -> None:
    lines = suggest_schema(web_form, "Converted").summary()
    assert (
        "'What matters most to you in choosing a course' → need (qualification): name words "
        "'matters', 'choosing', 'course'"
    ) in lines
    assert "'Search' → source: a yes/no flag named for a channel" in lines
    assert "'Orçamento disponível' → budget (qualification): name word 'Orçamento'" in lines
    unassigned = [line for line in lines if line.startswith("unassigned")]
    assert len(unassigned) == 1 and "'q17'" in unassigned[0]
    assert "leadml schema infer --out FILE" in unassigned[0] and "--schema FILE" in unassigned[0]
    # Every feature is said once: placed, or unassigned.
    said = [line for line in lines if " → " in line]
    features = [f.name for f in suggest_schema(web_form, "Converted").schema.features]
    assert len(said) == len([f for f in features if f != "q17"])


def test_staff_columns_are_left_out_with_the_flag_that_keeps_them(web_form: pd.DataFrame) -> None:
    from leadml.data.suggest import allow_staff

    found = suggest_schema(web_form, "Converted")
    schema = found.schema
    assert {"Sales Agent", "Manager"} <= set(schema.exclude)
    assert not {"Sales Agent", "Manager"} & (set(schema.pii) | set(schema.feature_names))
    lines = [line for line in found.summary() if line.startswith("staff, left out:")]
    assert len(lines) == 2
    assert "who worked the lead (staff), not a trait of the lead" in lines[0]
    assert "--allow 'Sales Agent'" in lines[0] and lines[1].endswith("--allow Manager)")
    # --allow brings a staff column back, as a category; other names are the guard's.
    kept = allow_staff(schema, ["Sales Agent", "Do Not Email", "Sales Agent"])
    assert kept.feature("Sales Agent").kind == "categorical"
    assert kept.feature("Sales Agent").group == "staff"
    assert "Sales Agent" not in kept.exclude and "Manager" in kept.exclude
    assert len(kept.features) == len(schema.features) + 1
    assert allow_staff(schema, ["q17"]) is schema and allow_staff(schema, None) is schema
    # The staff column's values (people's names) never reach the TOML.
    text = found.to_toml("export.csv")
    assert not any(name in text for name in web_form["Sales Agent"].unique())
    assert LeadSchema.from_dict(tomllib.loads(text)) == schema


def test_cli_allow_brings_a_staff_column_back(web_form: pd.DataFrame) -> None:
    from leadml.cli.options import schema_options

    schema = suggest_schema(web_form, "Converted").schema
    kept = schema_options(schema, ["Manager"], False)
    assert "Manager" in kept.feature_names and "Manager" not in kept.exclude
    assert kept.leakage_allowed == ["Manager"]  # recorded in the bundle, like any --allow
    assert schema_options(schema, None, False) == schema
