"""A tiny project on disk for the sandbox, acceptance and writer tests."""

from __future__ import annotations

import functools
import importlib.util
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from pytest_ruvqe.generate.types import Project, Target

CALC = textwrap.dedent(
    """\
    def sign(x):
        if x < 0:
            return -1
        elif x == 0:
            return 0
        return 1


    def countdown(n):
        while n != 0:
            n -= 2
        return n


    def parse(text):
        if not text:
            raise ValueError("empty")
        return int(text)
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project with ``pkg/calc.py`` importable as ``pkg.calc``."""
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "calc.py").write_text(CALC, encoding="utf-8")
    return Project(rootdir=root, import_roots=(root,))


@pytest.fixture
def calc_file(project: Project) -> Path:
    """The source file every test here targets."""
    return project.rootdir / "pkg" / "calc.py"


MakeTarget = Callable[..., Target]


@pytest.fixture
def make_target(calc_file: Path) -> MakeTarget:
    """Builds ``pkg.calc.sign`` as a target, with what the suite already covers."""
    return functools.partial(_target, calc_file)


@pytest.fixture(scope="session")
def hostile() -> ModuleType:
    """The hostile candidate corpus (loaded by path: works in every import mode)."""
    path = Path(__file__).with_name("hostile_corpus.py")
    spec = importlib.util.spec_from_file_location("ruvqe_hostile_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _target(
    calc_file: Path,
    covered_lines: frozenset[int] = frozenset(),
    covered_branches: frozenset[tuple[int, int]] = frozenset(),
) -> Target:
    return Target(
        file=calc_file,
        module="pkg.calc",
        qualname="sign",
        start=1,
        end=6,
        complexity=3,
        missing_lines=frozenset({2, 3, 4, 5, 6}) - covered_lines,
        missing_branches=frozenset({(2, 3), (2, 4), (4, 5), (4, 6)}) - covered_branches,
        covered_lines=covered_lines,
        covered_branches=covered_branches,
    )
