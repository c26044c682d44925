"""The writer adds accepted tests to generated files or a patch, never twice."""

from __future__ import annotations

import ast
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_ruvqe.fileio import write_atomic
from pytest_ruvqe.generate.sandbox import run_tests
from pytest_ruvqe.generate.types import (
    Candidate,
    Project,
    Reason,
    Target,
    Validation,
    Verdict,
)
from pytest_ruvqe.generate.writer import (
    MARKER,
    WriterError,
    generated_path_for,
    write_tests,
)

MakeTarget = Callable[..., Target]

FIRST = '''\
import pytest

from pkg.calc import sign


def expect(value, wanted):
    assert sign(value) == wanted


def test_negative():
    """Negative numbers."""
    expect(-3, -1)


@pytest.mark.parametrize("n", [1, 7])
def test_positive(n):
    assert sign(n) == 1
'''

SECOND = '''\
from __future__ import annotations

import pytest

from pkg.calc import parse, sign


def expect(value, wanted):
    assert parse(value) == wanted


@pytest.mark.parametrize("n", [1, 7])
def test_positive(n):
    """Same test, another docstring and spacing: a duplicate."""
    assert sign( n ) == 1


def test_zero():
    assert sign(0) == 0


def test_parse():
    expect("12", 12)
'''


def accepted(target: Target, code: str, *names: str, model: str = "m") -> Validation:
    """A validation in which every named test was accepted with some gain."""
    candidate = Candidate(target, code, "chat", model=model)
    verdicts = tuple(
        Verdict(n, Reason.ACCEPTED, frozenset({2, 3}), frozenset({(2, 3)}))
        for n in names
    )
    return Validation(candidate, verdicts, accepted_code=code)


