"""Concrete, ranked refinements of a test suite, each pointing at file:line."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pytest_ruvqe.analyse.conditions import Condition, conditions_of
from pytest_ruvqe.analyse.gaps import CoverageReport, Gap
from pytest_ruvqe.analyse.mutation.types import MutantResult, MutationReport
from pytest_ruvqe.analyse.smells import Smell, SmellKind, SmellReport, TestInfo
from pytest_ruvqe.quality.flaky import FlakyTest
from pytest_ruvqe.testpaths import node_path

DEFAULT_LIMIT = 10
SuggestionKind = Literal[
    "uncovered",
    "no_assertion",
    "surviving_mutant",
    "flaky_test",
    "duplicate_test",
    "smell",
]
KINDS: tuple[SuggestionKind, ...] = get_args(SuggestionKind)

# what to do about a surviving mutant, by operator
_MUTANT_FIX = {
    "boundary": "add a boundary test at the limit",
    "comparison": "add a test where the comparison gives the other answer",
    "arithmetic": "assert the exact result of the calculation",
    "constant": "assert a result that depends on this value",
    "boolean": "add a test where only one of the conditions holds",
    "return_value": "assert on the returned value",
    "statement_deletion": "assert the effect of this call",
}


@dataclass(frozen=True)
class Suggestion:
    """One refinement: what kind, where, what is wrong, what to do, how urgent."""

    kind: SuggestionKind
    file: str
    line: int
    message: str
    fix: str
    priority: float  # higher first, 0..1
    target: str = ""  # function or test it is about
    end_line: int | None = None

    @property
    def location(self) -> str:
        """``file:line`` or ``file:start-end``."""
        if self.end_line and self.end_line != self.line:
            return f"{self.file}:{self.line}-{self.end_line}"
        return f"{self.file}:{self.line}"

    def text(self) -> str:
        """One line: message and fix."""
        return f"{self.message}: {self.fix}"


def _ranges(lines: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for line in sorted(lines):
        if ranges and line == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], line)
        else:
            ranges.append((line, line))
    return ranges


def _span(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}-{end}"


ConditionsOf = Callable[[str], Mapping[int, Condition]]


def read_conditions(rootdir: Path) -> ConditionsOf:
    """Conditions of a file read from disk (empty if it does not parse)."""

    def conditions(file: str) -> Mapping[int, Condition]:
        try:
            tree = ast.parse((rootdir / file).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            return {}
        return conditions_of(tree)

    return conditions


def _branch_hints(
    tests: Mapping[int, Condition], gap: Gap
) -> list[tuple[int, str, str]]:
    """(line, condition, hint) for each missing branch that starts at an ``if``."""
    hints = []
    for source, dest in gap.missing_branches:
        condition = tests.get(source)
        if condition is not None:
            hints.append((source, condition.text, condition.hint(dest)))
    return hints


def _coverage_suggestions(
    report: CoverageReport, conditions_of: ConditionsOf
) -> list[Suggestion]:
    found = []
    worst = max((g.risk for g in report.gaps), default=1.0) or 1.0
    conditions: dict[str, Mapping[int, Condition]] = {}  # each file looked up once
    for gap in report.gaps:
        name = gap.qualname
        priority = 0.45 + 0.4 * min(1.0, gap.risk / worst)
        if gap.file not in conditions:
            conditions[gap.file] = conditions_of(gap.file)
        hints = _branch_hints(conditions[gap.file], gap)
        ranges = _ranges(gap.missing_lines)
        if hints:
            line, condition, hint = hints[0]
            first, last = ranges[0] if ranges else (line, line)
            found.append(
                Suggestion(
                    "uncovered",
                    gap.file,
                    first,
                    f"`{name}` {_span(first, last)} (branch `{condition}`) never run",
                    hint,
                    round(priority, 3),
                    name,
                    last,
                )
            )
        elif ranges:
            first, last = ranges[0]
            found.append(
                Suggestion(
                    "uncovered",
                    gap.file,
                    first,
                    f"`{name}` {_span(first, last)} never run",
                    f"add a test that calls `{name}` so these lines run",
                    round(priority, 3),
                    name,
                    last,
                )
            )
    return found


def _test_name(nodeid: str) -> tuple[str, str]:
    rest = nodeid[len(node_path(nodeid)) + 2 :]
    return node_path(nodeid), rest.split("[", 1)[0].replace("::", ".")


def suggest(
    coverage: CoverageReport,
    smells: SmellReport,
    rootdir: Path,
    mutation: MutationReport | None = None,
    flaky: Sequence[FlakyTest] = (),
    limit: int = DEFAULT_LIMIT,
    conditions: ConditionsOf | None = None,
) -> tuple[Suggestion, ...]:
    """At most ``limit`` suggestions, most urgent first, no kind taking them all.

    ``conditions`` gives a file's branch conditions (default: parsed from disk).
    """
    found = _coverage_suggestions(coverage, conditions or read_conditions(rootdir))
    found.extend(_smell_suggestions(smells.smells))
    found.extend(
        _mutant_suggestions(mutation.survivors if mutation is not None else ())
    )
    found.extend(_flaky_suggestions(flaky, smells.tests))
    return _bounded(found, limit)


def _smell_suggestions(smells: Iterable[Smell]) -> Iterator[Suggestion]:
    """Tests without an oracle, duplicate tests, and other smells of weight."""
    for smell in smells:
        if smell.kind in ("no_assertion", "empty_test"):
            yield Suggestion(
                "no_assertion",
                smell.file,
                smell.line,
                f"`{smell.test}` has no assertion",
                "assert on the result or the effect it tests",
                0.9,
                smell.test,
            )
        elif smell.kind == "duplicate_test":
            other = smell.detail.split("`")[1]
            yield Suggestion(
                "duplicate_test",
                smell.file,
                smell.line,
                f"`{other}` and `{smell.test}` are duplicates",
                "delete one, or parametrize them if the inputs should differ",
                0.4,
                smell.test,
            )
        elif smell.weight >= 0.3:
            yield Suggestion(
                "smell",
                smell.file,
                smell.line,
                f"`{smell.test}`: {smell.detail}",
                _SMELL_FIX.get(smell.kind, "rewrite the test"),
                round(0.3 + 0.4 * smell.weight, 3),
                smell.test,
            )


def _mutant_suggestions(survivors: Iterable[MutantResult]) -> Iterator[Suggestion]:
    """A test to add for each surviving mutant."""
    for result in survivors:
        mutant = result.mutant
        yield Suggestion(
            "surviving_mutant",
            mutant.file,
            mutant.line,
            f"mutant `{mutant.original.splitlines()[0]}` → `{mutant.shown}` at "
            f"{mutant.location} survived",
            _MUTANT_FIX.get(mutant.operator, "add a test that tells them apart"),
            0.85 if mutant.operator == "boundary" else 0.75,
            mutant.function,
        )


def _flaky_suggestions(
    flaky: Iterable[FlakyTest], tests: Iterable[TestInfo]
) -> Iterator[Suggestion]:
    """Each flaky test, at its line when the smell scan found it."""
    lines = {(t.file, t.qualname): t.line for t in tests}
    for test in flaky:
        file, name = _test_name(test.nodeid)
        yield Suggestion(
            "flaky_test",
            file,
            lines.get((file, name), 1),
            f"`{name}` is flaky ({test.flips} flips in {test.runs} runs, "
            "order-dependent?)",
            "remove shared state, sleeps and time or order dependence",
            0.88,
            test.nodeid,
        )


_SMELL_FIX: Mapping[SmellKind, str] = {
    "tautological_assert": "compare the result with an expected value",
    "redundant_assert": "assert on what the code under test returns",
    "swallowed_exception": "use `with pytest.raises(...)`",
    "sleep": "wait on the condition, or inject a clock",
    "duplicate_assert": "remove the repeated assert",
    "conditional_logic": "split into one test per path, or parametrize",
}


def _bounded(found: list[Suggestion], limit: int) -> tuple[Suggestion, ...]:
    """Most urgent first, each kind capped at half the list when others wait."""
    ranked = sorted(found, key=lambda s: (-s.priority, s.file, s.line, s.message))
    cap = max(1, (limit + 1) // 2)
    chosen: list[Suggestion] = []
    per_kind: dict[SuggestionKind, int] = {}
    for item in ranked:
        if per_kind.get(item.kind, 0) < cap:
            chosen.append(item)
            per_kind[item.kind] = per_kind.get(item.kind, 0) + 1
    rest = [s for s in ranked if s not in chosen]
    chosen.extend(rest[: max(0, limit - len(chosen))])  # fill up if few kinds
    chosen.sort(key=lambda s: (-s.priority, s.file, s.line, s.message))
    return tuple(chosen[:limit])
