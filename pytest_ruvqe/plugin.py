"""pytest entry point: options, hooks, and one ``RuvqeSession`` when enabled.

Nothing heavy is imported here: with the plugin installed but not enabled,
pytest behaves exactly as without it.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

import pytest

from pytest_ruvqe.options import add_options
from pytest_ruvqe.settings import (
    Settings,
    check_generated_dir,
    check_report_paths,
    load_settings,
)

if TYPE_CHECKING:
    from pytest_ruvqe.measure.startup import MeasurementPlan
    from pytest_ruvqe.session.hooks import RuvqeSession

SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()
PLAN_KEY: pytest.StashKey[MeasurementPlan] = pytest.StashKey()
SESSION_KEY: pytest.StashKey[RuvqeSession] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare ``--ruvqe*`` flags and ``ruvqe_*`` ini keys."""
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_ruvqe_*`` hook specifications."""
    from pytest_ruvqe import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def _enabled(config: pytest.Config, ns: argparse.Namespace) -> bool:
    if os.environ.get("RUVQE_MUTATION_HOST"):
        return False  # inside the mutation host: its children must run plain tests
    return (
        bool(getattr(ns, "ruvqe", False))
        or getattr(ns, "ruvqe_generate", None) is not None
        or bool(config.getini("ruvqe"))
    )


def _set_up(config: pytest.Config, ns: argparse.Namespace) -> None:
    """Validate settings, plan the measurement (starting coverage), stash both."""
    from pytest_ruvqe.measure.startup import plan_measurement

    settings = load_settings(config, ns)
    plan = plan_measurement(settings, ns)
    check_report_paths(settings, config.invocation_params.dir, plan.sources)
    if settings.generate is not None:
        check_generated_dir(settings, plan.sources)
        _check_isolation()
    config.stash[SETTINGS_KEY] = settings
    config.stash[PLAN_KEY] = plan


def _check_isolation() -> None:
    """Refuse to start when isolation is required (CI) but cannot run here."""
    from pytest_ruvqe.generate.sandbox.isolation import (
        IsolationUnavailable,
        isolation,
    )

    try:
        isolation()
    except IsolationUnavailable as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Validate settings and start coverage before conftests import user code."""
    if _enabled(early_config, early_config.known_args_namespace):
        _set_up(early_config, early_config.known_args_namespace)


def pytest_configure(config: pytest.Config) -> None:
    """Register the session object when the plugin is enabled."""
    if SETTINGS_KEY not in config.stash:
        if not _enabled(config, config.option):
            _warn_ignored(config)
            return
        # loaded too late to measure conftest imports (e.g. from a conftest)
        _set_up(config, config.option)
    from pytest_ruvqe.session.hooks import RuvqeSession

    session = RuvqeSession(config, config.stash[SETTINGS_KEY], config.stash[PLAN_KEY])
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "ruvqe-session")


def _warn_ignored(config: pytest.Config) -> None:
    """A gate asked for on the command line of a run that measures nothing."""
    if getattr(config.option, "ruvqe_fail_under", None) is None:
        return
    from pytest_ruvqe.warning_types import RuvqeWarning

    config.issue_config_time_warning(
        RuvqeWarning(
            "--ruvqe-fail-under is ignored without --ruvqe (or ruvqe = true in "
            "the ini file): nothing is measured, so nothing is gated"
        ),
        stacklevel=2,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop measuring and forget the session."""
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return
    if session.plan.recorder is not None:
        session.plan.recorder.stop()
    config.pluginmanager.unregister(session)
    del config.stash[SESSION_KEY]
