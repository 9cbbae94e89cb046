"""``leadml demo``: sample data → train → score → the hottest new leads with their reasons."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from leadml.cli.render import (
    backtest_table,
    console,
    explanation_cards,
    grades_table,
    hottest_table,
    metrics_table,
    screen,
)
from leadml.cli.shell import project_settings

#: Leads held back from the history and scored as if they had just arrived from the CRM.
FRESH_LEADS = 2000


def demo(
    rows: Annotated[
        int, typer.Option(min=1000, help="Synthetic leads to generate.", metavar="N")
    ] = 20_000,
) -> None:
    """Sample data → train → score → the ten hottest leads, end to end."""
    from leadml.api.train import train
    from leadml.data.read import read_table
    from leadml.data.synthetic import generate_leads, write_leads
    from leadml.data.write import write_table
    from leadml.schema.spec import bundled_schema

    settings = project_settings()
    started = time.perf_counter()
    schema = bundled_schema()
    data_path = settings.sample_data
    with console.status(f"Generating {rows:,} synthetic leads"):
        write_leads(generate_leads(rows, seed=7), data_path)
    console.print(f"[green]✓[/] Sample data: {data_path}")
    frame = read_table(data_path)
    bundle = settings.models_dir / schema.name
    with console.status("Training") as status:
        model = train(
            data_path,
            schema=schema,
            out=bundle,
            horizon=settings.horizon,
            as_of=settings.as_of,
            recency=settings.recency,
            tune=settings.tune,
            tune_minutes=settings.tune_minutes,
            settings=settings,
            progress=lambda msg: status.update(msg),
        )
    result = model.result
    assert result is not None  # trained here
    console.print(f"[green]✓[/] Trained {result.model.version} → {bundle}")
    screen.print(backtest_table(result.metrics))
    screen.print(metrics_table(result.metrics))
    screen.print(grades_table(result.metrics["grades"]))

    # Score the newest leads as if they had just arrived from the CRM, with their reasons.
    fresh = frame.tail(FRESH_LEADS).drop(columns=[schema.target])
    scored = model.score(fresh, explain=True)
    scored_path = settings.home / "data" / "sample" / "scored.csv"
    write_table(scored, scored_path)
    top = scored.sort_values("probability", ascending=False).head(10)
    screen.print(hottest_table(top, schema.id, "The ten hottest new leads"))
    hottest = fresh.iloc[top.index[:3]]  # score_table keeps the row order, index reset
    for card in explanation_cards(result.model, hottest, settings.framework):
        screen.print(card)
    screen.print(
        f"\nDone in {time.perf_counter() - started:.0f} s. Next:\n"
        f"  • scores and reasons for {len(scored):,} new leads: {scored_path}\n"
        f"  • model bundle and report: {bundle}/report.html\n"
        "  • MLflow UI: make mlflow-ui  (then http://127.0.0.1:5000)\n"
        f"  • serve the champion: make serve  (leadml serve --model "
        f"models:/{result.model.meta.get('registered_model', schema.name)}@champion)"
    )
