"""A JSON report read back into the plain data the renderers take, so that
``ruvqe report`` renders what the run measured without rerunning it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_ruvqe.memory.runs import RunRecord
from pytest_ruvqe.report.html.model import HtmlInput
from pytest_ruvqe.report.loaded.coverage import coverage_report, file_coverages
from pytest_ruvqe.report.loaded.generation import generation_outcome
from pytest_ruvqe.report.loaded.quality import (
    mutation_report,
    quality_report,
    suggestions,
)

__all__ = ["coverage_report", "html_input"]


def html_input(
    data: Mapping[str, Any], rootdir: Path, history: tuple[RunRecord, ...] = ()
) -> HtmlInput:
    """What the HTML report needs, from a JSON report of the project at
    ``rootdir`` and the store's ``history`` of runs."""
    return HtmlInput(
        report=coverage_report(data),
        rootdir=rootdir,
        files=file_coverages(data, rootdir),
        quality=quality_report(data, mutation_report(data)),
        suggestions=suggestions(data),
        generation=generation_outcome(data, rootdir),
        warnings=tuple(str(w) for w in data.get("warnings", ())),
        history=history,
    )
