"""The Examples of the public API's docstrings run, as a reader would type them.

They share one namespace, in order: ``leadml.train``'s example trains the one model (cheap
settings, a temporary home) that every later example scores, explains and loads.
"""

from __future__ import annotations

import doctest
import time
from pathlib import Path

import leadml
from leadml.api import examples, explanation, model, train
from tests.support.training import cheap_settings

#: ``train`` first: its example makes ``model`` and ``leads`` for the rest.
MODULES = (train, model, explanation, examples)


def test_the_api_examples_run(tmp_path: Path) -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    shared = {"leadml": leadml, "home": tmp_path, "cheap": cheap_settings(tmp_path)}
    ran = []
    started = time.perf_counter()
    for module in MODULES:
        for test in sorted(finder.find(module), key=lambda t: (t.name != "train", t.lineno or 0)):
            if not test.examples or not test.name.startswith(module.__name__):
                continue
            test.globs = shared  # one namespace: the model trained once is used by all
            runner.run(test, clear_globs=False)
            ran.append(test.name)
    elapsed = time.perf_counter() - started
    assert runner.failures == 0, f"{runner.failures} failing examples (see the output above)"
    public = {"leadml.api.train.train", "leadml.api.model.load", "leadml.api.model.Model.score"}
    assert public <= set(ran), ran
    print(f"{len(ran)} docstrings' examples ran in {elapsed:.1f} s")
