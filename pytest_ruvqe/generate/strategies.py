"""Strategies: ways of proposing candidate tests for a target, behind one interface.

``chat`` prompts an instruct model, ``scaffold`` lets a base model continue a
test file, ``characterize`` searches inputs with no model. Each takes the
target and the latent feedback z of the refine loop and returns candidates;
several run one after another as stages of :meth:`loop.RefineLoop.run`.
"""

from __future__ import annotations

import abc
import dataclasses

from pytest_ruvqe.generate.prompt.context import (
    ExemplarSource,
    NoExemplars,
    TargetContext,
    build_context,
)
from pytest_ruvqe.generate.prompt.replies import (
    extract_code,
    fix_imports,
    scaffold_module,
)
from pytest_ruvqe.generate.prompt.requests import chat_request, scaffold_request
from pytest_ruvqe.generate.search.characterize import CharacterizeConfig, Characterizer
from pytest_ruvqe.generate.search.probe import ProbeError
from pytest_ruvqe.generate.source import defined_names, read_tests
from pytest_ruvqe.generate.types import Candidate, Feedback, Project, Target
from pytest_ruvqe.llm.base import Completion, Provider, ProviderError


class Strategy(abc.ABC):
    """Proposes candidate test modules for a target."""

    name: str = ""
    uses_model: bool = False

    @abc.abstractmethod
    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """Candidates for ``target`` given what earlier rounds taught (``z``)."""


def target_features(
    target: Target, ctx: TargetContext | None = None
) -> dict[str, float]:
    """Code features the router and the learner see (names as in llm.complexity)."""
    features = {
        "cyclomatic": float(target.complexity),
        "lines": float(target.end - target.start + 1),
        "missing_lines": float(len(target.missing_lines)),
        "missing_branches": float(len(target.missing_branches)),
    }
    if ctx is not None:
        features["callees"] = float(len(ctx.signatures))
        features["imports"] = float(len(ctx.imports))
    return features


def _with_feedback(target: Target, z: Feedback) -> Target:
    """The target with the missing lines and branches that are still missing."""
    if z.round == 0:
        return target
    return dataclasses.replace(
        target, missing_lines=z.missing_lines, missing_branches=z.missing_branches
    )


class _ModelStrategy(Strategy):
    uses_model = True

    def __init__(
        self,
        provider: Provider,
        project: Project,
        exemplars: ExemplarSource | None = None,
        k: int = 3,
    ) -> None:
        self.provider = provider
        self.project = project
        self.exemplars = exemplars or NoExemplars()
        self.k = k
        self._tests = read_tests(project.test_files)
        self.errors: list[str] = []  # provider failures, for the report

    def _context(self, target: Target, z: Feedback) -> TargetContext:
        return build_context(
            _with_feedback(target, z), self.project, self.exemplars, self.k, self._tests
        )

    def _candidate(
        self,
        target: Target,
        code: str | None,
        completion: Completion,
        z: Feedback,
        ctx: TargetContext,
    ) -> Candidate:
        if code is not None:
            code = fix_imports(
                code, target.module, defined_names(target.file), ctx.alias
            )
        return Candidate(
            target=target,
            code=code or completion.text,  # unparsable replies are judged (SYNTAX)
            strategy=self.name,
            model=completion.model,
            round=z.round + 1,
            tokens=completion.prompt_tokens + completion.completion_tokens,
            cost_usd=completion.cost_usd,
        )


class ChatStrategy(_ModelStrategy):
    """Ask an instruct model with the full context and the last round's feedback."""

    name = "chat"

    def __init__(
        self,
        provider: Provider,
        project: Project,
        exemplars: ExemplarSource | None = None,
        k: int = 3,
        max_tokens: int = 1024,
        temperature: float = 0.2,
    ) -> None:
        super().__init__(provider, project, exemplars, k)
        self.max_tokens = max_tokens
        self.temperature = temperature

    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """One chat completion turned into one candidate module."""
        ctx = self._context(target, z)
        request = chat_request(
            ctx,
            z,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            seed=z.round,
            features=target_features(target, ctx),
        )
        try:
            completion = self.provider.complete(request)
        except ProviderError as exc:
            self.errors.append(str(exc))
            return []
        code = extract_code(completion.text)
        return [self._candidate(target, code, completion, z, ctx)]


class ScaffoldStrategy(_ModelStrategy):
    """Let a base model continue a test-file prefix; several samples per round."""

    name = "scaffold"

    def __init__(
        self,
        provider: Provider,
        project: Project,
        exemplars: ExemplarSource | None = None,
        k: int = 1,
        samples: int = 3,
        temperature: float = 0.8,
        max_tokens: int = 256,
    ) -> None:
        super().__init__(provider, project, exemplars, k)
        self.samples = samples
        self.temperature = temperature
        self.max_tokens = max_tokens

    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """``samples`` completions at temperature > 0, each a candidate."""
        ctx = self._context(target, z)
        out = []
        for sample in range(self.samples):
            request = scaffold_request(
                ctx,
                temperature=self.temperature,
                seed=z.round * 100 + sample,
                max_tokens=self.max_tokens,
                features=target_features(target, ctx),
            )
            try:
                completion = self.provider.complete(request)
            except ProviderError as exc:
                self.errors.append(str(exc))
                break
            code = scaffold_module(ctx, completion.text)
            out.append(self._candidate(target, code, completion, z, ctx))
        return out


class CharacterizeStrategy(Strategy):
    """Characterization search; each round reseeds the random part of the search."""

    name = "characterize"

    def __init__(self, characterizer: Characterizer) -> None:
        self.characterizer = characterizer
        self.errors: list[str] = []

    @classmethod
    def for_project(
        cls, project: Project, config: CharacterizeConfig | None = None
    ) -> CharacterizeStrategy:
        """A strategy with a default characterizer for ``project``."""
        return cls(Characterizer(project, config=config))

    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """One candidate with the calls that reached new code, if any did."""
        base = self.characterizer.config
        if z.round >= base.rounds:
            return []
        self.characterizer.config = dataclasses.replace(base, seed=base.seed + z.round)
        try:
            candidate = self.characterizer.candidate(target, round=z.round + 1)
        except (ProbeError, OSError, SyntaxError) as exc:
            self.errors.append(str(exc))
            return []
        finally:
            self.characterizer.config = base
        return [candidate] if candidate is not None else []


class SeededStrategy(Strategy):
    """A model proposes tests; their calls of the target also seed a search.

    A small model often calls the right function with telling inputs and then
    asserts a wrong value. The search runs those calls and asserts what they
    really return, so the model's inputs count even when its oracles do not.
    """

    uses_model = True

    def __init__(self, model: _ModelStrategy, characterizer: Characterizer) -> None:
        self.model = model
        self.characterizer = characterizer
        self.name = model.name

    @property
    def errors(self) -> list[str]:
        """Provider failures of the model."""
        return self.model.errors

    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """The model's candidates, plus one search seeded by them if it helps."""
        candidates = self.model.propose(target, z)
        seeds = tuple(c.code for c in candidates)
        if not seeds:
            return candidates
        try:
            seeded = self.characterizer.candidate(target, z.round + 1, seeds)
        except (ProbeError, OSError, SyntaxError) as exc:
            self.model.errors.append(str(exc))
            return candidates
        if seeded is not None:
            candidates.append(
                dataclasses.replace(
                    seeded,
                    strategy=f"{self.name}+characterize",
                    model=candidates[0].model,
                )
            )
        return candidates
