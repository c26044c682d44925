"""The quality, suggestion and mutation sections of a JSON report read back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_ruvqe.analyse.mutation.types import Mutant, MutantResult, MutationReport
from pytest_ruvqe.analyse.smells import Smell, SmellReport
from pytest_ruvqe.quality.flaky import FlakyTest
from pytest_ruvqe.quality.score import QualityReport, QualityScore, ScopedScore
from pytest_ruvqe.quality.suggestions import Suggestion


def mutation_report(data: Mapping[str, Any]) -> MutationReport | None:
    """The mutation run of the report, or None when it had none."""
    section = data.get("mutation")
    if not section:
        return None
    tests = list(section.get("tests", ()))
    return MutationReport(
        results=tuple(_result(m, tests) for m in section.get("mutants", ())),
        total_mutants=int(section["total"]),
        sampled=bool(section["sampled"]),
        stopped_by_budget=bool(section["stopped_by_budget"]),
        seconds=float(section["seconds"]),
        import_judging=str(section.get("import_judging", "")),
    )


def _result(m: Mapping[str, Any], tests: Sequence[str]) -> MutantResult:
    line = int(m["line"])
    mutant = Mutant(
        id=str(m["id"]),
        file=m["file"],
        line=line,
        end_line=int(m.get("end_line", line)),
        col=int(m.get("col", 0)),
        end_col=int(m.get("end_col", 0)),
        operator=m["operator"],
        original=m["original"],
        replacement=m.get("replacement", m["mutated"]),
        shown=m["mutated"],
        function=m["function"],
        runtime=bool(m.get("runtime", True)),
        patch_target=m.get("patch_target", m["function"]),
    )
    return MutantResult(
        mutant=mutant,
        status=m["status"],
        tests_run=int(m.get("tests_run", 0)),
        seconds=float(m.get("seconds", 0.0)),
        cached=bool(m.get("cached", False)),
        detail=m.get("detail", ""),
        diff=m.get("diff", ""),
        covered_by=tuple(tests[i] for i in m.get("covered_by", ())),
        killed_by=tuple(tests[i] for i in m.get("killed_by", ())),
    )


def _score(s: Mapping[str, Any]) -> QualityScore:
    return QualityScore(float(s["score"]), tuple(s["dimensions"].items()))


def quality_report(
    data: Mapping[str, Any], mutation: MutationReport | None
) -> QualityReport | None:
    """The quality section, or None when the run scored no quality."""
    section = data.get("quality")
    if not section:
        return None
    interval = (data.get("mutation") or {}).get("interval")
    return QualityReport(
        suite=_score(section["suite"]),
        files=tuple(
            ScopedScore(f["file"], f.get("module", f["file"]), 1, _score(f))
            for f in section["files"]
        ),
        functions=tuple(
            ScopedScore(f["file"], f["qualname"], int(f["line"]), _score(f))
            for f in section["functions"]
        ),
        mutation_interval=tuple(interval) if interval else None,
        flaky=tuple(
            FlakyTest(
                f["nodeid"], int(f["flips"]), int(f["runs"]), int(f.get("failures", 0))
            )
            for f in section.get("flaky", ())
        ),
        smells=SmellReport(
            smells=tuple(
                Smell(s["kind"], s["file"], int(s["line"]), s["test"], s["detail"])
                for s in section.get("smells", ())
            ),
            tests=(),
        ),
        mutation=mutation,
    )


def suggestions(data: Mapping[str, Any]) -> tuple[Suggestion, ...]:
    """The run's suggestions, in the order it gave them."""
    return tuple(
        Suggestion(
            kind=s["kind"],
            file=s["file"],
            line=int(s["line"]),
            message=s["message"],
            fix=s["fix"],
            priority=float(s["priority"]),
            target=s.get("target", ""),
            end_line=s.get("end_line"),
        )
        for s in data.get("suggestions", ())
    )
