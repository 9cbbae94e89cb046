"""The bundle folder on disk: swapped in one step, copied as plain files only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from leadml.bundle.files import bundle_files, copy_bundle, exchange, swap_in
from leadml.errors import ModelLoadError

LINUX = sys.platform.startswith("linux")

#: A process swapping new versions of ``target`` in as fast as it can, as training does once.
SWAPPER = textwrap.dedent(
    """
    import sys, tempfile
    from pathlib import Path
    from leadml.bundle.files import swap_in

    target, rounds = Path(sys.argv[1]), int(sys.argv[2])
    for i in range(rounds):
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        (staging / "leadml.json").write_text(str(i))
        (staging / "model.txt").write_text(str(i))
        swap_in(staging, target)
    print("done", flush=True)
    """
)


def _version(target: Path) -> str:
    (target / "leadml.json").write_text("first")
    (target / "model.txt").write_text("first")
    return "first"


@pytest.mark.skipif(not LINUX, reason="the one-step exchange is Linux's renameat2")
def test_exchange_swaps_two_folders_in_one_step(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f").write_text("a")
    (b / "f").write_text("b")
    assert exchange(a, b) is True
    assert ((a / "f").read_text(), (b / "f").read_text()) == ("b", "a")


def test_swap_in_replaces_the_folder_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "models" / "bundle"
    target.mkdir(parents=True)
    _version(target)
    staging = tmp_path / "models" / ".bundle.new"
    staging.mkdir()
    (staging / "leadml.json").write_text("second")
    swap_in(staging, target)
    assert (target / "leadml.json").read_text() == "second"
    assert not (target / "model.txt").exists()  # the whole folder was replaced
    assert sorted(p.name for p in target.parent.iterdir()) == ["bundle"]
    fresh = tmp_path / "models" / ".fresh.new"
    fresh.mkdir()
    swap_in(fresh, tmp_path / "models" / "fresh")  # nothing there yet: a plain rename
    assert (tmp_path / "models" / "fresh").is_dir()


@pytest.mark.skipif(not LINUX, reason="the one-step exchange is Linux's renameat2")
def test_a_reader_never_finds_the_bundle_missing_during_swaps(tmp_path: Path) -> None:
    """With two renames the folder is absent between them (and a process killed there leaves
    none): a reader polling meanwhile found it missing 1,227 times in 300 swaps."""
    target = tmp_path / "models" / "bundle"
    target.mkdir(parents=True)
    _version(target)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(target), "300"], stdout=subprocess.PIPE, text=True
    )
    looks = missing = 0
    while swapper.poll() is None:
        looks += 1
        if not os.path.exists(target / "leadml.json"):
            missing += 1
    assert swapper.stdout is not None and swapper.stdout.read().strip() == "done"
    assert looks > 1000 and missing == 0
    assert (target / "leadml.json").read_text() == "299"
    assert [p.name for p in target.parent.iterdir()] == ["bundle"]


def test_copy_bundle_copies_plain_files_and_refuses_links(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "plots").mkdir(parents=True)
    (source / "model.txt").write_text("m")
    (source / "plots" / "roc.png").write_bytes(b"png")
    copy = copy_bundle(source, tmp_path / "copy")
    assert [name for name, _ in bundle_files(copy)] == ["model.txt", "plots/roc.png"]
    os.symlink("/etc/hostname", source / "leadml.json")
    with pytest.raises(ModelLoadError, match=r"'leadml\.json' is a link or special file"):
        copy_bundle(source, tmp_path / "again")
    (source / "leadml.json").unlink()
    os.mkfifo(source / "leadml.json")  # would block a plain reader for ever
    with pytest.raises(ModelLoadError, match="is a link or special file"):
        copy_bundle(source, tmp_path / "once more")
