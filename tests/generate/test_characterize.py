"""Characterization search on a small real module, run in a real probe process."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from pytest_ruvqe.analyse.source_index import index_file
from pytest_ruvqe.generate.allowlist import check
from pytest_ruvqe.generate.search.characterize import (
    MIN_MUTANTS,
    CharacterizeConfig,
    Characterizer,
)
from pytest_ruvqe.generate.search.examples import calls_in_text
from pytest_ruvqe.generate.search.executor import (
    SandboxExecutor,
    as_expression,
    setup_expression,
)
from pytest_ruvqe.generate.search.facts import module_facts
from pytest_ruvqe.generate.search.inputs import comparison_values
from pytest_ruvqe.generate.search.probe import CallOutcome, PlannedCall, ProbePlan
from pytest_ruvqe.generate.search.render import render_test
from pytest_ruvqe.generate.search.select import greedy_select
from pytest_ruvqe.generate.types import Project, Target

SOURCE = '''
def sign(x: int) -> str:
    """Sign of a number.

    >>> sign(-5)  # returns 'neg'
    """
    if x < 0:
        return "neg"
    if x == 0:
        return "zero"
    return "pos"


def shout(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    if len(name) > 3:
        return name.upper()
    return name


def spin(n: int) -> int:
    while n == 7:
        pass
    return n


def deadline(days: int) -> "datetime.date":
    import datetime

    if days < 0:
        return datetime.date(2000, 1, 1)
    return datetime.date(2024, 1, 1) + datetime.timedelta(days=days)


class Counter:
    def __init__(self, start: int = 0) -> None:
        self.n = start

    def add(self, k: int) -> int:
        if k < 0:
            raise ValueError("k must not be negative")
        self.n += k
        return self.n


class Stopwatch:
    def __init__(self) -> None:
        self.running = False

    def start(self) -> None:
        self.running = True

    def stop(self) -> str:
        if not self.running:
            raise RuntimeError("not started")
        self.running = False
        return "stopped"
'''


@pytest.fixture
def project(tmp_path: Path) -> tuple[Project, Path]:
    pkg = tmp_path / "src" / "shapes"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    path = pkg / "calc.py"
    path.write_text(SOURCE)
    return Project(tmp_path, (tmp_path / "src",)), path


def target_of(path: Path, qualname: str, module: str = "shapes.calc") -> Target:
    func = index_file(path, module, 10**6).function(qualname)
    assert func is not None
    return Target(
        path,
        module,
        qualname,
        func.start,
        func.end,
        func.complexity,
        frozenset(),
        frozenset(),
    )


def body_lines(path: Path, qualname: str) -> set[int]:
    """Statement lines of a function, its def line excluded."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == qualname.split(".")[-1]:
            return {
                n.lineno
                for stmt in node.body
                for n in ast.walk(stmt)
                if isinstance(n, ast.stmt)
                and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            }
    raise AssertionError(qualname)


def test_function_branches_all_reached_and_asserted(
    project: tuple[Project, Path],
) -> None:
    proj, path = project
    result = Characterizer(proj).search(target_of(path, "sign"))
    assert body_lines(path, "sign") <= result.lines
    code = "\n".join(render_test(o, f"t{i}") for i, o in enumerate(result.kept))
    for expected in ("'neg'", "'zero'", "'pos'"):
        assert f"assert result == {expected}" in code


def test_kept_calls_are_judged_by_the_targets_mutants(
    project: tuple[Project, Path],
) -> None:
    proj, path = project
    result = Characterizer(proj).search(target_of(path, "sign"))
    # the mutants of sign change a returned word or a comparison the kept
    # calls tell apart (one or two, like x == 0 -> x <= 0 after x < 0, cannot be)
    assert result.mutants_judged >= MIN_MUTANTS
    assert result.mutants_killed >= 0.8 * result.mutants_judged
    assert {o.call.id for o in result.kept} == set(result.checks)
    assert all(len(checks) == 1 for checks in result.checks.values())


def test_tests_kept_for_their_kills_say_what_each_kills(
    project: tuple[Project, Path],
) -> None:
    proj, path = project
    found = Characterizer(proj).candidate(target_of(path, "sign"), killing=True)
    assert found is not None
    names = re.findall(r"^def (test_\w+)", found.code, re.MULTILINE)
    assert [name for name, _ in found.kills] == names
    assert all(kills > 0 for _, kills in found.kills)
    assert sum(kills for _, kills in found.kills) >= MIN_MUTANTS


