"""Warnings of pytest-ruvqe: problems a user may silence or escalate.

Every run-time problem is issued as a :class:`RuvqeWarning` (or a subclass)
through :mod:`warnings`, so ``-W error::pytest_ruvqe.RuvqeWarning``,
``-W ignore::pytest_ruvqe.RuvqeSourceWarning`` and ``filterwarnings`` in the
ini file work on them as on pytest's own warnings.
"""

from __future__ import annotations


class RuvqeWarning(UserWarning):
    """Base class of every warning pytest-ruvqe issues."""

    __module__ = "pytest_ruvqe"


class RuvqeSourceWarning(RuvqeWarning):
    """A source file was skipped: too large, not UTF-8, or not Python."""

    __module__ = "pytest_ruvqe"


class RuvqeStoreWarning(RuvqeWarning):
    """The ``.ruvqe/`` store could not be read or written; the run went on."""

    __module__ = "pytest_ruvqe"


class RuvqeReportWarning(RuvqeWarning):
    """A report or a git diff could not be produced as asked."""

    __module__ = "pytest_ruvqe"


class RuvqeMutationWarning(RuvqeWarning):
    """Mutation testing was refused, cut short, or could not judge a mutant."""

    __module__ = "pytest_ruvqe"


class RuvqeGenerationWarning(RuvqeWarning):
    """Test generation ran with less than asked (no model, a provider error...)."""

    __module__ = "pytest_ruvqe"
