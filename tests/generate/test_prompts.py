"""Context, prompts and reply parsing on the tiny calc project."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from pathlib import Path

from pytest_ruvqe.generate.prompt.context import (
    Exemplar,
    build_context,
    numbered_source,
)
from pytest_ruvqe.generate.prompt.replies import (
    extract_code,
    fix_imports,
    scaffold_module,
)
from pytest_ruvqe.generate.prompt.requests import (
    chat_messages,
    scaffold_prefix,
    scaffold_request,
)
from pytest_ruvqe.generate.types import Feedback, Project, Target

MakeTarget = Callable[..., Target]

EXISTING = """import pkg.calc as calc


def test_parse_number():
    assert calc.parse("12") == 12


def test_sign_of_zero():
    assert calc.sign(0) == 0
"""


class ListExemplars:
    """An exemplar source backed by a list."""

    def __init__(self, items: Sequence[Exemplar]) -> None:
        self.items = list(items)
        self.asked: list[tuple[str, int]] = []

    def recall(self, target: Target, k: int) -> Sequence[Exemplar]:
        self.asked.append((target.qualname, k))
        return self.items[:k]


def with_tests(project: Project) -> Project:
    tests = project.rootdir / "tests"
    tests.mkdir()
    (tests / "test_calc.py").write_text(EXISTING)
    (tests / "test_other.py").write_text("def test_unrelated():\n    assert 1\n")
    return Project(
        project.rootdir,
        project.import_roots,
        (tests / "test_calc.py", tests / "test_other.py"),
    )


def test_numbered_source_marks_missing_lines_and_branches() -> None:
    lines = ["def f(x):", "    if x:", "        return 1", "    return 2"]
    text = numbered_source(lines, 1, 4, frozenset({3}), frozenset({(2, 3)}))
    rows = text.splitlines()
    assert rows[1].endswith("if x:  # MISSING branch to line 3")
    assert rows[2].startswith(">>    3") and rows[2].endswith("# MISSING")
    assert rows[3].startswith("      4") and "MISSING" not in rows[3]


def test_chat_prompt_carries_context_exemplars_and_feedback(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    proj = with_tests(project)
    source = ListExemplars([Exemplar("def test_x():\n    assert f(1) == 2\n", "f")])
    ctx = build_context(make_target(), proj, source, k=2)
    assert source.asked == [("sign", 2)]
    assert ctx.import_hint == "import pkg.calc as calc"
    assert "test_sign_of_zero" in ctx.existing_tests
    assert "test_unrelated" not in ctx.existing_tests
    z = Feedback(
        round=1,
        errors=("test_sign_neg: fails: AssertionError: assert -1 == 1",),
        missing_lines=frozenset({5}),
        missing_branches=frozenset({(4, 5)}),
        accepted=("test_sign_zero",),
    )
    system, user = chat_messages(ctx, z)
    assert system.role == "system" and "```python" in system.content
    text = user.content
    assert "import pkg.calc as calc" in text
    assert "assert f(1) == 2" in text
    assert "AssertionError: assert -1 == 1" in text
    assert "lines [5]" in text and "branches [4->5]" in text
    assert "do not repeat: test_sign_zero" in text
    assert "test_sign_<case>" in text


def test_called_signatures_name_module_functions(project: Project) -> None:
    calc = project.rootdir / "pkg" / "calc.py"
    calc.write_text(
        calc.read_text()
        + "\n\ndef twice(n: int, k: int = 2) -> int:\n    return parse(str(n)) * k\n"
    )
    end = len(calc.read_text().splitlines())
    target = Target(
        calc, "pkg.calc", "twice", end - 1, end, 1, frozenset(), frozenset()
    )
    ctx = build_context(target, project)
    assert ctx.signatures == ("def parse(text)",)


def test_extract_code_prefers_the_block_with_tests() -> None:
    reply = (
        "Here you go:\n```bash\npip install x\n```\n"
        "```python\nimport pkg.calc as calc\n\n"
        "def test_a():\n    assert calc.sign(1) == 1\n```\n"
        "Hope this helps."
    )
    code = extract_code(reply)
    assert code is not None and code.startswith("import pkg.calc") and "pip" not in code
    bare = "Sure.\nimport pytest\ndef test_b():\n    assert 1 + 1 == 2\n"
    assert extract_code(bare) == "import pytest\ndef test_b():\n    assert 1 + 1 == 2\n"
    assert extract_code("I cannot help with that.") is None


def test_fix_imports_points_wrong_paths_at_the_module() -> None:
    defined = frozenset({"sign", "parse", "countdown"})
    code = (
        "from calc import sign, parse\n"
        "from os import path\n"
        "import src.pkg.calc\n"
        "\n"
        "def test_a():\n"
        "    with pytest.raises(ValueError):\n"
        "        parse('')\n"
    )
    fixed = fix_imports(code, "pkg.calc", defined, "calc")
    lines = fixed.splitlines()
    assert lines[0] == "import pytest"
    assert "from pkg.calc import sign, parse" in lines
    assert "from os import path" in lines
    assert "import pkg.calc as calc" in lines
    ast.parse(fixed)
    # a module that already imports correctly is left alone
    good = "import pkg.calc as calc\n\ndef test_b():\n    assert calc.sign(1) == 1\n"
    assert fix_imports(good, "pkg.calc", defined, "calc") == good
    # a missing import of the module under its alias is added
    assert fix_imports(
        "def test_c():\n    assert calc.sign(2) == 1\n", "pkg.calc", defined, "calc"
    ).startswith("import pkg.calc as calc\n")


def test_scaffold_prefix_and_continuation(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    ctx = build_context(make_target(), with_tests(project))
    prefix = scaffold_prefix(ctx)
    assert prefix.startswith("import pytest\nimport pkg.calc as calc\n")
    assert prefix.endswith("\ndef test_sign_")
    assert "def test_sign_of_zero" in prefix  # the pattern test names the target
    request = scaffold_request(ctx, temperature=0.9, seed=3)
    assert request.prompt == prefix and request.temperature == 0.9
    module = scaffold_module(
        ctx, "negative():\n    assert calc.sign(-4) == -1\n\nthe model rambles on (\n"
    )
    assert module is not None
    assert module.rstrip().endswith("assert calc.sign(-4) == -1")
    assert scaffold_module(ctx, "(((") is None