def test_first_write_creates_a_runnable_file_with_provenance(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    validation = accepted(make_target(), FIRST, "test_negative", "test_positive")
    result = write_tests([validation], project.rootdir)

    path = project.rootdir / "tests" / "ruvqe_generated" / "test_pkg_calc_ruvqe.py"
    assert result.written == (path,) and result.test_files == (path,)
    assert result.added == (
        "tests/ruvqe_generated/test_pkg_calc_ruvqe.py::test_negative",
        "tests/ruvqe_generated/test_pkg_calc_ruvqe.py::test_positive",
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f'"""{MARKER} for ``pkg.calc``.')
    comment = (
        "# ruvqe: target pkg.calc:sign | generator chat | model m | "
        "+2 lines, +1 branch\n"
    )
    assert comment + "def test_negative():" in text
    assert comment + '@pytest.mark.parametrize("n", [1, 7])' in text
    run = run_tests(project, text, calc_file)
    outcomes = {name: r.outcome for name, r in run.tests.items()}
    assert outcomes == {
        "test_negative": "passed",
        "test_positive[1]": "passed",
        "test_positive[7]": "passed",
    }


def test_merge_skips_duplicates_and_renames_clashes(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    first = accepted(make_target(), FIRST, "test_negative", "test_positive")
    write_tests([first], project.rootdir)
    second = accepted(make_target(), SECOND, "test_positive", "test_zero", "test_parse")
    result = write_tests([second], project.rootdir)

    rel = "tests/ruvqe_generated/test_pkg_calc_ruvqe.py"
    assert result.skipped == (f"{rel}::test_positive",)
    assert result.added == (f"{rel}::test_zero", f"{rel}::test_parse")
    path = project.rootdir / rel
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    # the second ``expect`` differs from the first: renamed, and so are its uses
    assert defined == [
        "expect",
        "test_negative",
        "test_positive",
        "expect_2",
        "test_zero",
        "test_parse",
    ]
    assert 'expect_2("12", 12)' in text
    assert text.index("from __future__ import annotations") < text.index("import")
    assert text.count("from pkg.calc import parse, sign") == 1
    head = text.split('"""\n', 1)[1].split("\n\n\n", 1)[0]
    assert head.strip().splitlines() == [
        "from __future__ import annotations",
        "",
        "import pytest",
        "from pkg.calc import sign",
        "from pkg.calc import parse, sign",
    ]
    run = run_tests(project, text, calc_file)
    assert {r.outcome for r in run.tests.values()} == {"passed"}, run.tests


def test_rewriting_the_same_tests_changes_nothing(
    project: Project, make_target: MakeTarget
) -> None:
    validation = accepted(make_target(), FIRST, "test_negative", "test_positive")
    write_tests([validation], project.rootdir)
    path = generated_path_for("pkg.calc", project.rootdir / "tests" / "ruvqe_generated")
    before = path.read_text(encoding="utf-8")
    again = write_tests([validation], project.rootdir)
    assert again.written == () and again.added == ()
    assert len(again.skipped) == 2
    assert path.read_text(encoding="utf-8") == before


def test_renaming_a_clashing_helper_leaves_attributes_and_keywords(
    project: Project, calc_file: Path, make_target: MakeTarget
) -> None:
    one = (
        "import pytest\n\n\n@pytest.fixture\ndef data():\n    return 1\n\n\n"
        "def test_one(data):\n    assert data == 1\n"
    )
    two = (
        "import types\n\nimport pytest\n\n\n@pytest.fixture\ndef data():\n"
        "    return types.SimpleNamespace(data=2)\n\n\n"
        "def test_two(data):\n    assert data.data == dict(data=2)['data']\n"
    )
    write_tests([accepted(make_target(), one, "test_one")], project.rootdir)
    write_tests([accepted(make_target(), two, "test_two")], project.rootdir)
    text = generated_path_for(
        "pkg.calc", project.rootdir / "tests" / "ruvqe_generated"
    ).read_text(encoding="utf-8")
    assert "def data_2():\n    return types.SimpleNamespace(data=2)" in text
    assert (
        "def test_two(data_2):\n    assert data_2.data == dict(data=2)['data']" in text
    )
    run = run_tests(project, text, calc_file)
    outcomes = {name: r.outcome for name, r in run.tests.items()}
    assert outcomes == {"test_one": "passed", "test_two": "passed"}


def test_same_name_other_body_is_renamed(
    project: Project, make_target: MakeTarget
) -> None:
    one = "from pkg.calc import sign\n\n\ndef test_x():\n    assert sign(1) == 1\n"
    two = "from pkg.calc import sign\n\n\ndef test_x():\n    assert sign(-1) == -1\n"
    write_tests([accepted(make_target(), one, "test_x")], project.rootdir)
    result = write_tests([accepted(make_target(), two, "test_x")], project.rootdir)
    rel = "tests/ruvqe_generated/test_pkg_calc_ruvqe.py"
    assert result.renamed == {f"{rel}::test_x": "test_x_2"}
    assert "def test_x_2():\n    assert sign(-1) == -1" in (
        project.rootdir / rel
    ).read_text(encoding="utf-8")


def test_patch_mode_writes_a_diff_that_git_applies(
    project: Project, make_target: MakeTarget
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = project.rootdir
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    first = accepted(make_target(), FIRST, "test_negative", "test_positive")
    # an earlier run wrote a file; this run only proposes additions to it
    write_tests([first], root, generated_dir=Path("gen"))
    second = accepted(make_target(), SECOND, "test_zero", "test_parse")
    expected_dir = Path("expected")
    write_tests([first], root, generated_dir=expected_dir)
    write_tests([second], root, generated_dir=expected_dir)

    before = (root / "gen" / "test_pkg_calc_ruvqe.py").read_text(encoding="utf-8")
    result = write_tests(
        [second], root, generated_dir=Path("gen"), patch=Path(".ruvqe/gen.patch")
    )
    patch = root / ".ruvqe" / "gen.patch"
    assert result.patch == patch and result.written == (patch,)
    assert result.apply_command == f"git apply {patch}"
    generated = root / "gen" / "test_pkg_calc_ruvqe.py"
    assert generated.read_text(encoding="utf-8") == before  # nothing applied yet
    subprocess.run(["git", "apply", str(patch)], cwd=root, check=True)
    want = (root / expected_dir / "test_pkg_calc_ruvqe.py").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == want


def test_patch_creating_a_new_file(project: Project, make_target: MakeTarget) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = project.rootdir
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    result = write_tests(
        [accepted(make_target(), FIRST, "test_negative")], root, patch=Path("p.diff")
    )
    target = root / "tests" / "ruvqe_generated" / "test_pkg_calc_ruvqe.py"
    assert not target.exists()
    assert result.test_files == (target,)
    subprocess.run(["git", "apply", "p.diff"], cwd=root, check=True)
    assert target.read_text(encoding="utf-8").startswith(f'"""{MARKER}')
    (root / "p.diff").unlink()
    again = write_tests(
        [accepted(make_target(), FIRST, "test_negative")], root, patch=Path("p.diff")
    )
    assert again.patch is None and again.written == ()
    assert not (root / "p.diff").exists()


def test_never_overwrites_a_file_it_did_not_write(
    project: Project, make_target: MakeTarget
) -> None:
    own = project.rootdir / "tests" / "ruvqe_generated" / "test_pkg_calc_ruvqe.py"
    own.parent.mkdir(parents=True)
    own.write_text("def test_mine():\n    assert 1\n", encoding="utf-8")
    with pytest.raises(WriterError, match="header"):
        write_tests([accepted(make_target(), FIRST, "test_negative")], project.rootdir)
    assert own.read_text(encoding="utf-8") == "def test_mine():\n    assert 1\n"
    with pytest.raises(WriterError, match="outside the rootdir"):
        write_tests(
            [accepted(make_target(), FIRST, "test_negative")],
            project.rootdir,
            generated_dir=Path("../elsewhere"),
        )
    assert not (project.rootdir.parent / "elsewhere").exists()


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "out.py"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "new \udc80 text\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.py"]
    write_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"


def test_nothing_accepted_writes_nothing(
    project: Project, make_target: MakeTarget
) -> None:
    candidate = Candidate(make_target(), FIRST, "chat")
    rejected = Validation(
        candidate, (Verdict("test_negative", Reason.FAILS),), accepted_code=None
    )
    result = write_tests([rejected], project.rootdir)
    assert result.written == () and result.added == ()
    assert not (project.rootdir / "tests").exists()
