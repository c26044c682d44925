"""What each mutant and generation target cost in the last whole run: the
measured costs ``--ruvqe-shard`` balances by.

Only runs that are not shards keep costs (in the ``.ruvqe/`` store), so every
shard of a split, run one after another or restored from one cache, deals
by the same costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_ruvqe.memory.runs import keep_costs, stored_costs
from pytest_ruvqe.memory.store import Store, StoreError, open_store
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.shard import MeasuredCosts

if TYPE_CHECKING:
    from pytest_ruvqe.session.outputs import RunResults

_JUDGED = ("killed", "survived", "timeout", "error")


@dataclass(frozen=True)
class PreviousCosts:
    """Seconds per mutant id and per ``file::qualname`` target."""

    mutants: MeasuredCosts = field(default_factory=MeasuredCosts)
    targets: MeasuredCosts = field(default_factory=MeasuredCosts)


def previous_costs(settings: Settings) -> PreviousCosts:
    """The kept costs when sharding; none without a usable store (the shards
    are then balanced without them)."""
    directory = settings.store_dir / "store"
    if settings.shard is None or not directory.is_dir():
        return PreviousCosts()
    try:
        store = open_store(directory)
    except StoreError:
        return PreviousCosts()
    try:
        return PreviousCosts(
            MeasuredCosts(stored_costs(store, "mutants")),
            MeasuredCosts(stored_costs(store, "targets")),
        )
    except StoreError:
        return PreviousCosts()
    finally:
        store.close()


def keep_run_costs(store: Store, settings: Settings, results: RunResults) -> None:
    """Keep what this run's mutants and targets cost, unless it is a shard."""
    if settings.shard is not None:
        return
    mutation = results.quality.report.mutation if results.quality else None
    if mutation is not None:
        keep_costs(
            store,
            "mutants",
            {
                r.mutant.id: round(r.seconds, 3)
                for r in mutation.results
                if r.status in _JUDGED
            },
        )
    if results.generation is not None:
        keep_costs(
            store,
            "targets",
            {
                f"{t.file}::{t.qualname}": round(t.seconds, 3)
                for t in results.generation.targets
            },
        )
