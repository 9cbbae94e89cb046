"""The fairness audit: groups from audit columns, fairlearn's figures against a plain groupby,
the 80 % rule, proxy detection (a planted proxy named, an unrelated feature not), the report
section, ``leadml audit`` on a cheap trained model, and bank-full by age and marital status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadml.data.read import read_table
from leadml.data.synthetic import generate_leads
from leadml.fairness.audit import audit_leads, metrics_for_mlflow
from leadml.fairness.groups import MISSING, OTHER, audit_groups
from leadml.fairness.metrics import _weighted_auc, group_rows, point_figures
from leadml.fairness.proxies import PROXY_AUC, proxy_scores
from leadml.modeling.train import train_leads
from leadml.report.audit_section import audit_section
from leadml.report.plots_audit import plot_audit
from leadml.schema import bundled_schema
from leadml.schema.spec import FeatureSpec
from tests.support.cli import cli
from tests.support.training import cheap_settings

SEED = 11


# -- groups ----------------------------------------------------------------------------------------
def test_ages_fall_in_readable_bands_and_missing_is_a_group() -> None:
    ages = pd.Series([17, 18, 29, 30, 39.5, 45, 59, 60, 88, None, np.nan], name="age")
    grouping = audit_groups(ages)
    assert grouping.labels.tolist() == [
        "under 18",
        "18–29",
        "18–29",
        "30–39",
        "30–39",
        "40–49",
        "50–59",
        "60+",
        "60+",
        MISSING,
        MISSING,
    ]
    assert grouping.order == ["under 18", "18–29", "30–39", "40–49", "50–59", "60+", MISSING]


def test_other_numbers_get_quantile_bands_with_round_edges() -> None:
    rng = np.random.default_rng(0)
    grouping = audit_groups(pd.Series(rng.lognormal(5, 1, 2000), name="balance"))
    assert grouping.how == "quantile bands"
    assert len(grouping.order) == 4
    assert grouping.order[0].startswith("under ") and grouping.order[-1].endswith("+")
    # edges of two significant figures: 74 or 140, never 73.918…
    assert all("." not in label for label in grouping.order), grouping.order


def test_rare_categories_join_other() -> None:
    marital = pd.Series(["married"] * 60 + ["single"] * 40 + ["widowed"] * 5 + ["sep"] * 3)
    marital = pd.concat([marital, pd.Series([None, "  "])], ignore_index=True)
    grouping = audit_groups(marital.rename("marital"))
    assert grouping.order == ["married", "single", OTHER, MISSING]
    counts = grouping.labels.value_counts()
    assert counts[OTHER] == 8 and counts[MISSING] == 2


# -- figures ---------------------------------------------------------------------------------------
def _table(n: int = 3000) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    groups = pd.Series(rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]), name="g")
    p = np.round(rng.beta(2, 5, n), 2)  # ties on purpose
    y = (rng.random(n) < p).astype(np.float64)
    y[rng.random(n) < 0.2] = np.nan  # not known yet
    return groups, p, y


def test_metricframe_figures_equal_a_plain_groupby() -> None:
    groups, p, y = _table()
    cutoff = 0.3
    figures = point_figures(groups, p, y, cutoff)
    frame = pd.DataFrame({"g": groups, "p": p, "y": y, "sel": p >= cutoff})
    for group, rows in frame.groupby("g"):
        row = figures.loc[group]
        known = rows.dropna(subset=["y"])
        assert row["leads"] == len(rows)
        assert row["selection_rate"] == pytest.approx(rows["sel"].mean())
        assert row["mean_probability"] == pytest.approx(rows["p"].mean())
        assert row["settled"] == len(known)
        assert row["observed_conversion"] == pytest.approx(known["y"].mean())
        assert row["tpr"] == pytest.approx(known.loc[known["y"] == 1, "sel"].mean())
        assert row["fpr"] == pytest.approx(known.loc[known["y"] == 0, "sel"].mean())
        assert row["roc_auc"] == pytest.approx(roc_auc_score(known["y"], known["p"]))


def test_the_bootstrap_auc_is_roc_auc_with_the_draws_as_weights() -> None:
    rng = np.random.default_rng(3)
    for decimals in (1, 6):  # many ties, none
        p = np.sort(np.round(rng.random(400), decimals))
        y = (rng.random(400) < 0.4).astype(np.float64)
        w = rng.integers(0, 3, size=(2, 400)).astype(np.float64)
        got = _weighted_auc(p, y, w)
        for k in range(2):
            assert got[k] == pytest.approx(roc_auc_score(y, p, sample_weight=w[k]))


def test_the_80_percent_rule_flags_a_group_below_it() -> None:
    # a: 50 % selected, b: 30 % (ratio 0.6), c: 45 % (0.9); d: 10 leads, not compared
    def lots(name: str, share: float, n: int) -> tuple[list[str], list[float]]:
        chosen = round(share * n)
        return [name] * n, [0.9] * chosen + [0.1] * (n - chosen)

    labels, p = [], []
    for name, share, n in (("a", 0.5, 400), ("b", 0.3, 400), ("c", 0.45, 400), ("d", 0.0, 10)):
        more_labels, more_p = lots(name, share, n)
        labels += more_labels
        p += more_p
    rows = group_rows(pd.Series(labels), ["a", "b", "c", "d"], np.array(p), None, 0.5, seed=1)
    by = {r["group"]: r for r in rows}
    assert by["b"]["ratio"] == pytest.approx(0.6) and by["b"]["flagged"]
    assert by["c"]["ratio"] == pytest.approx(0.9) and not by["c"]["flagged"]
    assert by["a"]["ratio"] == 1.0 and not by["a"]["flagged"]
    assert by["d"]["ratio"] is None and not by["d"]["flagged"]
    low, high = by["b"]["ratio_ci"]
    assert low < 0.6 < high and high < 0.8
    assert "tpr" not in by["a"]  # no outcomes: selection and mean probability only


def _planted(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An audit column (age) and features: one made from it plus noise, one unrelated."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(np.float64)
    features = pd.DataFrame(
        {
            "tenure_years": age / 2 + rng.normal(0, 4, n),
            "site_visits": rng.poisson(4, n).astype(np.float64),
            "industry": rng.choice(["retail", "tech", "health", "energy"], n),
        }
    )
    return pd.DataFrame({"age": age}), features


def test_a_planted_proxy_is_named_and_an_unrelated_feature_is_not() -> None:
    audit, features = _planted(4000, SEED)
    found = {
        p.feature: p
        for p in proxy_scores(features, "age", audit_groups(audit["age"]).labels, seed=SEED)
    }
    assert found["tenure_years"].proxy and found["tenure_years"].roc_auc >= PROXY_AUC
    assert found["tenure_years"].mutual_information > 0.1
    for other in ("site_visits", "industry"):
        assert not found[other].proxy and found[other].roc_auc < 0.6


def test_the_audit_says_it_in_sentences_and_flat_metrics() -> None:
    audit, features = _planted(3000, SEED)
    # the SQL cut-off selects older leads far more often
    p = np.clip(audit["age"].to_numpy() / 100, 0, 1)
    y = (np.random.default_rng(2).random(3000) < p).astype(np.float64)
    result = audit_leads(audit, features, p, y, 0.5, seed=SEED, resamples=50)
    data = json.loads(json.dumps(result.to_dict()))  # JSON-ready
    column = data["columns"]["age"]
    assert [r["group"] for r in column["groups"]] == ["18–29", "30–39", "40–49", "50–59", "60+"]
    assert column["flagged"] == ["18–29", "30–39", "40–49"]
    lines = result.lines()
    top = "100 % of leads aged 50–59: ratio 0.00"  # 50–59 and 60+ all selected: the first
    assert f"the SQL cut-off selects 0 % of leads aged 18–29 and {top}" in "\n".join(lines)
    assert all(line.endswith("below 0.8") for line in lines if "ratio" in line), lines
    assert any(line.startswith("tenure_years predicts age (ROC AUC") for line in lines)
    assert all("unfair" not in line and "bias" not in line for line in lines)
    flat = metrics_for_mlflow(data)
    assert flat["audit.age.min_selection_ratio"] == 0.0
    assert flat["audit.age.flagged_groups"] == 3.0 and flat["audit.age.proxies"] == 1.0
    assert all(isinstance(v, float) for v in flat.values())


def test_the_report_section_shows_a_table_per_column(tmp_path: Path) -> None:
    audit, features = _planted(1500, SEED)
    audit["marital"] = np.random.default_rng(5).choice(["married", "single"], 1500)
    p = np.random.default_rng(6).random(1500)
    data = audit_leads(audit, features, p, None, 0.7, seed=SEED, resamples=20).to_dict()
    html = audit_section(data)
    assert html.count("<table>") >= 2 and "<h3>age" in html and "<h3>marital" in html
    assert "60+" in html and "married" in html
    written = plot_audit(data, tmp_path / "audit.png")
    assert written.read_bytes()[:4] == b"\x89PNG"


# -- leadml audit ----------------------------------------------------------------------------------
def _with_age(leads: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, len(leads))
    return leads.assign(age=age, tenure_years=np.round(age / 2 + rng.normal(0, 4, len(leads)), 1))


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A cheap model whose features include a planted proxy of an audit column (age), and a
    file of later leads with and without outcomes."""
    home = tmp_path_factory.mktemp("audit")
    schema = bundled_schema()
    planted = FeatureSpec(name="tenure_years", kind="numeric", group="demographic")
    schema = schema.model_copy(update={"features": [*schema.features, planted], "audit": ["age"]})
    train_leads(
        _with_age(generate_leads(3000, seed=SEED), SEED),
        schema,
        cheap_settings(home, mlflow_tracking_uri=None),
        out=home / "bundle",
        track=False,
    )
    later = _with_age(generate_leads(2000, seed=SEED + 1, start="2026-11-01", months=1), SEED + 1)
    later.to_csv(home / "later.csv", index=False)
    later.drop(columns=["converted"]).to_csv(home / "open.csv", index=False)
    return {"home": home, "bundle": str(home / "bundle")}


