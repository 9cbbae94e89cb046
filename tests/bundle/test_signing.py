"""Signed bundles: a process holding the bundle key loads only what a key holder signed.

The checksum beside model.txt is recomputed by whoever rewrites the folder (``tamper`` does), so
only the signature tells a bundle training wrote from one somebody else wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from leadml.bundle.files import META_FILE
from leadml.bundle.model import LeadModel
from leadml.bundle.signing import SIGNATURE_FILE, sign_bundle, verify_bundle
from leadml.config import Settings
from leadml.errors import ModelLoadError
from leadml.modeling.train import train_leads
from leadml.schema import LeadSchema
from leadml.tracking.references import load_model
from tests.support.bundles import KEY, OTHER_KEY, tamper


def test_a_signed_bundle_verifies_here_and_as_a_copy(copied: Path, tmp_path: Path) -> None:
    sign_bundle(copied, KEY)
    record = json.loads((copied / SIGNATURE_FILE).read_text())
    assert {"model.txt", "leadml.json", "metrics.json", "report.html"} <= set(record["files"])
    assert any(name.startswith("plots/") for name in record["files"])
    assert KEY.get_secret_value() not in (copied / SIGNATURE_FILE).read_text()
    LeadModel.load(copied, key=KEY)
    elsewhere = Path(shutil.copytree(copied, tmp_path / "somewhere" / "else"))
    LeadModel.load(elsewhere, key=KEY)


def test_an_unsigned_bundle_is_refused_only_where_a_key_is_set(copied: Path) -> None:
    LeadModel.load(copied)  # no key: `leadml score --model FOLDER` keeps working
    with pytest.raises(ModelLoadError, match=r"unsigned bundle: .*LEADML_BUNDLE_KEY"):
        LeadModel.load(copied, key=KEY)


def test_another_key_or_a_rewritten_file_breaks_the_signature(copied: Path) -> None:
    sign_bundle(copied, OTHER_KEY)
    with pytest.raises(ModelLoadError, match="signature does not match"):
        LeadModel.load(copied, key=KEY)
    sign_bundle(copied, KEY)
    # Valid bands, checksum recomputed: every check passes, but not the signature.
    tamper(copied, lambda meta: meta["bands"]["tiers"].update(A="on fire"))
    with pytest.raises(ModelLoadError, match=r"does not match.*changed: leadml\.json"):
        LeadModel.load(copied, key=KEY)
    LeadModel.load(copied)  # without the key the same bundle passes: that is the key's job


def test_no_file_can_be_added_or_dropped(copied: Path) -> None:
    sign_bundle(copied, KEY)
    (copied / "extra.txt").write_text("x")
    with pytest.raises(ModelLoadError, match=r"added: extra\.txt"):
        verify_bundle(copied, KEY)
    (copied / "extra.txt").unlink()
    verify_bundle(copied, KEY)
    plot = next((copied / "plots").glob("*.png"))
    plot.unlink()
    with pytest.raises(ModelLoadError, match=f"removed: plots/{plot.name}"):
        verify_bundle(copied, KEY)


def test_a_link_inside_a_bundle_is_refused(copied: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not part of the bundle")
    os.symlink(outside, copied / "notes.txt")
    with pytest.raises(ModelLoadError, match=r"'notes\.txt' is a link or special file"):
        sign_bundle(copied, KEY)


def test_training_signs_and_the_mlflow_copy_verifies(
    leads: pd.DataFrame, schema: LeadSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    settings = Settings(
        home=home,
        mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
        bundle_key=KEY,
        num_threads=1,
        bootstrap=10,
    )
    result = train_leads(leads.tail(5000), schema, settings, out=home / "models" / "signed")
    assert result.bundle is not None and (result.bundle / SIGNATURE_FILE).is_file()
    meta = json.loads((result.bundle / META_FILE).read_text())
    assert meta["meta"]["registry_version"] == "1"  # signed after the registry numbered it
    LeadModel.load(result.bundle, key=KEY)

    # The copy MLflow logged (before the registry version was known) verifies too, and the
    # download it came through is gone once the model is in memory, loaded or refused.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ref = f"models:/{schema.name}@champion"
    model = load_model(ref, settings.tracking_uri, KEY)
    assert model.meta["registry_version"] == "1" and model.version == result.model.version
    with pytest.raises(ModelLoadError, match="signature does not match"):
        load_model(ref, settings.tracking_uri, OTHER_KEY)
    assert list(scratch.iterdir()) == []
