"""Which files hold tests, and the file part of a pytest node id."""

from __future__ import annotations

from pathlib import PurePath

_TEST_DIRS = frozenset({"tests", "test", "testing"})


def node_path(nodeid: str) -> str:
    """``tests/test_a.py::TestB::test_c[1]`` → ``tests/test_a.py``."""
    return nodeid.partition("::")[0]


def is_test_module(name: str) -> bool:
    """A file name pytest collects by default: ``test_*.py`` or ``*_test.py``."""
    return name.startswith("test_") or name.endswith("_test.py")


def is_test_file(path: PurePath) -> bool:
    """Test modules, conftests, and anything under a ``tests``/``test`` folder."""
    return (
        is_test_module(path.name)
        or path.name == "conftest.py"
        or any(part in _TEST_DIRS for part in path.parts[:-1])
    )
