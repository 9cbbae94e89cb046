"""Groups, criteria and staff read from column names and values, in the languages exports use."""

from __future__ import annotations

import pytest

from leadml.data.column_meaning import place_column, staff_evidence, staff_note

YES_NO = ["Yes", "No"]


@pytest.mark.parametrize(
    "name",
    [
        "Search",
        "Newspaper Article",
        "Magazine",
        "Digital Advertisement",
        "X Education Forums",
        "Through Recommendations",
        "Newspaper",
    ],
)
def test_yes_no_flags_named_for_a_channel_are_the_source(name: str) -> None:
    placed = place_column(name, flag=True)
    assert (placed.group, placed.criterion) == ("source", "none")
    assert placed.evidence == "a yes/no flag named for a channel"


@pytest.mark.parametrize(
    ("name", "group", "criterion"),
    [
        # where the lead came from
        ("How did you hear about us", "source", "none"),
        ("How did you hear about X Education", "source", "none"),
        ("Como nos conheceu?", "source", "none"),
        ("¿Cómo nos conociste?", "source", "none"),
        ("Skąd się o nas dowiedziałeś?", "source", "none"),
        ("Lead Origin", "source", "none"),
        ("utm_campaign", "source", "none"),
        ("landing_page_id", "source", "none"),
        # what the lead did or asked to be sent
        ("Do Not Email", "engagement", "none"),
        ("Do Not Call", "engagement", "none"),
        ("Receive More Updates About Our Courses", "engagement", "none"),
        ("Update me on Supply Chain Content", "engagement", "none"),
        ("Get updates on DM Content", "engagement", "none"),
        ("A free copy of Mastering The Interview", "engagement", "none"),
        ("newsletter_opt-in", "engagement", "none"),
        ("Subscribed", "engagement", "none"),
        ("TotalVisits", "engagement", "none"),
        ("Page Views Per Visit", "engagement", "none"),
        ("Total Time Spent on Website", "engagement", "none"),
        ("Last Notable Activity", "engagement", "none"),
        # what the lead is after, and why
        ("Specialization", "qualification", "need"),
        ("Especialização", "qualification", "need"),
        ("Product of interest", "qualification", "need"),
        ("Curso", "qualification", "need"),
        ("What matters most to you in choosing a course", "qualification", "need"),
        ("Why are you looking for a CRM?", "qualification", "need"),
        ("Reason for enquiry", "qualification", "need"),
        ("Motivo do contato", "qualification", "need"),
        ("Biggest challenge", "qualification", "need"),
        ("Główny problem", "qualification", "need"),
        ("O que você procura?", "qualification", "need"),
        # money, authority, time, goals
        ("Orçamento disponível", "qualification", "budget"),
        ("Presupuesto mensual", "qualification", "budget"),
        ("Budżet", "qualification", "budget"),
        ("How much can you pay per month", "qualification", "budget"),
        ("Price range", "qualification", "budget"),
        ("What is your current occupation", "demographic", "authority"),
        ("Cargo", "demographic", "authority"),
        ("Quando pretende começar?", "qualification", "timing"),
        ("Kiedy planujesz zakup?", "qualification", "timing"),
        ("Main goal", "qualification", "goals"),
        ("Objetivo principal", "qualification", "goals"),
        ("Cel zakupu", "qualification", "goals"),
        # who the lead is, and the bank's telemarketing export
        ("Country", "demographic", "none"),
        ("City", "demographic", "none"),
        ("job", "demographic", "authority"),
        ("balance", "financial", "budget"),
        ("housing", "financial", "none"),
        ("loan", "financial", "none"),
        ("campaign", "engagement", "none"),
        ("previous", "engagement", "none"),
        ("pdays", "engagement", "none"),
        ("poutcome", "engagement", "none"),
        ("day", "calendar", "none"),
        ("Dia da semana", "calendar", "none"),
        ("cons.price.idx", "market", "none"),
        ("x17", "other", "none"),
        ("Tags", "other", "none"),
    ],
)
def test_groups_and_criteria_from_names(name: str, group: str, criterion: str) -> None:
    placed = place_column(name)
    assert (placed.group, placed.criterion) == (group, criterion), placed
    assert bool(placed.evidence) == (group != "other")


