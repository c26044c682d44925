"""Run pytest-ruvqe's main job on a fresh copy of the demo project.

First ``pytest --ruvqe-generate --ruvqe-privacy-local``: measure, report the
gaps, and write validated tests with characterization search and the embedded
local model, nothing leaving the machine. Then ``pytest --ruvqe`` again, so the
coverage the new tests add is measured, not estimated. The copy keeps the
repository clean, so the demo can run again and again. Extra arguments are
passed to the generating run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEMO = Path(__file__).resolve().parent / "demo_project"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ruvqe-demo-") as tmp:
        project = Path(tmp) / "demo_project"
        shutil.copytree(
            DEMO, project, ignore=shutil.ignore_patterns(".ruvqe", "__pycache__")
        )
        runs = [
            [
                "--ruvqe-generate",
                "--ruvqe-privacy-local",
                "--ruvqe-time-budget=180",
                *sys.argv[1:],
            ],
            ["--ruvqe", "--ruvqe-top=5"],
        ]
        for args in runs:
            print("\n$ pytest " + " ".join(args), flush=True)
            code = subprocess.run(
                [sys.executable, "-m", "pytest", *args], cwd=project, check=False
            ).returncode
            if code != 0:
                return code
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
