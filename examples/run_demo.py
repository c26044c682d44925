"""Run pytest-ruvqe's main job on a fresh copy of the demo project.

The copy keeps the repository clean, so the demo can run again and again.
Extra arguments are passed to pytest.
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
        args = [sys.executable, "-m", "pytest", "--ruvqe", *sys.argv[1:]]
        print("$ " + " ".join(["pytest", *args[3:]]), flush=True)
        return subprocess.run(args, cwd=project, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