def test_goal_words_are_goals_not_need() -> None:
    """GPCT reads goals from the ``goals`` tag only: a goal column tagged need would hide it."""
    for name in ("goal", "Objetivo", "Meta", "objectives"):
        assert place_column(name).criterion == "goals", name


def test_evidence_quotes_the_names_own_words() -> None:
    placed = place_column("What matters most to you in choosing a course")
    assert placed.evidence == "name words 'matters', 'choosing', 'course'"
    assert place_column("Orçamento disponível").evidence == "name word 'Orçamento'"
    assert place_column("Do Not Email").evidence == "name words 'Do Not Email'"


@pytest.mark.parametrize(
    ("levels", "group", "criterion", "why"),
    [
        (["Google", "Facebook", "Organic Search", "Referral", "Direct Traffic"], "source", "none",
         "values are channels"),
        (["organic_search", "paid_search", "social", "display", "other"], "source", "none",
         "channels"),
        (["Sales Manager", "IT Director", "CFO", "Analyst"], "demographic", "authority",
         "job titles"),
        (["Até R$ 1.000", "R$ 1.000 – 5.000", "Mais de R$ 5.000"], "qualification", "budget",
         "money"),
        (["Within 3 months", "6 months", "Next year"], "qualification", "timing",
         "time horizons"),
        (["Better Career Prospects", "Flexibility & Convenience", "Other"], "qualification",
         "need", "goals or pains"),
        (["reduce costs", "grow sales", "automate reporting"], "qualification", "need",
         "goals or pains"),
        (["red", "green", "blue"], "other", "none", ""),
    ],
)  # fmt: skip
def test_groups_and_criteria_from_values_when_the_name_says_nothing(
    levels: list[str], group: str, criterion: str, why: str
) -> None:
    placed = place_column("q7", levels)
    assert (placed.group, placed.criterion) == (group, criterion), placed
    assert why in placed.evidence and bool(placed.evidence) == bool(why)


def test_a_named_field_keeps_its_group_whatever_its_values() -> None:
    """An activity of "Email Opened", "SMS Sent" is engagement, not a source; a yes/no column
    named for no channel is no source either."""
    activity = place_column(
        "Last Activity", ["Email Opened", "SMS Sent", "Olark Chat Conversation"]
    )
    assert (activity.group, activity.criterion) == ("engagement", "none")
    assert place_column("Do Not Email", YES_NO, flag=True).group == "engagement"
    assert place_column("Month", ["may", "jun", "jul"]).group == "calendar"
    assert place_column("q3", ["jan", "feb", "mar", "apr"]).evidence == "values are month names"


@pytest.mark.parametrize(
    "name",
    [
        "Sales Agent",
        "Manager",
        "Lead Owner",
        "sdr_id",
        "sr_id",
        "SR",
        "Assigned To",
        "Account Executive",
        "Consultor",
        "Vendedora",
        "Responsável",
        "Equipe comercial",
        "Sales Team",
        "Zespół",
        "Handlowiec",
        "Opiekun klienta",
        "Sales office",
        "Created By",
        "HubSpot Owner",
    ],
)
def test_staff_columns_by_name(name: str) -> None:
    assert staff_evidence(name, ["Ana Silva", "John Smith"]), name


@pytest.mark.parametrize(
    ("name", "levels"),
    [
        ("Job title", ["Manager", "Director", "Analyst"]),
        ("Manager", ["Manager", "Director", "CEO", "Head of Sales"]),  # the lead's own role
        ("Key account", YES_NO),
        ("Team size", ["1-10", "11-50"]),
        ("Number of managers", None),
        ("Business owner", YES_NO),
        ("Home office", YES_NO),
        ("Setor comercial", ["Varejo", "Indústria"]),
        ("User agent", None),
        ("Lead Number", None),
        ("Tags", None),
    ],
)
def test_not_staff(name: str, levels: list[str] | None) -> None:
    assert staff_evidence(name, levels) is None


def test_staff_note_says_why_and_the_flag_pastes() -> None:
    note = staff_note("Sales Agent", staff_evidence("Sales Agent") or "")
    assert note.startswith(
        "who worked the lead (staff), not a trait of the lead: name word 'Agent'"
    )
    assert note.endswith("--allow 'Sales Agent'")
    assert staff_note("Manager", "x").endswith("--allow Manager")