def _audit(audited: dict[str, Any], data: str, *args: str) -> Any:
    home = audited["home"]
    return cli(home, "audit", "--model", audited["bundle"], "--data", str(home / data), *args)


def test_leadml_audit_names_the_planted_proxy(audited: dict[str, Any]) -> None:
    done = _audit(audited, "later.csv", "--audit", "age", "--json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["leads"] == 2000 and data["settled"] > 1000
    column = data["columns"]["age"]
    assert {r["group"] for r in column["groups"]} == {"18–29", "30–39", "40–49", "50–59", "60+"}
    assert all(r["tpr"] is not None and r["roc_auc"] is not None for r in column["groups"])
    proxies = {p["feature"]: p for p in column["proxies"]}
    assert proxies["tenure_years"]["proxy"] and proxies["tenure_years"]["roc_auc"] >= PROXY_AUC
    assert not proxies["seniority"]["proxy"]
    assert any("tenure_years predicts age" in line for line in column["lines"])


def test_leadml_audit_without_outcomes_prints_tables_and_writes_a_page(
    audited: dict[str, Any],
) -> None:
    page = audited["home"] / "audit.html"
    done = _audit(audited, "open.csv", "--out", str(page))  # the schema's audit columns
    assert done.exit_code == 0, done.output
    assert "the SQL cut-off selects" in done.stdout and "60+" in done.stdout
    assert "no outcomes known" in done.stdout
    html = page.read_text()
    assert "<h3>age" in html and "data:image/png;base64," in html


def test_leadml_audit_names_missing_columns_and_features(audited: dict[str, Any]) -> None:
    missing = _audit(audited, "open.csv", "--audit", "age", "--audit", "marital")
    assert missing.exit_code == 2
    assert "audit columns not in the data: marital" in " ".join(missing.output.split())
    feature = _audit(audited, "open.csv", "--audit", "country", "--json")
    assert feature.exit_code == 0, feature.output
    assert "'country' is a feature of this model" in feature.output
    assert "country" in json.loads(feature.stdout)["columns"]


# -- real data -------------------------------------------------------------------------------------
def test_bank_full_is_audited_by_age_band_and_marital_status(shared_data: Path) -> None:
    """The audit on 45,211 real leads. The probability is a simple score, not a model: each
    lead's month × contact × previous-outcome conversion rate (cheap, and uneven across ages,
    as campaign timing is); the cut-off sends the top tenth."""
    bank = read_table(shared_data / "bank-marketing" / "bank-full.csv")
    y = (bank["y"] == "yes").to_numpy(dtype=np.float64)
    cells = ["month", "contact", "poutcome"]
    p = bank.assign(y=y).groupby(cells)["y"].transform("mean").to_numpy()
    features = bank.drop(columns=["y", "age", "marital", "duration"])
    cutoff = float(np.quantile(p, 0.9))
    result = audit_leads(
        bank[["age", "marital"]], features, p, y, cutoff, seed=SEED, resamples=50
    ).to_dict()
    age, marital = result["columns"]["age"], result["columns"]["marital"]
    assert age["how"] == "age bands"
    assert [r["group"] for r in age["groups"]] == ["18–29", "30–39", "40–49", "50–59", "60+"]
    assert [r["group"] for r in marital["groups"]] == ["married", "single", "divorced"]
    assert sum(r["leads"] for r in age["groups"]) == len(bank)
    for column in (age, marital):
        assert max(r["ratio"] for r in column["groups"]) == 1.0
        assert column["lines"] and column["proxies"]
    html = audit_section(result)
    assert html.count("<h3>") == 2
