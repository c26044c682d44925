"""Where the project is and what its last run left: for the ``ruvqe`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_ruvqe.report.json_report import SCHEMA, SCHEMA_VERSION

STORE = ".ruvqe"
LAST_RUN = "last-run.json"
# files that mark a project's root, as pytest's own rootdir search knows them
_MARKERS = (STORE, "pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg", ".git")


class CliError(Exception):
    """Bad input to the command: one line that says what to do."""


def find_rootdir(given: str | None, start: Path | None = None) -> Path:
    """The project's root: ``given``, else the nearest directory up from
    ``start`` (the working directory) that holds a project marker."""
    if given:
        root = Path(given).resolve()
        if not root.is_dir():
            raise CliError(f"--rootdir {given}: not a directory")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in _MARKERS):
            return folder
    raise CliError(
        f"no project here: nothing above {here} has .ruvqe/, pyproject.toml, "
        "pytest.ini, tox.ini, setup.cfg or .git; run inside a project or pass "
        "--rootdir"
    )


def load_run(path: Path) -> dict[str, Any]:
    """A JSON report written by ``--ruvqe`` (the last run, or a shard's file)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"{path} does not exist: run `pytest --ruvqe` first") from None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise CliError(f"{path} is not a pytest-ruvqe report")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise CliError(
            f"{path} has schema version {data.get('schema_version')}, this "
            f"pytest-ruvqe reads {SCHEMA_VERSION}: run `pytest --ruvqe` again"
        )
    return data


def last_run(rootdir: Path) -> dict[str, Any]:
    """The last run's report under ``rootdir``."""
    return load_run(rootdir / STORE / LAST_RUN)
