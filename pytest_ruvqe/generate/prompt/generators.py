"""Model-backed generators: ``chat`` for instruct models, ``scaffold`` for base ones.

Both build the target's context with the refine loop's feedback, send one
request per sample, turn each reply into a test module and repair its
imports; they differ in the request and in how a reply becomes code.
"""

from __future__ import annotations

import abc
import dataclasses

from pytest_ruvqe.generate.generator import Generator
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
from pytest_ruvqe.generate.source import defined_names, read_tests
from pytest_ruvqe.generate.targets import target_features
from pytest_ruvqe.generate.types import (
    Candidate,
    Feedback,
    ModelGeneratorName,
    Project,
    Target,
)
from pytest_ruvqe.llm.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
)


def _with_feedback(target: Target, z: Feedback) -> Target:
    """The target with the missing lines and branches that are still missing."""
    if z.round == 0:
        return target
    return dataclasses.replace(
        target, missing_lines=z.missing_lines, missing_branches=z.missing_branches
    )


def context_features(target: Target, ctx: TargetContext) -> dict[str, float]:
    """The target's features plus what its context adds (callees, imports)."""
    return {
        **target_features(target),
        "callees": float(len(ctx.signatures)),
        "imports": float(len(ctx.imports)),
    }


class ModelGenerator(Generator):
    """Asks a model ``samples`` times per round; each reply is one candidate."""

    name: ModelGeneratorName
    uses_model = True

    def __init__(
        self,
        provider: Provider,
        project: Project,
        exemplars: ExemplarSource | None,
        k: int,
        *,
        max_tokens: int,
        temperature: float,
        samples: int = 1,
    ) -> None:
        super().__init__()
        self.provider = provider
        self.project = project
        self.exemplars = exemplars or NoExemplars()
        self.k = k
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.samples = samples
        self._tests = read_tests(project.test_files)

    @abc.abstractmethod
    def request(
        self,
        ctx: TargetContext,
        z: Feedback,
        sample: int,
        features: dict[str, float],
    ) -> CompletionRequest:
        """The request of one sample."""

    @abc.abstractmethod
    def code_of(self, ctx: TargetContext, reply: str) -> str | None:
        """The test module in a reply, or None when it holds none."""

    def propose(self, target: Target, z: Feedback) -> list[Candidate]:
        """One candidate per completed sample; a provider failure ends the round."""
        ctx = build_context(
            _with_feedback(target, z), self.project, self.exemplars, self.k, self._tests
        )
        features = context_features(target, ctx)
        out = []
        for sample in range(self.samples):
            try:
                completion = self.provider.complete(
                    self.request(ctx, z, sample, features)
                )
            except ProviderError as exc:
                self.errors.append(str(exc))
                break
            code = self.code_of(ctx, completion.text)
            out.append(self._candidate(target, code, completion, z, ctx))
        return out

    def _candidate(
        self,
        target: Target,
        code: str | None,
        completion: Completion,
        z: Feedback,
        ctx: TargetContext,
    ) -> Candidate:
        if code is not None:
            defined = defined_names(target.file)
            code = fix_imports(code, target.module, defined, ctx.alias)
        return Candidate(
            target=target,
            code=code or completion.text,  # unparsable replies are judged (SYNTAX)
            generator=self.name,
            model=completion.model,
            round=z.round + 1,
            tokens=completion.prompt_tokens + completion.completion_tokens,
            cost_usd=completion.cost_usd,
        )


class ChatGenerator(ModelGenerator):
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
        super().__init__(
            provider,
            project,
            exemplars,
            k,
            max_tokens=max_tokens,
            temperature=temperature,
        )

    def request(
        self,
        ctx: TargetContext,
        z: Feedback,
        sample: int,
        features: dict[str, float],
    ) -> CompletionRequest:
        """One chat completion per round, seeded by the round."""
        return chat_request(
            ctx,
            z,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            seed=z.round,
            features=features,
        )

    def code_of(self, ctx: TargetContext, reply: str) -> str | None:
        """The code block with tests in the reply."""
        return extract_code(reply)


class ScaffoldGenerator(ModelGenerator):
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
        super().__init__(
            provider,
            project,
            exemplars,
            k,
            max_tokens=max_tokens,
            temperature=temperature,
            samples=samples,
        )

    def request(
        self,
        ctx: TargetContext,
        z: Feedback,
        sample: int,
        features: dict[str, float],
    ) -> CompletionRequest:
        """A completion at temperature > 0, each sample with its own seed."""
        return scaffold_request(
            ctx,
            temperature=self.temperature,
            seed=z.round * 100 + sample,
            max_tokens=self.max_tokens,
            features=features,
        )

    def code_of(self, ctx: TargetContext, reply: str) -> str | None:
        """The prefix plus the continuation, cut where it stops parsing."""
        return scaffold_module(ctx, reply)
