"""Which code is measured when the user does not say."""

from __future__ import annotations

from pathlib import Path

from pytest_ruvqe.testpaths import is_test_module

_NOT_SOURCE_DIRS = frozenset(
    {
        "tests",
        "test",
        "testing",
        "docs",
        "doc",
        "examples",
        "example",
        "build",
        "dist",
        "bench",
        "benchmarks",
        "scripts",
        "site-packages",
        "node_modules",
    }
)
_NOT_SOURCE_FILES = frozenset(
    {"conftest.py", "setup.py", "noxfile.py", "tasks.py", "fabfile.py", "manage.py"}
)


def _candidates(base: Path) -> list[Path]:
    found: list[Path] = []
    for child in sorted(base.iterdir()):
        name = child.name
        if name.startswith((".", "_")) and name != "__init__.py":
            continue
        if child.is_dir():
            if name in _NOT_SOURCE_DIRS or name.startswith("test"):
                continue
            if (child / "__init__.py").exists() and not (child / "pyvenv.cfg").exists():
                found.append(child)
        elif (
            child.suffix == ".py"
            and name not in _NOT_SOURCE_FILES
            and not is_test_module(name)
        ):
            found.append(child)
    return found


def infer_sources(rootdir: Path) -> tuple[Path, ...]:
    """Packages and modules under ``src/`` or else the rootdir that are not tests."""
    src = rootdir / "src"
    if src.is_dir():
        found = _candidates(src)
        if found:
            return tuple(found)
    return tuple(_candidates(rootdir))


def python_files(sources: tuple[Path, ...]) -> list[Path]:
    """Every ``.py`` file of the given packages and modules."""
    files: list[Path] = []
    for source in sources:
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            files.extend(
                p
                for p in sorted(source.rglob("*.py"))
                if not any(part.startswith(".") for part in p.parts)
            )
    return files


def module_name(path: Path) -> str:
    """Dotted import name of ``path``, walking up through packages."""
    path = path.resolve()
    parts = [path.stem] if path.stem != "__init__" else []
    parent = path.parent
    while (parent / "__init__.py").exists():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts) or path.parent.name
