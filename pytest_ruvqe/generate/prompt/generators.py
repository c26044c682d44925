"""Model-backed generators: ``chat`` for instruct models, ``scaffold`` for base ones.

Both build the target's context with the refine loop's feedback, send one
request per sample, turn each reply into a test module and repair its
imports; they differ in the request and in how a reply becomes code.
"""

from __future__ import annotations

import abc
import dataclasses
import time
from dataclasses import dataclass
from typing import ClassVar

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


@dataclass(frozen=True)
class Sampling:
    """How a model generator asks: exemplars shown, samples per round, decoding."""

    k: int
    samples: int
    temperature: float
    max_tokens: int


class ModelGenerator(Generator):
    """Asks a model ``samples`` times per round; each reply is one candidate."""

    name: ModelGeneratorName
    uses_model = True
    defaults: ClassVar[Sampling]

    def __init__(
        self,
        provider: Provider,
        project: Project,
        exemplars: ExemplarSource | None = None,
        k: int | None = None,
        *,
        samples: int | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.seed = seed  # added to every request's seed: another run, other samples
        self.provider = provider
        self.project = project
        self.exemplars = exemplars or NoExemplars()
        self.k = self.defaults.k if k is None else k
        self.samples = self.defaults.samples if samples is None else samples
        self.temperature = (
            self.defaults.temperature if temperature is None else temperature
        )
        self.max_tokens = self.defaults.max_tokens if max_tokens is None else max_tokens
        self._tests = read_tests(project.test_files)
        self._tokens_per_s: float | None = None  # as seen, to fit the time left

    @abc.abstractmethod
    def request(
        self, ctx: TargetContext, z: Feedback, sample: int
    ) -> CompletionRequest:
        """The request of one sample (the features of the target are added)."""

    @abc.abstractmethod
    def code_of(self, ctx: TargetContext, reply: str) -> str | None:
        """The test module in a reply, or None when it holds none."""

    def propose(
        self, target: Target, z: Feedback, seconds: float | None = None
    ) -> list[Candidate]:
        """One candidate per completed sample; a provider failure ends the round.

        With ``seconds``, no sample starts after them, and each asks for no
        more tokens than the model was seen to decode in the time left.
        """
        deadline = None if seconds is None else time.monotonic() + seconds
        ctx = build_context(
            _with_feedback(target, z), self.project, self.exemplars, self.k, self._tests
        )
        features = context_features(target, ctx)
        out = []
        for sample in range(self.samples):
            request = self._bounded(self.request(ctx, z, sample), deadline)
            if request is None:
                break
            first = "" if self._tokens_per_s is not None else " (loads the model)"
            self.report(f"prompt {sample + 1}/{self.samples}{first}")
            try:
                completion = self.provider.complete(
                    dataclasses.replace(request, features=features)
                )
            except ProviderError as exc:
                self.errors.append(str(exc))
                break
            self._observe(completion)
            code = self.code_of(ctx, completion.text)
            out.append(self._candidate(target, code, completion, z, ctx))
        return out

    def _bounded(
        self, request: CompletionRequest, deadline: float | None
    ) -> CompletionRequest | None:
        """``request`` with as many tokens as fit before ``deadline``; None: none."""
        if deadline is None:
            return request
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if self._tokens_per_s is None:
            return request
        fit = int(left * self._tokens_per_s)
        if fit < 16:
            return None
        return dataclasses.replace(request, max_tokens=min(request.max_tokens, fit))

    def _observe(self, completion: Completion) -> None:
        if completion.latency_s > 0 and completion.completion_tokens > 0:
            rate = completion.completion_tokens / completion.latency_s
            old = self._tokens_per_s
            self._tokens_per_s = rate if old is None else 0.7 * old + 0.3 * rate

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
    defaults = Sampling(k=3, samples=1, temperature=0.2, max_tokens=1024)

    def request(
        self, ctx: TargetContext, z: Feedback, sample: int
    ) -> CompletionRequest:
        """One chat completion per round, seeded by the round."""
        temperature, max_tokens = self.temperature, self.max_tokens
        seed = self.seed * 10_000 + z.round
        return chat_request(
            ctx, z, max_tokens=max_tokens, temperature=temperature, seed=seed
        )

    def code_of(self, ctx: TargetContext, reply: str) -> str | None:
        """The code block with tests in the reply."""
        return extract_code(reply)


class ScaffoldGenerator(ModelGenerator):
    """Let a base model continue a test-file prefix; several samples per round."""

    name = "scaffold"
    defaults = Sampling(k=1, samples=3, temperature=0.8, max_tokens=256)

    def request(
        self, ctx: TargetContext, z: Feedback, sample: int
    ) -> CompletionRequest:
        """A completion at temperature > 0, each sample with its own seed."""
        seed = self.seed * 10_000 + z.round * 100 + sample
        return scaffold_request(
            ctx, temperature=self.temperature, seed=seed, max_tokens=self.max_tokens
        )

    def code_of(self, ctx: TargetContext, reply: str) -> str | None:
        """The prefix plus the continuation, cut where it stops parsing."""
        return scaffold_module(ctx, reply)
