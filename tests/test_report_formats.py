"""Cobertura XML, LCOV and Stryker's mutation format from a real run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from report_project import MISSING_LINE, PARTIAL_LINE, ReportRun, run_reports

from pytest_ruvqe.analyse.mutation.pool import IN_SESSION
from pytest_ruvqe.analyse.mutation.types import Mutant, MutantResult, MutationReport
from pytest_ruvqe.report.loaded.quality import mutation_report
from pytest_ruvqe.report.stryker import SCHEMA_FILE, STATUS, stryker_dict
from tests.conftest import RunPytest


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    run = run_reports(tmp_path_factory.mktemp("formats"))
    assert run.returncode == 0, run.stdout
    return run


def _schema() -> dict[str, object]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_cobertura_names_missing_and_partial_lines(reported: ReportRun) -> None:
    root = ET.parse(reported.out / "cov.xml").getroot()
    assert root.tag == "coverage" and root.get("branch-rate") is not None
    (cls,) = root.iter("class")
    assert cls.get("filename") == "prices.py"
    lines = {int(e.get("number", 0)): e for e in cls.iter("line")}
    assert lines[MISSING_LINE].get("hits") == "0"
    assert lines[4].get("hits") == "1"
    partial = lines[PARTIAL_LINE]
    assert partial.get("branch") == "true"
    assert partial.get("condition-coverage") == "50% (1/2)"
    assert partial.get("missing-branches") == str(MISSING_LINE)


def test_lcov_names_missing_lines_and_branches(reported: ReportRun) -> None:
    text = (reported.out / "cov.lcov").read_text()
    records = text.split("end_of_record")
    (prices,) = [r for r in records if "SF:prices.py" in r]
    lines = dict(
        tuple(map(int, line[3:].split(",")[:2]))
        for line in prices.splitlines()
        if line.startswith("DA:")
    )
    assert lines[MISSING_LINE] == 0 and lines[4] == 1
    branches = [
        line[5:].split(",") for line in prices.splitlines() if line.startswith("BRDA:")
    ]
    taken = {b[3] for b in branches if int(b[0]) == PARTIAL_LINE}
    assert taken == {"0", "1"}  # one arc never taken, one taken once


def test_stryker_report_validates_and_matches_the_mutation_run(
    reported: ReportRun,
) -> None:
    stryker = json.loads((reported.out / "mutation.json").read_text())
    jsonschema.validate(stryker, _schema())
    assert stryker["schemaVersion"] == "2"
    ours = json.loads((reported.out / "r.json").read_text())["mutation"]["mutants"]
    mutants = stryker["files"]["prices.py"]["mutants"]
    assert {m["id"]: m["status"] for m in mutants} == {
        m["id"]: STATUS[m["status"]] for m in ours
    }
    statuses = {m["status"] for m in mutants}
    assert {"Killed", "Survived", "NoCoverage"} <= statuses
    source = stryker["files"]["prices.py"]["source"]
    assert source == (reported.root / "prices.py").read_text()
    for m in mutants:
        start, end = m["location"]["start"], m["location"]["end"]
        line = source.splitlines()[start["line"] - 1]
        original = next(o for o in ours if o["id"] == m["id"])["original"]
        assert line[start["column"] - 1 : end["column"] - 1] == original
        if m["status"] == "Killed":
            assert m["killedBy"] and set(m["killedBy"]) <= set(m["coveredBy"])
        if m["status"] == "NoCoverage":
            assert "coveredBy" not in m and start["line"] == MISSING_LINE
    tests = {t["id"] for f in stryker["testFiles"].values() for t in f["tests"]}
    assert {"test_prices.py::test_net", "test_prices.py::test_limit"} <= tests


def test_stryker_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    tmp_path.joinpath("m.py").write_text('def f(x):\n    return "é" + x\n')
    col = len('    return "é" '.encode())  # the byte offset ast gives for +
    mutant = Mutant(
        id="m1",
        file="m.py",
        line=2,
        end_line=2,
        col=col,
        end_col=col + 1,
        operator="arithmetic",
        original="+",
        replacement="-",
        shown="-",
        function="f",
        runtime=True,
        patch_target="f",
    )
    report = MutationReport(
        results=(MutantResult(mutant, "timeout", detail="no answer within 1.0s"),),
        total_mutants=1,
        sampled=False,
        stopped_by_budget=False,
        seconds=1.0,
    )
    data = stryker_dict(report, tmp_path)
    jsonschema.validate(data, _schema())
    (entry,) = data["files"]["m.py"]["mutants"]
    assert entry["location"]["start"] == {"line": 2, "column": 16}
    assert entry["status"] == "Timeout"
    assert entry["statusReason"] == "no answer within 1.0s"


def test_schema_file_ships_with_its_licence() -> None:
    assert _schema()["title"] == "MutationTestResult"
    licence = SCHEMA_FILE.with_name("mutation-testing-report-schema.LICENSE")
    assert "Apache License" in licence.read_text()


def test_cobertura_and_lcov_from_pytest_covs_measurement(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    result = run(
        "--ruvqe",
        "--cov=calc",
        "--cov-branch",
        "--cov-report=",
        "--ruvqe-report=term,json:r.json,xml:cov.xml,lcov:cov.lcov",
        plugins=("pytest_cov.plugin",),
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["measured: calc (measured by pytest-cov)"])
    totals = json.loads(calc_project.path.joinpath("r.json").read_text())["files"]
    root = ET.parse(calc_project.path / "cov.xml").getroot()
    statements = sum(f["statements"] for f in totals)
    missing = sum(f["missing_lines"] for f in totals)
    assert int(root.get("lines-valid", 0)) == statements
    assert int(root.get("lines-valid", 0)) - int(root.get("lines-covered", 0)) == (
        missing
    )
    lcov = calc_project.path.joinpath("cov.lcov").read_text()
    assert "SF:calc/core.py" in lcov
    assert f"LF:{statements}" in lcov and f"LH:{statements - missing}" in lcov


def _hits(path: Path) -> dict[tuple[str, int], str]:
    root = ET.parse(path).getroot()
    return {
        (cls.get("filename", ""), int(line.get("number", 0))): line.get("hits", "")
        for cls in root.iter("class")
        for line in cls.iter("line")
    }


def test_cobertura_under_xdist_equals_the_serial_one(
    calc_project: pytest.Pytester, run: RunPytest
) -> None:
    run("--ruvqe", "--ruvqe-report=xml:serial.xml")
    parallel = run(
        "--ruvqe", "-n", "2", "--ruvqe-report=xml:par.xml", plugins=("xdist.plugin",)
    )
    parallel.assert_outcomes(passed=2)
    serial = _hits(calc_project.path / "serial.xml")
    assert serial and "0" in serial.values() and "1" in serial.values()
    assert _hits(calc_project.path / "par.xml") == serial


def test_json_says_how_import_time_mutants_were_judged(reported: ReportRun) -> None:
    # `limit=100` is evaluated when the def runs: judged by importing again
    data = json.loads((reported.out / "r.json").read_text(encoding="utf-8"))
    assert data["mutation"]["import_judging"] == IN_SESSION
    loaded = mutation_report(data)
    assert loaded is not None
    assert loaded.import_judging == IN_SESSION
