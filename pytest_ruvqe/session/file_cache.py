"""The run's file analyses with the ``.ruvqe/`` store as their cache."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from pytest_ruvqe.analyse.file_cache import FileAnalyses
from pytest_ruvqe.memory.store import StoreError, open_store
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeStoreWarning


@contextlib.contextmanager
def file_analyses(settings: Settings) -> Iterator[FileAnalyses]:
    """File analyses for one run; what they made is stored in one transaction
    at the end. Without a usable store every file is simply analysed."""
    try:
        store = open_store(settings.store_dir / "store")
    except StoreError:
        store = None  # the outcome history says what is wrong with it
    analyses = FileAnalyses(store)
    try:
        yield analyses
    finally:
        if store is not None:
            try:
                with store.batch():
                    analyses.flush()
            except StoreError as exc:
                warnings.warn(
                    RuvqeStoreWarning(f"file analyses not kept: {exc}"), stacklevel=3
                )
            finally:
                store.close()