class SimulatedTime:
    """The real probe, on a clock where every call takes ``pace`` seconds."""

    def __init__(self, project: Project, pace: float) -> None:
        self.inner = SandboxExecutor(project)
        self.pace = pace
        self.now = 0.0
        self.judging: list[tuple[float, int]] = []  # (time left, calls) per judge

    def clock(self) -> float:
        return self.now

    def execute(self, plan: ProbePlan) -> list[CallOutcome]:
        if plan.prelude:
            self.judging.append((plan.timeout, len(plan.calls)))
        self.now += self.pace * len(plan.calls)
        return self.inner.execute(plan)


@pytest.mark.parametrize("seconds", [0.5, 3.0, 120.0])
def test_judging_by_mutants_stays_within_the_time_given(
    project: tuple[Project, Path], seconds: float
) -> None:
    proj, path = project
    sim = SimulatedTime(proj, pace=0.02)
    characterizer = Characterizer(proj, executor=sim, clock=sim.clock)
    result = characterizer.search(target_of(path, "sign"), seconds=seconds)
    assert result.kept
    if seconds == 0.5:  # the search used most of it: too little is left to judge
        assert sim.judging == [] and result.mutants_judged == 0
    else:
        assert result.mutants_judged >= MIN_MUTANTS
    assert sim.now <= seconds
    assert all(calls * sim.pace <= timeout for timeout, calls in sim.judging)


def test_values_whose_repr_needs_an_import_are_asserted_exactly(
    project: tuple[Project, Path],
) -> None:
    proj, path = project
    characterizer = Characterizer(proj)
    target = target_of(path, "deadline")
    kept = characterizer.search(target).kept
    values = [o for o in kept if o.kind == "value"]
    assert values and {o.needs for o in values} == {"import datetime"}
    candidate = characterizer.candidate(target)
    assert candidate is not None
    assert "import datetime" in candidate.code.splitlines()
    assert "assert result == datetime.date(2000, 1, 1)" in candidate.code
    assert "is not None" not in candidate.code


def test_exceptions_become_pytest_raises(project: tuple[Project, Path]) -> None:
    proj, path = project
    shout = Characterizer(proj).search(target_of(path, "shout"))
    assert body_lines(path, "shout") <= shout.lines
    raised = [o for o in shout.kept if o.kind == "raise"]
    assert [o.type for o in raised] == ["TypeError"]
    counter = Characterizer(proj).search(target_of(path, "Counter.add"))
    assert "ValueError" in {o.type for o in counter.kept if o.kind == "raise"}
    assert all(o.call.setup[0].startswith("obj = calc.Counter(") for o in counter.kept)


def test_method_needing_a_prior_call_gets_one(project: tuple[Project, Path]) -> None:
    proj, path = project
    result = Characterizer(proj).search(target_of(path, "Stopwatch.stop"))
    values = [o for o in result.kept if o.kind == "value"]
    assert values and values[0].repr == "'stopped'"
    assert values[0].call.setup[-1] == "obj.start()"


def test_hanging_call_is_cut_and_others_still_run(
    project: tuple[Project, Path],
) -> None:
    proj, path = project
    config = CharacterizeConfig(call_timeout=0.2, max_calls=30)
    result = Characterizer(proj, config=config).search(target_of(path, "spin"))
    # n == 7 loops forever: that call times out and is never emitted
    assert all("spin(7)" not in o.call.expr for o in result.kept)
    assert any(o.kind == "value" for o in result.kept)


def test_generated_module_passes_and_is_deterministic(
    project: tuple[Project, Path],
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proj, path = project
    codes = []
    for _ in range(2):
        candidate = Characterizer(proj).candidate(target_of(path, "Counter.add"))
        assert candidate is not None and candidate.generator == "characterize"
        codes.append(candidate.code)
    assert codes[0] == codes[1]
    assert "import shapes.calc as calc" in codes[0]
    monkeypatch.setenv("PYTHONPATH", str(proj.import_roots[0]))
    pytester.makepyfile(test_generated=codes[0])
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-p", "no:ruvqe"
    )
    n_tests = codes[0].count("\ndef test_")
    assert n_tests >= 2
    result.assert_outcomes(passed=n_tests)


