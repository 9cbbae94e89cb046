"""`make bench`: every benchmark in turn; each prints its own table and ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    failed = []
    for script in [*sorted(HERE.glob("bench_*.py")), HERE / "quality.py"]:
        print(f"\n=== {script.name} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE).returncode != 0:
            failed.append(script.name)
    print("\nResults in bench/results/*.md")
    sys.exit(1 if failed else 0)
