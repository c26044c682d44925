"""Per-file analysis cached by content hash: each file parsed at most once a run.

The source index with the branch conditions of a source file, and the smells
of a test file, are plain data kept in a key-value cache (the ``.ruvqe/``
store, joined in by the session) under a hash of the file's text. A file
whose text did not change since the last run is not parsed at all; one that
changed, or an entry written by another version, is analysed again and the
entry rebuilt; the entry it supersedes is deleted, so the cache holds one
entry per file and kind however often files change.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import astuple
from pathlib import Path
from typing import Any, Literal, Protocol

from pytest_ruvqe import __version__
from pytest_ruvqe.analyse.conditions import Condition, conditions_of
from pytest_ruvqe.analyse.smells import file_smells
from pytest_ruvqe.analyse.source_index import (
    FunctionInfo,
    ModuleIndex,
    SourceSkipped,
    index_tree,
    make_index,
    parse_source,
    read_source,
)

NAMESPACE = "analysis"
# entries of another version (of the package or of this layout) are rebuilt
VERSION = f"{__version__}/1"
Kind = Literal["source", "smells"]


class KeyValue(Protocol):
    """Where entries are kept between runs (the ``.ruvqe/`` store)."""

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""

    def put(self, namespace: str, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``."""

    def delete(self, namespace: str, key: str) -> None:
        """Drop what is under ``key``, if anything is."""


class FileAnalyses:
    """One run's analyses of source and test files, reused across runs.

    ``analysed`` and ``reused`` count files by kind: analysed (parsed) in
    this run, or taken from this run's memory or the cache.
    """

    def __init__(self, cache: KeyValue | None = None) -> None:
        self.cache = cache
        self.analysed: Counter[Kind] = Counter()
        self.reused: Counter[Kind] = Counter()
        self.pending: dict[str, dict[str, Any]] = {}  # written by :meth:`flush`
        # per file and kind, the key of its entry now (what supersedes the last)
        self._current: dict[str, str] = {}
        self._memo: dict[str, dict[str, Any]] = {}
        self._texts: dict[Path, str] = {}

    def _entry(
        self, kind: Kind, name: str, text: str, make: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        # the name too: messages about a file name it
        digest = hashlib.sha256(f"{name}\0{text}".encode()).hexdigest()
        key = f"{kind}:{digest}"
        if key in self._memo:
            self.reused[kind] += 1
            return self._memo[key]
        stored = self.cache.get(NAMESPACE, key) if self.cache is not None else None
        if isinstance(stored, dict) and stored.get("version") == VERSION:
            data: dict[str, Any] = stored["data"]
            self.reused[kind] += 1
        else:
            data = make()
            self.analysed[kind] += 1
            self.pending[key] = {"version": VERSION, "data": data}
            self._current[_file_key(kind, name)] = key
        self._memo[key] = data
        return data

    def flush(self) -> None:
        """Write the entries made this run to the cache, and drop the ones
        they supersede."""
        if self.cache is not None:
            for key, value in self.pending.items():
                self.cache.put(NAMESPACE, key, value)
            for file_key, key in self._current.items():
                old = self.cache.get(NAMESPACE, file_key)
                if isinstance(old, str) and old != key:
                    self.cache.delete(NAMESPACE, old)
                self.cache.put(NAMESPACE, file_key, key)
        self.pending.clear()
        self._current.clear()

    # -- source files ------------------------------------------------------------

    def _source(self, path: Path, max_bytes: int) -> dict[str, Any]:
        if path not in self._texts:
            self._texts[path] = read_source(path, max_bytes)
        text = self._texts[path]
        return self._entry("source", str(path), text, lambda: _source_data(text, path))

    def index(self, path: Path, module: str, max_bytes: int) -> ModuleIndex:
        """The index of a source file; :class:`SourceSkipped` says why not."""
        data = self._source(path, max_bytes)
        if "error" in data:
            raise SourceSkipped(str(data["error"]))
        functions = [_function(row) for row in data["functions"]]
        return make_index(path, module, functions, int(data["lines"]))

    def conditions(self, path: Path, max_bytes: int) -> Mapping[int, Condition]:
        """The branch conditions of a source file (empty if it cannot be read)."""
        try:
            data = self._source(path, max_bytes)
        except SourceSkipped:
            return {}
        return {int(row[0]): Condition(*row) for row in data.get("conditions", ())}

    # -- test files ----------------------------------------------------------------

    def smells(self, file: str, text: str) -> Mapping[str, Any]:
        """The smells of one test file, as :func:`smells.file_smells` gives them."""
        return self._entry("smells", file, text, lambda: file_smells(file, text))


def _file_key(kind: Kind, name: str) -> str:
    """Where the key of a file's current entry is kept."""
    return f"{kind}-of:{hashlib.sha256(name.encode()).hexdigest()}"


def _source_data(text: str, path: Path) -> dict[str, Any]:
    """Index and conditions of one source text, from a single parse."""
    try:
        tree = parse_source(text, path)
    except SourceSkipped as exc:
        return {"error": str(exc)}
    index = index_tree(tree, text, path, "")
    return {
        "functions": [list(astuple(f)) for f in index.functions],
        "lines": index.line_count,
        "conditions": [list(astuple(c)) for c in conditions_of(tree).values()],
    }


def _function(row: list[Any]) -> FunctionInfo:
    qualname, name, start, end, def_line, complexity, method, is_async = row[:8]
    owner, args = row[8:]
    return FunctionInfo(
        qualname=str(qualname),
        name=str(name),
        start=int(start),
        end=int(end),
        def_line=int(def_line),
        complexity=int(complexity),
        is_method=bool(method),
        is_async=bool(is_async),
        class_name=None if owner is None else str(owner),
        params=tuple(str(p) for p in args),
    )
