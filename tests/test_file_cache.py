"""Per-file analyses cached by content hash: fresh after an edit, reused when
unchanged, rebuilt when written by another version."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ruvqe.analyse import file_cache
from pytest_ruvqe.analyse.file_cache import FileAnalyses
from pytest_ruvqe.analyse.smells import find_smells
from pytest_ruvqe.memory.store import MemoryStore

SOURCE = "def f(x):\n    if x < 0:\n        return -x\n    return x\n"
TESTS = "def test_a():\n    assert 1\n\ndef test_b():\n    f(1)\n"
BIG = 1 << 20


def _run(store: MemoryStore, path: Path) -> FileAnalyses:
    """One run: index and conditions of ``path``, then the entries stored."""
    analyses = FileAnalyses(store)
    analyses.index(path, "m", BIG)
    analyses.conditions(path, BIG)
    analyses.flush()
    return analyses


def test_unchanged_source_is_parsed_once_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    store = MemoryStore()
    first = _run(store, path)
    # index and conditions come from one parse
    assert first.analysed["source"] == 1
    second = _run(store, path)
    assert second.analysed["source"] == 0
    assert second.reused["source"] == 2
    index = second.index(path, "m", BIG)
    assert [f.qualname for f in index.functions] == ["f"]
    assert index.owner(3) is not None and index.owner(3).qualname == "f"
    condition = second.conditions(path, BIG)[2]
    assert condition.text == "x < 0"
    assert condition.hint(3) == "add a test with a negative x"


def test_edited_source_gets_a_fresh_index(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    store = MemoryStore()
    _run(store, path)
    path.write_text(SOURCE + "\n\ndef g():\n    return 1\n")
    again = _run(store, path)
    assert again.analysed["source"] == 1
    names = [f.qualname for f in again.index(path, "m", BIG).functions]
    assert names == ["f", "g"]


def test_an_edited_files_old_entry_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    store = MemoryStore()
    for n in range(5):
        path.write_text(SOURCE + f"\nN = {n}\n")
        _run(store, path)
    first = FileAnalyses(store)
    first.smells("test_m.py", TESTS)
    first.flush()
    # one entry per file and kind (and where each is found), not one per edit
    entries = store.keys(file_cache.NAMESPACE)
    assert len([k for k in entries if k.startswith("source:")]) == 1
    assert len([k for k in entries if k.startswith("smells:")]) == 1
    assert len(entries) == 4
    again = _run(store, path)
    assert again.analysed["source"] == 0


def test_edited_test_file_gets_fresh_smells() -> None:
    store = MemoryStore()
    first = FileAnalyses(store)
    before = find_smells({"test_m.py": TESTS}, first.smells)
    first.flush()
    assert {s.kind for s in before.smells} == {"tautological_assert", "no_assertion"}
    unchanged = FileAnalyses(store)
    assert find_smells({"test_m.py": TESTS}, unchanged.smells) == before
    assert unchanged.analysed["smells"] == 0
    edited = FileAnalyses(store)
    fixed = TESTS.replace("assert 1", "assert f(2) == 2").replace(
        "    f(1)", "    assert f(-1) == 1"
    )
    after = find_smells({"test_m.py": fixed}, edited.smells)
    assert edited.analysed["smells"] == 1
    assert after.smells == ()


def test_duplicates_across_cached_files_are_still_found() -> None:
    store = MemoryStore()
    files = {"test_a.py": "def test_x():\n    assert g(3) == 4\n"}
    first = FileAnalyses(store)
    first.smells("test_a.py", files["test_a.py"])
    first.flush()
    files["test_b.py"] = "def test_y():\n    assert g(3) == 4\n"
    analyses = FileAnalyses(store)
    report = find_smells(files, analyses.smells)
    assert analyses.reused["smells"] == 1
    assert [(s.kind, s.test) for s in report.smells if s.kind == "duplicate_test"] == [
        ("duplicate_test", "test_y")
    ]


def test_an_entry_of_another_version_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.py"
    path.write_text(SOURCE)
    store = MemoryStore()
    monkeypatch.setattr(file_cache, "VERSION", "0.0.1/0")
    _run(store, path)
    monkeypatch.undo()
    rebuilt = _run(store, path)
    assert rebuilt.analysed["source"] == 1
    assert _run(store, path).analysed["source"] == 0


def test_a_file_that_does_not_parse_is_skipped_not_cached_wrong(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.py"
    path.write_text("def broken(:\n")
    analyses = FileAnalyses(MemoryStore())
    with pytest.raises(file_cache.SourceSkipped, match="does not parse"):
        analyses.index(path, "m", BIG)
    assert analyses.conditions(path, BIG) == {}
    assert analyses.analysed["source"] == 1
