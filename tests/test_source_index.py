from pathlib import Path

import pytest

from pytest_ruvqe.analyse.source_index import (
    SourceSkipped,
    cyclomatic_complexity,
    index_file,
    index_source,
)
from pytest_ruvqe.measure.sources import module_name

SOURCE = """\
import functools


def plain(x):
    return x


@functools.cache
def branchy(a, b=1, *args, key=None, **kw):
    if a and b or key:
        return [i for i in range(a) if i % 2]
    for i in range(3):
        try:
            pass
        except ValueError:
            continue
    return None


class Box:
    size = 3

    def grow(self, n):
        def helper(m):
            return m if m > 0 else 0

        return helper(n) + self.size
"""


def test_functions_have_qualified_names_and_ranges() -> None:
    index = index_source(SOURCE, Path("m.py"), "m")
    names = {f.qualname: (f.start, f.end) for f in index.functions}
    assert set(names) == {"plain", "branchy", "Box.grow", "Box.grow.helper"}
    assert names["plain"] == (4, 5)
    assert names["branchy"] == (8, 17)  # decorator line included
    assert names["Box.grow"] == (23, 27)
    assert names["Box.grow.helper"] == (24, 25)
    grow = index.function("Box.grow")
    assert grow is not None and grow.is_method and grow.class_name == "Box"
    helper = index.function("Box.grow.helper")
    assert helper is not None and not helper.is_method
    branchy = index.function("branchy")
    assert branchy is not None
    assert branchy.params == ("a", "b", "key", "args", "kw")


def test_complexity_counts_decisions_but_not_nested_functions() -> None:
    index = index_source(SOURCE, Path("m.py"), "m")
    complexity = {f.qualname: f.complexity for f in index.functions}
    assert complexity["plain"] == 1
    # if, `and`/`or` (2), comprehension + its if (2), for, except
    assert complexity["branchy"] == 1 + 1 + 2 + 2 + 1 + 1
    assert complexity["Box.grow"] == 1  # helper's ternary is its own
    assert complexity["Box.grow.helper"] == 2


def test_owner_is_innermost_function() -> None:
    index = index_source(SOURCE, Path("m.py"), "m")
    owner = index.owner(25)
    assert owner is not None and owner.qualname == "Box.grow.helper"
    owner = index.owner(27)
    assert owner is not None and owner.qualname == "Box.grow"
    assert index.owner(21) is None  # class body, module scope
    assert index.owner(1) is None


def test_cyclomatic_complexity_of_match() -> None:
    import ast

    tree = ast.parse(
        "def f(x):\n    match x:\n        case 1:\n            pass\n"
        "        case _:\n            pass\n"
    )
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    assert cyclomatic_complexity(func) == 3


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"def broken(:\n", "does not parse"),
        (b"x = '\xff\xfe'\n", "is not UTF-8"),
        (b"x = 1\n" * 400, "too large"),
    ],
)
def test_unreadable_sources_are_skipped_with_a_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    with pytest.raises(SourceSkipped, match=reason):
        index_file(path, "bad", max_bytes=1024)


def test_module_name_walks_packages(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "top" / "sub"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("")
    assert module_name(pkg / "mod.py") == "top.sub.mod"
    assert module_name(pkg / "__init__.py") == "top.sub"
