"""The outcome network and its two low-rank adapters (torch; import lazily).

Each layer is a frozen base weight plus a BaseLoRA adapter (rank 4..16,
trained in consolidation from the replay buffer) and a MicroLoRA adapter
(rank 1..2, one step per outcome). The network maps (target features, arm)
to the logit of P(accept) and to log1p of lines+branches gained per second.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from pytest_ruvqe.learn.arms import INPUT_DIM

HIDDEN = 32
Adapter = Literal["micro", "base"]


class LoRALinear(nn.Module):
    """``W x + b`` with W frozen, plus ``B_base A_base x`` and ``B_micro A_micro x``."""

    def __init__(
        self,
        inputs: int,
        outputs: int,
        micro_rank: int,
        base_rank: int,
        generator: torch.Generator,
        zero_base: bool = False,
    ) -> None:
        super().__init__()
        # inputs are sparse (a few features, one-hot arm fields): unit weights
        # put the hidden units in the bend of tanh, not at its flat middle
        scale = 0.0 if zero_base else 1.0
        weight = torch.randn(outputs, inputs, generator=generator) * scale
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = nn.Parameter(torch.zeros(outputs))
        self.base_a = nn.Parameter(
            torch.randn(base_rank, inputs, generator=generator) * inputs**-0.5
        )
        self.base_b = nn.Parameter(torch.zeros(outputs, base_rank))
        self.micro_a = nn.Parameter(
            torch.randn(micro_rank, inputs, generator=generator) * inputs**-0.5
        )
        self.micro_b = nn.Parameter(torch.zeros(outputs, micro_rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The layer's output with both adapters applied."""
        base = nn.functional.linear(x, self.weight, self.bias)
        base = base + (x @ self.base_a.T) @ self.base_b.T
        return base + (x @ self.micro_a.T) @ self.micro_b.T

    def adapter(self, which: Adapter) -> list[nn.Parameter]:
        """The parameters one adapter trains (the bias goes with the base)."""
        if which == "micro":
            return [self.micro_a, self.micro_b]
        return [self.base_a, self.base_b, self.bias]

    def reset_micro(self) -> None:
        """Zero the micro adapter's effect once the base has absorbed it."""
        with torch.no_grad():
            self.micro_b.zero_()


class OutcomeNet(nn.Module):
    """(target features, arm) → (logit of P(accept), log1p gain per second)."""

    def __init__(self, micro_rank: int = 2, base_rank: int = 8, seed: int = 0) -> None:
        super().__init__()
        if not 1 <= micro_rank <= 2 or not 4 <= base_rank <= 16:
            raise ValueError(
                f"ranks micro={micro_rank} base={base_rank}: "
                "MicroLoRA takes rank 1..2, BaseLoRA 4..16"
            )
        generator = torch.Generator().manual_seed(seed)
        self.hidden = LoRALinear(INPUT_DIM, HIDDEN, micro_rank, base_rank, generator)
        self.head = LoRALinear(
            HIDDEN, 2, micro_rank, min(base_rank, 2), generator, zero_base=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 2)``: column 0 the acceptance logit, column 1 the gain rate."""
        out: torch.Tensor = self.head(torch.tanh(self.hidden(x)))
        return out

    def adapter(self, which: Adapter) -> list[nn.Parameter]:
        """One adapter's parameters across both layers."""
        return [*self.hidden.adapter(which), *self.head.adapter(which)]

    def reset_micro(self) -> None:
        """Zero both micro adapters."""
        self.hidden.reset_micro()
        self.head.reset_micro()


def outcome_loss(
    net: OutcomeNet, x: torch.Tensor, accepted: torch.Tensor, rate: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of acceptance plus a smaller Huber loss of the gain rate."""
    out = net(x)
    bce = nn.functional.binary_cross_entropy_with_logits(out[:, 0], accepted)
    return bce + 0.25 * nn.functional.smooth_l1_loss(out[:, 1], rate)
