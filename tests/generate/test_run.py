"""A whole generation run on plain data: what is information, what is a warning."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pytest_ruvqe import RuvqeGenerationWarning
from pytest_ruvqe.analyse.gaps import CoverageReport, Gap
from pytest_ruvqe.generate.prompt.generators import ChatGenerator
from pytest_ruvqe.generate.run import (
    GenerationConfig,
    GenerationInterrupted,
    ModelSetup,
    run_generation,
)
from pytest_ruvqe.generate.types import Project
from pytest_ruvqe.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    ProviderMetadata,
)
from pytest_ruvqe.llm.router import HybridRouter
from pytest_ruvqe.measure.types import FileCoverage


class DownProvider(Provider):
    """A local chat model that never answers."""

    def complete(self, request: CompletionRequest) -> Completion:
        """Always fails the same way."""
        raise ProviderError("the server is down")

    def stream(self, request: CompletionRequest) -> Iterator[str]:
        """Never yields."""
        raise ProviderError("the server is down")

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One zero row per text."""
        return np.zeros((len(texts), 1), dtype=np.float32)

    def health(self) -> bool:
        """Down."""
        return False

    def metadata(self) -> ProviderMetadata:
        """A free local chat model."""
        return ProviderMetadata("down", "down-1", "local", 4096, True, 0.0, 0.0)


def gap(qualname: str) -> Gap:
    """``pkg/calc.py::sign`` with all of its body missing, under another name."""
    return Gap(
        file="pkg/calc.py",
        module="pkg.calc",
        qualname=qualname,
        start=1,
        end=6,
        complexity=3,
        statements=5,
        missing_lines=(2, 3, 4, 5, 6),
        branches=4,
        missing_branches=((2, 3), (2, 4), (4, 5), (4, 6)),
        risk=10.0,
    )


def report(*gaps: Gap) -> CoverageReport:
    return CoverageReport(functions=gaps, files=(), sources=(), warnings=())


def measured(calc_file: Path) -> dict[str, FileCoverage]:
    path = str(calc_file.resolve())
    return {
        path: FileCoverage(path, frozenset(range(1, 18)), frozenset({2, 3, 4, 5, 6}))
    }


def down_model(project: Project) -> ModelSetup:
    router = HybridRouter([DownProvider()])
    return ModelSetup(ChatGenerator(router, project), router)


def test_nothing_to_generate_is_information_not_a_warning(
    project: Project, calc_file: Path
) -> None:
    config = GenerationConfig(rootdir=project.rootdir, generators=("characterize",))
    outcome = run_generation(config, report(), measured(calc_file), [], [])
    assert outcome.notes == ["nothing to generate: no function has a gap"]
    assert outcome.targets == () and outcome.written is None


def test_provider_failures_are_warned_once_each(
    project: Project, calc_file: Path
) -> None:
    config = GenerationConfig(rootdir=project.rootdir, generators=("chat",))
    with pytest.warns(RuvqeGenerationWarning) as caught:
        outcome = run_generation(
            config,
            report(gap("sign"), gap("sign_again")),
            measured(calc_file),
            [project.rootdir],
            [],
            model=down_model,
        )
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1  # two targets failed alike: one warning
    assert messages[0].startswith("chat: ") and "the server is down" in messages[0]
    assert [t.qualname for t in outcome.targets] == ["sign", "sign_again"]
    assert outcome.location == "none"  # no call got an answer
    assert outcome.notes == []


def test_a_write_that_cannot_happen_is_a_warning(
    project: Project, calc_file: Path
) -> None:
    config = dataclasses.replace(
        GenerationConfig(rootdir=project.rootdir, generators=("chat",)),
        generated_dir=Path("../outside"),
    )
    with pytest.warns(RuvqeGenerationWarning) as caught:
        outcome = run_generation(
            config, report(gap("sign")), measured(calc_file), [], [], model=down_model
        )
    messages = [str(w.message) for w in caught]
    # said before any generation: the model is not even asked
    assert messages == [m for m in messages if m.startswith("nothing written: ")]
    assert "outside" in messages[0]
    assert outcome.written is None and outcome.targets == ()


def test_public_api_comes_before_private_helpers() -> None:
    from pytest_ruvqe.generate.targets import is_private

    assert is_private("_helper") and is_private("Parser._split")
    assert not is_private("Parser.parse") and not is_private("Box.__len__")


class InterruptingProvider(DownProvider):
    """Answers a proven test for the first target, then the user hits Ctrl-C."""

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request: CompletionRequest) -> Completion:
        self.calls += 1
        if self.calls > 1:
            raise KeyboardInterrupt
        code = (
            "```python\nfrom pkg.calc import sign\n\n"
            "def test_sign_negative():\n    assert sign(-5) == -1\n```"
        )
        return Completion(code, 10, 10, 0.01, None, 0.0, "down", "down-1")


def test_interrupted_run_keeps_what_was_accepted(
    project: Project, calc_file: Path
) -> None:
    def model(project: Project) -> ModelSetup:
        router = HybridRouter([InterruptingProvider()])
        return ModelSetup(ChatGenerator(router, project), router)

    config = GenerationConfig(rootdir=project.rootdir, generators=("chat",))
    with pytest.raises(GenerationInterrupted) as stop:
        run_generation(
            config,
            report(gap("sign"), gap("sign_again")),
            measured(calc_file),
            [],
            [],
            model=model,
        )
    # the first target's test was written the moment it was proven
    assert [a.rsplit("::", 1)[1] for a in stop.value.written.added] == [
        "test_sign_negative"
    ]
    written = project.rootdir / "tests" / "ruvqe_generated" / "test_pkg_calc_ruvqe.py"
    assert "def test_sign_negative" in written.read_text()
    assert isinstance(stop.value, KeyboardInterrupt)
