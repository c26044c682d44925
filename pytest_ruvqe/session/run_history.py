"""What a run leaves in the ``.ruvqe/`` store for later runs: its headline
figures (the HTML report's history chart) and what its mutants and targets
cost (what later shards balance by)."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

from pytest_ruvqe.memory.runs import RunHistory, RunRecord
from pytest_ruvqe.memory.store import StoreError, open_store
from pytest_ruvqe.session.shard_costs import keep_run_costs
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeStoreWarning

if TYPE_CHECKING:
    from pytest_ruvqe.session.outputs import RunResults


def run_record(results: RunResults, at: float | None = None) -> RunRecord:
    """The figures of this run."""
    report = results.report
    assert report is not None
    quality = results.quality.report if results.quality else None
    mutation = quality.mutation if quality else None
    reasons = results.generation.reasons if results.generation else None
    accepted = reasons.pop("accepted", 0) if reasons is not None else None
    return RunRecord(
        at=time.time() if at is None else at,
        coverage=report.coverage,
        tests=report.tests_run,
        diff=report.diff_ref is not None,
        quality=quality.suite.value if quality else None,
        mutation=mutation.score if mutation else None,
        accepted=accepted,
        rejected=sum(reasons.values()) if reasons is not None else None,
    )


def record_run(settings: Settings, results: RunResults) -> tuple[RunRecord, ...]:
    """Add this run to the store's history; the history with it (only this
    run when the store cannot be used: a warning says why)."""
    this = run_record(results)
    try:
        store = open_store(settings.store_dir / "store")
    except StoreError:
        return (this,)  # the outcome history already says what is wrong
    try:
        with store.batch():
            keep_run_costs(store, settings, results)
            return RunHistory(store).record(this)
    except StoreError as exc:
        warnings.warn(
            RuvqeStoreWarning(f"run not kept in the history: {exc}"), stacklevel=2
        )
        return (this,)
    finally:
        store.close()
