"""Mutation results in the mutation-testing-elements JSON schema (Stryker's
report format), so Stryker's report viewer and dashboard read them.

The schema is vendored in ``report/schemas/`` with its licence; see
docs/reports.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pytest_ruvqe import __version__
from pytest_ruvqe.analyse.mutation.types import (
    MutantResult,
    MutantStatus,
    MutationReport,
    Operator,
)
from pytest_ruvqe.testpaths import node_path

SCHEMA_VERSION: Final = "2"
SCHEMA_FILE: Final = (
    Path(__file__).with_name("schemas").joinpath("mutation-testing-report-schema.json")
)
THRESHOLDS: Final = {"high": 80, "low": 60}

# our statuses as the schema names them; sampled-out mutants were left out
# on purpose, which the schema calls Ignored
STATUS: Final[Mapping[MutantStatus, str]] = {
    "killed": "Killed",
    "survived": "Survived",
    "timeout": "Timeout",
    "no_tests": "NoCoverage",
    "error": "RuntimeError",
    "not_run": "Ignored",
}
# our operator families under the names Stryker's mutators use where one fits
MUTATOR: Final[Mapping[Operator, str]] = {
    "arithmetic": "ArithmeticOperator",
    "boundary": "EqualityOperator",
    "comparison": "EqualityOperator",
    "boolean": "LogicalOperator",
    "constant": "Literal",
    "condition": "ConditionalExpression",
    "argument": "ArgumentRemoval",
    "string_method": "MethodExpression",
    "statement_deletion": "BlockStatement",
    "return_value": "ReturnValue",
    "assignment": "AssignmentOperator",
}


def _column(lines: list[str], line: int, byte_col: int) -> int:
    """1-based character column of a 0-based UTF-8 byte offset on ``line``."""
    if not 1 <= line <= len(lines):
        return byte_col + 1
    prefix = lines[line - 1].encode("utf-8")[:byte_col]
    return len(prefix.decode("utf-8", errors="ignore")) + 1


def _mutant(result: MutantResult, lines: list[str]) -> dict[str, Any]:
    m = result.mutant
    start = {"line": m.line, "column": _column(lines, m.line, m.col)}
    end = {"line": m.end_line, "column": _column(lines, m.end_line, m.end_col)}
    entry: dict[str, Any] = {
        "id": m.id,
        "mutatorName": MUTATOR.get(m.operator, m.operator),
        "replacement": m.shown or m.replacement,
        "description": f"{m.operator}: {m.original} -> {m.shown or m.replacement}",
        "location": {"start": start, "end": end},
        "status": STATUS[result.status],
        "static": not m.runtime,
    }
    if result.detail:
        entry["statusReason"] = result.detail
    if result.covered_by:
        entry["coveredBy"] = list(result.covered_by)
    if result.killed_by:
        entry["killedBy"] = list(result.killed_by)
    if result.tests_run:
        entry["testsCompleted"] = result.tests_run
    if result.seconds:
        entry["duration"] = round(result.seconds * 1000, 3)
    return entry


def _test_files(report: MutationReport) -> dict[str, Any]:
    """Every test named by a mutant, under the file it is in."""
    ids = {t for r in report.results for t in (*r.covered_by, *r.killed_by)}
    files: dict[str, list[dict[str, str]]] = {}
    for nodeid in sorted(ids):
        name = nodeid.partition("::")[2] or nodeid
        files.setdefault(node_path(nodeid), []).append({"id": nodeid, "name": name})
    return {path: {"tests": tests} for path, tests in files.items()}


def stryker_dict(report: MutationReport, rootdir: Path) -> dict[str, Any]:
    """The report as data of the mutation-testing-elements schema."""
    by_file: dict[str, list[MutantResult]] = {}
    for result in report.results:
        by_file.setdefault(result.mutant.file, []).append(result)
    files: dict[str, Any] = {}
    for rel, results in sorted(by_file.items()):
        try:
            source = (rootdir / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            source = ""
        lines = source.splitlines()
        files[rel] = {
            "language": "python",
            "source": source,
            "mutants": [_mutant(r, lines) for r in results],
        }
    return {
        "schemaVersion": SCHEMA_VERSION,
        "thresholds": dict(THRESHOLDS),
        "projectRoot": str(rootdir),
        "files": files,
        "testFiles": _test_files(report),
        "framework": {"name": "pytest-ruvqe", "version": __version__},
    }


def render_stryker(report: MutationReport, rootdir: Path) -> str:
    """The JSON text of the Stryker-format report."""
    return json.dumps(stryker_dict(report, rootdir), indent=2) + "\n"
