"""Plain data that crosses the generation package, and its closed sets of states."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pytest_ruvqe.measure.types import Arc

# generators that ask a model, and all generators (--ruvqe-generators)
ModelGeneratorName = Literal["chat", "scaffold"]
GeneratorName = Literal[ModelGeneratorName, "characterize"]
# where accepted tests go: test files, or one patch
WriteMode = Literal["files", "patch"]
# what wrote a candidate: a generator, or the search seeded by a model's calls
GeneratorLabel = Literal[GeneratorName, "chat+characterize", "scaffold+characterize"]
# how one round of the refine loop went: tests kept, all rejected, nothing proposed
TrajectoryOutcome = Literal["accepted", "rejected", "empty"]
# a sandboxed process: it reported, ran out of wall time, or ended without a result
RunStatus = Literal["ok", "timeout", "crashed"]
# one test in a sandboxed pytest run
TestOutcome = Literal["passed", "failed", "error", "skipped", "timeout"]
# one call expression of a sandboxed probe ("crashed": it ended the process)
CallStatus = Literal["returned", "raised", "timeout", "crashed"]


class HaltReason(enum.Enum):
    """Why the refine loop stopped for a target."""

    ROUND_CAP = "round cap"
    NOTHING_MISSING = "nothing missing"
    LOW_GAIN = "gain below threshold"
    BUDGET = "budget"
    LEARNED = "not worth a round (learned)"  # SONA: this arm rarely pays off here


class Reason(str, enum.Enum):
    """Why a generated test was kept or thrown away."""

    ACCEPTED = "accepted"
    SYNTAX = "syntax"
    IMPORT = "import"
    FAILS = "fails"
    FLAKY = "flaky"
    NO_GAIN = "no gain"
    NO_ASSERT = "no assert"
    TIMEOUT = "timeout"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Project:
    """Where the code under test lives and how tests import it."""

    rootdir: Path
    # directories put on sys.path so ``import <module>`` works (rootdir, src/ ...)
    import_roots: tuple[Path, ...]
    # test files already in the suite, used as examples and for dedup
    test_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Target:
    """One function to write tests for, with what the suite leaves uncovered."""

    file: Path  # absolute path of the source file
    module: str  # dotted import name
    qualname: str
    start: int
    end: int
    complexity: int
    missing_lines: frozenset[int]
    missing_branches: frozenset[Arc]
    # what the suite already covers in the file; gain is measured against it
    covered_lines: frozenset[int] = frozenset()
    covered_branches: frozenset[Arc] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """A complete test module proposed for one target."""

    target: Target
    code: str
    generator: GeneratorLabel
    model: str | None = None
    round: int = 1
    tokens: int = 0
    cost_usd: float | None = 0.0
    # per test function: how many of the target's mutants it kills that the
    # tests before it in the module do not (measured by the search); a test
    # that kills some is kept though it reaches no new line
    kills: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The fate of one test function of a candidate."""

    name: str
    reason: Reason
    new_lines: frozenset[int] = frozenset()
    new_branches: frozenset[Arc] = frozenset()
    detail: str = ""  # trimmed error output, for the next refine round


@dataclass(frozen=True)
class Validation:
    """A candidate after the sandbox: per-test verdicts and the accepted code."""

    candidate: Candidate
    verdicts: tuple[Verdict, ...]
    accepted_code: str | None = None  # module with only the accepted tests
    error: str = ""  # module-level failure (syntax, import, ...), trimmed
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def accepted(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.reason is Reason.ACCEPTED)


@dataclass(frozen=True)
class Feedback:
    """Latent z of the refine loop: what the previous rounds taught."""

    round: int = 0
    errors: tuple[str, ...] = ()  # "test_x: fails: AssertionError ..." trimmed
    missing_lines: frozenset[int] = frozenset()
    missing_branches: frozenset[Arc] = frozenset()
    flaky: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()  # names of tests already kept
    previous_code: str = ""  # the last candidate, for repair prompts