# results whose repr or type needs a refused import, an async function, a
# generator, and a method whose name the allowlist refuses on every object
AWKWARD = """\
import asyncio
from pathlib import PurePosixPath
from subprocess import CalledProcessError


def where(name: str) -> PurePosixPath:
    if not name:
        raise CalledProcessError(1, "where")
    return PurePosixPath("/data") / name


async def twice(n: int) -> int:
    await asyncio.sleep(0)
    if n < 0:
        return 0
    return n * 2


def count(n: int):
    for i in range(n):
        yield i


class Clock:
    def __init__(self, start: int = 0) -> None:
        self.t = start

    def now(self) -> int:
        if self.t < 0:
            raise ValueError("negative")
        return self.t
"""
# a model's proposal: only its literal arguments may seed the search
SEED = "def test_where():\n    where(__import__('os').getcwd())\n    where('ok')\n"


def test_characterization_emits_only_what_the_allowlist_allows(
    project: tuple[Project, Path],
) -> None:
    proj, path = project
    awkward = path.with_name("awkward.py")
    awkward.write_text(AWKWARD)
    targets = [
        *(target_of(path, q) for q in ("sign", "deadline", "Counter.add")),
        *(
            target_of(awkward, q, "shapes.awkward")
            for q in ("where", "twice", "count", "Clock.now")
        ),
    ]
    characterizer = Characterizer(proj, config=CharacterizeConfig(max_calls=60))
    emitted = {}
    for target in targets:
        candidate = characterizer.candidate(target, seeds=(SEED,))
        if candidate is not None:
            assert check(candidate.code, target.module, target.file) == ()
            emitted[target.qualname] = candidate.code
    # held to the rules, not silenced by them: most targets still get tests
    assert {"sign", "deadline", "Counter.add", "twice"} <= set(emitted)
    assert len(emitted) >= 5
    # a path's repr would need pathlib, its type is reached through it
    assert all("pathlib" not in code for code in emitted.values())
    assert all("__import__" not in code for code in emitted.values())


def test_greedy_select_prefers_new_lines_inside_the_target() -> None:
    target = Target(Path("m.py"), "m", "f", 10, 20, 2, frozenset(), frozenset())

    def outcome(name: str, lines: set[int]) -> CallOutcome:
        return CallOutcome(
            PlannedCall(name, (), "m.f()"), "value", repr="1", lines=frozenset(lines)
        )

    outside = outcome("a", {1, 2, 3, 4, 5})
    inside = outcome("b", {11, 12})
    duplicate = outcome("c", {11})
    kept = greedy_select([outside, inside, duplicate], target, max_tests=10)
    assert [o.call.id for o in kept] == ["b", "a"]


def test_comparison_constants_and_doc_examples_become_inputs() -> None:
    func = ast.parse(
        textwrap.dedent("""
        def f(x, s):
            if x < 0 or x >= 10:
                return 1
            if len(s) == 2 or s in ("on", "off"):
                return 2
    """)
    ).body[0]
    assert isinstance(func, ast.FunctionDef)
    values = comparison_values(func, {"x", "s"})
    assert {"-1", "0", "1", "9", "10", "11"} <= set(values["x"])
    assert {"'a'", "'aa'", "'aaa'", "'on'", "'off'"} <= set(values["s"])
    examples = calls_in_text(">>> f(3, 'on') # returns 2\n>>> g(1)", "f")
    assert [(e.args, e.kwargs) for e in examples] == [(("3", "'on'"), ())]


def test_planned_calls_become_single_expressions_for_the_sandbox() -> None:
    call = PlannedCall(
        "c1", ("import itertools", "obj = m.Timer()", "obj.start()"), "obj.stop()"
    )
    expr, imports = as_expression(call)
    assert imports == ("import itertools",)
    assert expr == "((obj := m.Timer()), obj.start(), obj.stop())[-1]"
    assert setup_expression(call) == "((obj := m.Timer()), obj.start())[-1]"
    assert setup_expression(PlannedCall("c2", (), "m.f(1)")) is None


def test_headings_become_documents_and_results_feed_typed_parameters() -> None:
    tree = ast.parse(
        textwrap.dedent("""
        SECTIONS = ["Args", "Returns", "Raises", "Examples"]

        class Doc:
            pass

        def parse(text: str) -> Doc:
            return Doc()

        def render(doc: Doc) -> str:
            return ""
        """)
    )
    facts = module_facts(tree, "pkg.docs")
    assert facts.documents
    assert any("Args:\\n    x (int)" in d for d in facts.documents)
    producers = facts.instances["Doc"]
    assert any(p.startswith("docs.parse('Short summary.") for p in producers)
    assert "docs.Doc()" in producers
