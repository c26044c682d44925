"""Run-time problems as :class:`RuvqeWarning`: recorded while the steps run,
issued through :mod:`warnings` when the summary is written.

pytest captures warnings issued in ``pytest_terminal_summary`` with the
user's ``-W`` and ``filterwarnings`` applied, so they show in its warnings
summary, can be ignored, or turned into errors that fail the run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from pytest_ruvqe.warning_types import RuvqeWarning


class Problems:
    """The run's warnings, in order, each once."""

    def __init__(self) -> None:
        self.items: list[RuvqeWarning] = []

    def add(self, warning: RuvqeWarning) -> None:
        """Keep ``warning`` unless the same one is already kept."""
        key = (type(warning), str(warning))
        if all((type(w), str(w)) != key for w in self.items):
            self.items.append(warning)

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Keep every RuvqeWarning issued inside; let other warnings through."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuvqeWarning)
            yield
        for item in caught:
            if isinstance(item.message, RuvqeWarning):
                self.add(item.message)
            else:
                warnings.warn_explicit(
                    item.message, item.category, item.filename, item.lineno
                )

    def messages(self) -> list[str]:
        """``Category: message`` of each warning, for the JSON and Markdown."""
        return [f"{type(w).__name__}: {w}" for w in self.items]

    def issue(self) -> list[RuvqeWarning]:
        """Issue every warning; return those the warning filters made errors."""
        errors: list[RuvqeWarning] = []
        for warning in self.items:
            try:
                # located at the plugin, not at this line of it
                warnings.warn_explicit(warning, type(warning), "pytest-ruvqe", 0)
            except RuvqeWarning as raised:
                errors.append(raised)
        return errors
