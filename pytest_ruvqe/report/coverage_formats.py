"""Cobertura XML and LCOV through coverage.py's own reporters, on the data
this run already measured (no second tracer)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import coverage

CoverageFormat = Literal["xml", "lcov"]


class CoverageFormatError(Exception):
    """coverage.py could not write the report; the message says why."""


def render_coverage(cov: coverage.Coverage, fmt: CoverageFormat) -> str:
    """The text of the ``fmt`` report of everything ``cov`` measured."""
    from coverage.exceptions import CoverageException, CoverageWarning

    with tempfile.TemporaryDirectory(prefix="ruvqe-cov-") as tmp:
        out = Path(tmp) / f"report.{fmt}"
        with warnings.catch_warnings():
            # files it cannot parse are reported by the gap report already
            warnings.simplefilter("ignore", CoverageWarning)
            try:
                if fmt == "xml":
                    cov.xml_report(outfile=str(out), ignore_errors=True)
                else:
                    cov.lcov_report(outfile=str(out), ignore_errors=True)
            except CoverageException as exc:
                raise CoverageFormatError(str(exc)) from None
        return out.read_text(encoding="utf-8")
