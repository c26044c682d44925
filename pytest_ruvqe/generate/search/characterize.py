"""Characterization search: regression tests from observed behaviour, no model.

For a target, calls are planned from hints, defaults, body constants,
docstring examples and call sites (:mod:`.plan`), run in the sandbox under
coverage (:mod:`.executor`), and kept greedily while they reach lines or
branches nothing kept before reached. Each kept call becomes a test that
asserts the observed value when its repr round-trips, the type and public
attributes otherwise, or ``pytest.raises`` for an exception. Deterministic
for a given seed. :class:`CharacterizeGenerator` puts the search in the
refine loop.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from pytest_ruvqe.generate.allowlist import check
from pytest_ruvqe.generate.generator import Generator
from pytest_ruvqe.generate.search.facts import module_facts
from pytest_ruvqe.generate.search.inputs import add_unique
from pytest_ruvqe.generate.search.plan import plan_calls
from pytest_ruvqe.generate.search.probe import (
    CallExecutor,
    CallOutcome,
    ProbeError,
    ProbePlan,
)
from pytest_ruvqe.generate.source import (
    branch_lines,
    import_line,
    module_alias,
    read_tests,
)
from pytest_ruvqe.generate.types import Candidate, Feedback, Project, Target
from pytest_ruvqe.measure.types import Arc

# what a search of one target may fail with; the run goes on without it
SEARCH_ERRORS = (ProbeError, OSError, SyntaxError)
_SINGLETONS = ("None", "True", "False")


@dataclass(frozen=True)
class CharacterizeConfig:
    """Knobs of the search; the defaults suit CI."""

    seed: int = 0
    max_calls: int = 400  # per target
    call_timeout: float = 1.0
    probe_timeout: float = 90.0
    max_tests: int = 40  # per target
    # reseeded searches after the first; they rarely add and each costs a probe
    rounds: int = 1


@dataclass(frozen=True)
class SearchResult:
    """Calls kept for one target, in the order they add coverage."""

    target: Target
    kept: tuple[CallOutcome, ...]
    tried: int
    lines: frozenset[int] = frozenset()
    arcs: frozenset[Arc] = frozenset()


def greedy_select(
    outcomes: list[CallOutcome],
    target: Target,
    max_tests: int,
    branch_points: frozenset[int] | None = None,
) -> list[CallOutcome]:
    """Greedy set cover: take the call adding most new lines/arcs until none do.

    Lines and arcs inside the target weigh more than those elsewhere in the
    file; what the suite already covers counts for nothing. With
    ``branch_points``, only arcs leaving those lines count (as acceptance
    credits them).
    """
    usable = [
        o
        for o in outcomes
        if o.kind in ("value", "object", "raise") and (o.stable or o.kind != "raise")
    ]
    have_lines = set(target.covered_lines)
    have_arcs = set(target.covered_branches)
    inside = range(target.start, target.end + 1)
    kept: list[CallOutcome] = []
    while len(kept) < max_tests:
        best, best_score = None, 0
        for outcome in usable:
            new_lines = outcome.lines - have_lines
            new_arcs = outcome.arcs - have_arcs
            if branch_points is not None:
                new_arcs = frozenset(a for a in new_arcs if a[0] in branch_points)
            score = sum(10 if n in inside else 1 for n in new_lines)
            score += sum(10 if a in inside else 1 for a, _ in new_arcs)
            if score > best_score:
                best, best_score = outcome, score
        if best is None:
            break
        kept.append(best)
        have_lines |= best.lines
        have_arcs |= best.arcs
        usable.remove(best)
    return kept


def _test_name(qualname: str, index: int) -> str:
    base = re.sub(r"\W+", "_", qualname.replace(".", "_")).strip("_").lower()
    return f"test_{base}_{index}"


def render_test(outcome: CallOutcome, name: str) -> str:
    """One test function asserting what the call was observed to do."""
    body = [f"    {line}" for line in outcome.call.setup]
    expr = outcome.call.expr
    if outcome.kind == "raise":
        body.append(f"    with pytest.raises({outcome.type or 'Exception'}):")
        body.append(f"        {expr}")
    else:
        body.append(f"    result = {expr}")
        if outcome.kind == "value" and outcome.stable and outcome.repr is not None:
            if outcome.repr in _SINGLETONS:
                body.append(f"    assert result is {outcome.repr}")
            else:
                body.append(f"    assert result == {outcome.repr}")
        elif outcome.type is not None:
            body.append(f"    assert isinstance(result, {outcome.type})")
        elif outcome.is_none:
            body.append("    assert result is None")
        else:
            body.append("    assert result is not None")
    return f"def {name}():\n" + "\n".join(body) + "\n"


def render_module(target: Target, kept: list[CallOutcome]) -> str:
    """A complete test module for the kept calls of one target."""
    tests = [render_test(o, _test_name(target.qualname, i)) for i, o in enumerate(kept)]
    extra = sorted({o.needs for o in kept if o.kind == "value" and o.needs})
    imports = "\n".join(["import pytest", *extra])
    header = f"{imports}\n\n{import_line(target.module)}\n"
    return header + "\n\n" + "\n\n".join(tests)


def within_allowlist(target: Target, kept: list[CallOutcome]) -> list[CallOutcome]:
    """The kept calls as tests may assert them under the allowlist.

    An assertion the allowlist refuses (a repr that needs a refused import, a
    type reached through one) becomes a plainer one; a call it refuses itself
    is left out.
    """
    out = []
    for outcome in kept:
        kind = "object" if outcome.kind == "value" else outcome.kind
        plainer = dataclasses.replace(outcome, kind=kind, needs="")
        for option in (outcome, plainer, dataclasses.replace(plainer, type=None)):
            header = ["import pytest", option.needs, import_line(target.module)]
            code = "\n".join([*header, render_test(option, "test_x")])
            if not check(code, target.module, target.file):
                out.append(option)
                break
    return out


class Characterizer:
    """Runs characterization search for targets of one project."""

    def __init__(
        self,
        project: Project,
        executor: CallExecutor | None = None,
        config: CharacterizeConfig | None = None,
    ) -> None:
        """``executor`` defaults to the guarded sandbox probe."""
        self.project = project
        if executor is None:
            from pytest_ruvqe.generate.search.executor import SandboxExecutor

            executor = SandboxExecutor(project)
        self.executor: CallExecutor = executor
        self.config = config or CharacterizeConfig()
        self._tests = read_tests(project.test_files)
        self._trees: dict[Path, ast.Module] = {}
        self._observed: dict[str, list[str]] = {}

    def _tree(self, path: Path) -> ast.Module:
        if path not in self._trees:
            self._trees[path] = ast.parse(path.read_text("utf-8"), filename=str(path))
        return self._trees[path]

    def search(
        self,
        target: Target,
        max_calls: int | None = None,
        seeds: tuple[str, ...] = (),
    ) -> SearchResult:
        """Plan, run and select calls for one target.

        ``seeds`` are more test texts to mine calls from, e.g. a model's
        proposals whose own assertions were wrong but whose inputs are good.
        """
        tree = self._tree(target.file)
        facts = module_facts(tree, target.module, self._tests + seeds)
        facts.observed = self._observed.setdefault(target.module, [])
        calls = plan_calls(
            tree,
            facts,
            target.qualname,
            max_calls or self.config.max_calls,
            self.config.seed,
        )
        if not calls:
            return SearchResult(target, (), 0)
        outcomes = self.executor.execute(
            ProbePlan(
                module=target.module,
                alias=module_alias(target.module),
                source_file=target.file,
                calls=tuple(calls),
                call_timeout=self.config.call_timeout,
                timeout=self.config.probe_timeout,
            )
        )
        kept = greedy_select(
            outcomes, target, self.config.max_tests, branch_lines(target.file)
        )
        for outcome in kept:
            # a repr that needs an import cannot feed later calls as it is
            if (
                outcome.kind == "value"
                and outcome.stable
                and outcome.repr
                and not outcome.needs
            ):
                add_unique(facts.observed, [outcome.repr], 200)
        lines = frozenset().union(*(o.lines for o in kept)) if kept else frozenset()
        arcs = frozenset().union(*(o.arcs for o in kept)) if kept else frozenset()
        return SearchResult(target, tuple(kept), len(calls), lines, arcs)

    def candidate(
        self, target: Target, round: int = 1, seeds: tuple[str, ...] = ()
    ) -> Candidate | None:
        """A candidate test module for ``target``, or None when nothing helps."""
        result = self.search(target, seeds=seeds)
        kept = within_allowlist(target, list(result.kept))
        if not kept:
            return None
        code = render_module(target, kept)
        return Candidate(
            target=target, code=code, generator="characterize", round=round
        )


class CharacterizeGenerator(Generator):
    """Characterization search; each round reseeds the random part of the search."""

    name = "characterize"

    def __init__(self, characterizer: Characterizer) -> None:
        super().__init__()
        self.characterizer = characterizer

    @classmethod
    def for_project(
        cls, project: Project, config: CharacterizeConfig | None = None
    ) -> CharacterizeGenerator:
        """A generator with a default characterizer for ``project``."""
        return cls(Characterizer(project, config=config))

    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """One candidate with the calls that reached new code, if any did."""
        base = self.characterizer.config
        if z.round >= base.rounds:
            return []
        self.characterizer.config = dataclasses.replace(base, seed=base.seed + z.round)
        try:
            candidate = self.characterizer.candidate(target, round=z.round + 1)
        except SEARCH_ERRORS as exc:
            self.errors.append(str(exc))
            return []
        finally:
            self.characterizer.config = base
        return [candidate] if candidate is not None else []
