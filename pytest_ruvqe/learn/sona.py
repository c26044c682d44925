"""SONA: a small network that learns, from outcomes, which arm to try first.

Two loops: every outcome takes one SGD step on the MicroLoRA adapter (the
instant loop, within the run, its gradients by hand in numpy); every
``consolidate_every`` outcomes the BaseLoRA adapter is trained on a replay
buffer under the EWC++ penalty and the micro adapter is zeroed (the
background loop). Decisions are Thompson
draws (or UCB) over the predictions, with an exploration floor. Until it has
seen ``warmup`` outcomes it keeps the configured order, as without learning.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from pytest_ruvqe.learn.arms import Arm, ArmOutcome, Features, encode
from pytest_ruvqe.learn.ewc import OnlineEwc
from pytest_ruvqe.learn.micro import Layer, gradients
from pytest_ruvqe.learn.network import LoRALinear, OutcomeNet, outcome_loss
from pytest_ruvqe.learn.policy import PolicyName, explored

Decision = Literal["thompson", "ucb"]
MICRO_CLIP = 1.0  # largest gradient norm of one micro step


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Tiny tensors: threads only add overhead (and contend with the sandbox)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class SonaConfig:
    """Sizes and rates of the learner."""

    micro_rank: int = 2
    base_rank: int = 8
    micro_lr: float = 0.5
    base_lr: float = 0.05
    consolidate_every: int = 32
    replay: int = 1024
    consolidation_steps: int = 40
    batch: int = 64
    ewc_strength: float = 1000.0
    ewc_decay: float = 0.95
    warmup: int = 8
    epsilon: float = 0.05
    decision: Decision = "thompson"
    seed: int = 0


@dataclass(frozen=True)
class Prediction:
    """What SONA expects of one arm on one target."""

    arm: Arm
    p_accept: float
    gain_rate: float  # predicted log1p(lines+branches gained per second)


class Sona:
    """The learner; an :class:`~pytest_ruvqe.learn.policy.ArmPolicy`."""

    name: PolicyName = "sona"

    def __init__(self, config: SonaConfig | None = None, ewc: bool = True) -> None:
        self.config = cfg = config or SonaConfig()
        torch.manual_seed(cfg.seed)
        self.net = OutcomeNet(cfg.micro_rank, cfg.base_rank, cfg.seed)
        self.base = torch.optim.Adam(self.net.adapter("base"), lr=cfg.base_lr)
        self.ewc = OnlineEwc(
            self.net.adapter("base"), cfg.ewc_strength if ewc else 0.0, cfg.ewc_decay
        )
        self.buffer: deque[ArmOutcome] = deque(maxlen=cfg.replay)
        self.counts: dict[str, int] = {}
        self.seen = 0
        self.rng = np.random.default_rng(cfg.seed)

    def predict(
        self, features: Features, arms: Sequence[Arm], round_: int = 1
    ) -> list[Prediction]:
        """P(accept) and the gain rate of each arm on a target."""
        if not arms:
            return []
        rows = torch.from_numpy(np.stack([encode(features, a, round_) for a in arms]))
        with torch.no_grad(), one_thread():
            out = self.net(rows)
        p = torch.sigmoid(out[:, 0]).tolist()
        rate = out[:, 1].clamp(min=0.0).tolist()
        return [Prediction(a, pa, g) for a, pa, g in zip(arms, p, rate, strict=True)]

    def _value(self, prediction: Prediction) -> float:
        n = self.counts.get(prediction.arm.key, 0)
        p = prediction.p_accept
        if self.config.decision == "ucb":
            total = sum(self.counts.values())
            p = p + math.sqrt(2.0 * math.log(total + 1.0) / (n + 1.0))
        else:
            m = min(n, 50)
            p = float(self.rng.beta(p * m + 1.0, (1.0 - p) * m + 1.0))
        return p * (1.0 + prediction.gain_rate)

    def rank(self, features: Features, arms: Sequence[Arm]) -> list[Arm]:
        """Arms by sampled expected value; the given order during warm-up."""
        if self.seen < self.config.warmup or len(arms) < 2:
            return list(arms)
        values = [self._value(p) for p in self.predict(features, arms)]
        order = [arms[i] for i in np.argsort(-np.array(values), kind="stable")]
        return explored(order, self.rng, self.config.epsilon)

    def another_round(self, features: Features, arm: Arm, round_: int) -> bool | None:
        """Whether round ``round_`` of the refine loop is worth running (None:
        no opinion yet, keep today's halting rule)."""
        if self.seen < self.config.warmup:
            return None
        prediction = self.predict(features, [arm], round_)[0]
        return prediction.p_accept >= 0.1

    @staticmethod
    def _batch(
        outcomes: Sequence[ArmOutcome],
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = np.stack([encode(dict(o.features), o.arm, o.round) for o in outcomes])
        accepted = torch.tensor([float(o.accepted) for o in outcomes])
        rate = torch.tensor([o.gain_rate for o in outcomes], dtype=torch.float32)
        return torch.from_numpy(rows), accepted, rate

    def update(self, outcome: ArmOutcome) -> None:
        """One MicroLoRA step on this outcome; the Fisher learns its gradient.

        The step's gradients are computed in numpy (:mod:`.micro`) on views of
        the parameters: for one outcome of a network this small, autograd
        would cost a hundred times the arithmetic.
        """
        x = encode(dict(outcome.features), outcome.arm, outcome.round)
        hidden, head = (_arrays(layer) for layer in (self.net.hidden, self.net.head))
        _, step, base = gradients(
            hidden, head, x, float(outcome.accepted), float(outcome.gain_rate)
        )
        norm = math.sqrt(sum(float((g * g).sum()) for g in step))
        # a product of two trained factors can run away: clip the step
        lr = self.config.micro_lr / max(1.0, norm / MICRO_CLIP)
        micro = [hidden.micro_a, hidden.micro_b, head.micro_a, head.micro_b]
        for p, g in zip(micro, step, strict=True):
            p -= lr * g  # plain SGD, one step, in place on the torch tensors
        self.ewc.accumulate([torch.from_numpy(g) for g in base])
        self.buffer.append(outcome)
        self.counts[outcome.arm.key] = self.counts.get(outcome.arm.key, 0) + 1
        self.seen += 1
        if self.seen % self.config.consolidate_every == 0:
            self.consolidate()

    def consolidate(self) -> None:
        """Train BaseLoRA on the replay buffer under EWC++; zero MicroLoRA."""
        if not self.buffer:
            return
        with one_thread():
            self._train_base(list(self.buffer))
        self.net.reset_micro()

    def _train_base(self, outcomes: list[ArmOutcome]) -> None:
        cfg = self.config
        for _ in range(cfg.consolidation_steps):
            pick = self.rng.integers(len(outcomes), size=min(cfg.batch, len(outcomes)))
            x, accepted, rate = self._batch([outcomes[i] for i in pick])
            self.base.zero_grad()
            self.net.reset_micro()  # the base must explain the outcomes alone
            loss = outcome_loss(self.net, x, accepted, rate) + self.ewc.penalty()
            loss.backward()  # type: ignore[no-untyped-call]
            self.base.step()

    def start_project(self) -> None:
        """What was learned so far is anchored: EWC++ restrains drift from it."""
        self.ewc.set_anchor()


def _arrays(module: LoRALinear) -> Layer:
    """Numpy views of one layer's parameters (sharing their memory)."""
    return Layer(
        *(
            p.detach().numpy()
            for p in (
                module.weight,
                module.bias,
                module.base_a,
                module.base_b,
                module.micro_a,
                module.micro_b,
            )
        )
    )
