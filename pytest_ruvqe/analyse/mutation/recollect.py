"""Judge an import-time mutant in the host's own pytest session.

The judging child forgets the project's modules, puts a finder for the
mutated text in front of the import system, builds the selected tests'
modules afresh (new collector nodes, so their fixtures are registered anew
and the old ones are out of reach) and runs the tests. Configuration,
plugins and conftests stay as the host loaded them: no new session and no
collection of the rest of the suite, which is what a new session costs.

It applies when every selected test is a plain Python test (under a
``pytest.Module``) and no conftest or plugin of the project holds objects
of the project's other modules, which would keep the unmutated ones; the
pool re-imports in a new session otherwise (``reimport``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from pytest_ruvqe.analyse.mutation.child import first_failure
from pytest_ruvqe.analyse.mutation.loader import MutantFinder
from pytest_ruvqe.analyse.mutation.reimport import (
    VERDICT_KILLED,
    VERDICT_SURVIVED,
    VERDICT_UNSURE,
    forget_project_modules,
    is_project_file,
)


def project_plugins(config: pytest.Config, rootdir: Path) -> list[ModuleType]:
    """Plugin modules (conftests, ``pytest_plugins``) whose file is the project's."""
    return [
        plugin
        for plugin in config.pluginmanager.get_plugins()
        if isinstance(plugin, ModuleType)
        and is_project_file(getattr(plugin, "__file__", None), rootdir)
    ]


def why_not_recollected(
    config: pytest.Config,
    tests: Iterable[pytest.Item],
    rootdir: Path,
    mutated: Collection[str],
) -> str:
    """Why import-time mutants of ``mutated`` files cannot be judged in the
    session; "" when they can."""
    for plugin in project_plugins(config, rootdir):
        file = os.path.realpath(str(plugin.__file__))
        if file in mutated:
            return f"{plugin.__name__} is mutated and is a plugin"
        held = _held_project_object(plugin, rootdir)
        if held:
            return f"{plugin.__name__} holds {held}"
    for item in tests:
        if type(_module_of(item)) is not pytest.Module:
            return f"{item.nodeid} is not a plain Python test"
    return ""


def _held_project_object(plugin: ModuleType, rootdir: Path) -> str:
    """A global of ``plugin`` that comes from another module of the project."""
    for name, value in vars(plugin).items():
        origin: ModuleType | None
        if isinstance(value, ModuleType):
            origin = value
        else:
            try:  # lazy proxies may raise anything from an attribute lookup
                owner = getattr(value, "__module__", None)
            except Exception:
                owner = None
            origin = sys.modules.get(owner) if isinstance(owner, str) else None
        if origin is None or origin is plugin:
            continue
        if is_project_file(getattr(origin, "__file__", None), rootdir):
            return f"{name} (from {origin.__name__})"
    return ""


def _module_of(item: pytest.Item) -> pytest.Collector | None:
    node = item.parent
    while node is not None and not isinstance(node, pytest.Module):
        node = node.parent
    return node


def _items_of(collector: pytest.Collector) -> list[pytest.Item]:
    found: list[pytest.Item] = []
    for node in collector.collect():
        if isinstance(node, pytest.Item):
            found.append(node)
        elif isinstance(node, pytest.Collector):
            found.extend(_items_of(node))
    return found


def rebuilt(tests: Sequence[pytest.Item]) -> list[pytest.Item]:
    """The tests collected again from fresh module nodes, in the same order.

    Tests that only the re-import brings (a parametrization the mutant
    changed) run after the ones that were selected.
    """
    modules: dict[str, pytest.Collector] = {}
    for item in tests:
        module = _module_of(item)
        if module is not None and module.parent is not None:
            modules.setdefault(module.nodeid, module)
    if not modules:
        return []
    session = tests[0].session
    collected = {item.nodeid for item in session.items}
    selected = {item.nodeid for item in tests}
    fresh: dict[str, pytest.Item] = {}
    extra: list[pytest.Item] = []
    for module in modules.values():
        assert module.parent is not None  # checked above
        node = pytest.Module.from_parent(module.parent, path=module.path)
        items = _items_of(node)
        session.config.hook.pytest_collection_modifyitems(
            session=session, config=session.config, items=items
        )
        for item in items:
            if item.nodeid in selected:
                fresh[item.nodeid] = item
            elif item.nodeid not in collected:
                extra.append(item)
    return [fresh[i.nodeid] for i in tests if i.nodeid in fresh] + extra


def judge_recollected(
    rootdir: Path,
    target: Path,
    mutated_text: str,
    tests: Sequence[pytest.Item],
    failed: list[str],
    keep: Collection[ModuleType] = (),
    report_fd: int | None = None,
) -> int:
    """Run ``tests`` again against the mutated module; a verdict code.

    ``failed`` is the list the session's failing reports are appended to;
    ``keep`` the project's plugin modules, left imported. A test module that
    no longer imports kills the mutant; one that skips itself leaves the
    verdict unsure.
    """
    forget_project_modules(rootdir, keep={module.__name__ for module in keep})
    sys.meta_path.insert(0, MutantFinder(str(target), mutated_text))
    os.chdir(rootdir)
    try:
        items = rebuilt(tests)
    except pytest.skip.Exception:
        return VERDICT_UNSURE
    except Exception:  # the mutant broke the import of a test module
        return VERDICT_KILLED
    if not items:
        return VERDICT_UNSURE
    killed = first_failure(items, failed, report_fd)
    return VERDICT_KILLED if killed else VERDICT_SURVIVED
