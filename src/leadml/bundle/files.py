"""A bundle folder on disk: plain files written atomically and checked before they are trusted.

``model.txt`` is LightGBM's own text format, ``leadml.json`` the schema, frozen encodings,
calibrator, grade bands and metadata, ``metrics.json`` the evaluation. Nothing is pickled, so
loading a model never runs code from the file; a folder is swapped in whole or not at all.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import math
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.errors import ModelLoadError

BUNDLE_FORMAT = 1
MODEL_FILE = "model.txt"
META_FILE = "leadml.json"
METRICS_FILE = "metrics.json"
#: A whole bundle (model, metadata, report, plots) is a few MB; this bounds what a load hashes
#: or copies, so a folder stuffed with data cannot hold a server's reload for minutes.
MAX_BUNDLE_BYTES = 512 * 2**20
MAX_BUNDLE_FILES = 1000
#: ``renameat2`` flag: swap two paths in one step (Linux 3.15+, glibc 2.28+).
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def replace_folder(source: Path, target: Path) -> None:
    """Copy a finished folder into place beside ``target``, then swap it in (see ``swap_in``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    shutil.rmtree(staging)
    shutil.copytree(source, staging)
    swap_in(staging, target)


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's ``renameat2``, or None where there is none (macOS, Windows, old glibc)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one system call; False when this system cannot.

    Readers see one folder or the other at every instant, and a process killed at any moment
    leaves both paths in place: there is no step in between to be killed in.
    """
    function = _renameat2()
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the kernel or this filesystem does not exchange
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def swap_in(staging: Path, target: Path) -> None:
    """Put a finished folder at ``target``; the previous one goes only once the new one is there.

    On Linux the two are exchanged in one step (``renameat2(RENAME_EXCHANGE)``), so ``target``
    is never missing, not even for a server reloading it or a process killed mid-swap.
    Elsewhere it takes two renames, with a moment in between when ``target`` is absent. Staging
    is made beside the target, so every rename stays on one filesystem.
    """
    if not os.path.lexists(target):
        os.replace(staging, target)
    elif exchange(staging, target):
        _remove(staging)  # staging now holds the previous folder
    else:
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(staging, target)
        _remove(old)


def holds_bundle(folder: Path) -> bool:
    """True when ``folder`` has a model file and a metadata file, both plain files."""
    try:
        return all(
            (folder / name).is_file() and not (folder / name).is_symlink()
            for name in (MODEL_FILE, META_FILE)
        )
    except OSError:  # a name too long, a folder we may not read: not a bundle either way
        return False


def bundle_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file of a bundle as (relative POSIX path, path), sorted; links are refused.

    A link would let a bundle's content change after it was checked, or point a copy at a
    file outside the folder; a FIFO or device would block a reader. Bundles hold neither.
    """
    found: list[tuple[str, Path]] = []
    total = 0
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                path = Path(entry.path)
                relative = path.relative_to(folder).as_posix()
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    pending.append(path)
                elif stat.S_ISREG(mode):
                    total += entry.stat(follow_symlinks=False).st_size
                    found.append((relative, path))
                else:
                    raise ModelLoadError(
                        f"{folder}: corrupt bundle: '{relative}' is a link or special file, "
                        "not a plain file"
                    )
                if len(found) > MAX_BUNDLE_FILES or total > MAX_BUNDLE_BYTES:
                    raise ModelLoadError(
                        f"{folder}: corrupt bundle: more than {MAX_BUNDLE_FILES} files or "
                        f"{MAX_BUNDLE_BYTES // 2**20} MB"
                    )
    return sorted(found)


def copy_bundle(source: Path, target: Path) -> Path:
    """Copy a bundle's plain files (nothing else) into a new folder ``target``.

    What a server loads is then a copy only it can write: whoever wrote ``source`` cannot
    change it between the check and the load.
    """
    target.mkdir(parents=True, exist_ok=False)
    for relative, path in bundle_files(source):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        # Opened without following a link and without blocking, then checked again: a file
        # swapped for a link or a FIFO since the listing is refused, not followed or waited on.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            handle = os.fdopen(os.open(path, flags), "rb")
        except OSError as exc:
            raise ModelLoadError(f"{source}: cannot read '{relative}': {exc.strerror}") from None
        with handle, destination.open("xb") as out:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ModelLoadError(f"{source}: corrupt bundle: '{relative}' is not a plain file")
            shutil.copyfileobj(handle, out, 1 << 20)
    return target


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks (model files may be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_model_text(folder: Path, meta: dict[str, Any]) -> str:
    """``model.txt``, checked against the bundle's checksum before LightGBM parses it.

    LightGBM 4.7 does not raise on a damaged model file: a truncated copy crashes the process
    (segfault) and a garbled number aborts it. The checksum catches damage (a cut copy, a full
    disk); it cannot catch a person, who recomputes it: that is what signing is for
    (:mod:`leadml.bundle.signing`). A bundle without a checksum is refused outright.
    """
    expected = meta.get("model_sha256")
    if not isinstance(expected, str) or not expected:
        raise ModelLoadError(
            f"{folder}: corrupt bundle: model_sha256 is missing from {META_FILE} "
            "(every bundle must carry its model's checksum; retrain to write one)"
        )
    data = (folder / MODEL_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise ModelLoadError(
            f"{folder}: corrupt bundle ({MODEL_FILE} does not match the checksum in "
            f"{META_FILE}: truncated or damaged)"
        )
    return data.decode()


def json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
