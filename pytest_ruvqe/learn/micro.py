"""One MicroLoRA step's gradients in numpy: the instant loop, by hand.

The outcome network is tiny (one hidden layer of 32 units), so for a single
outcome torch's autograd costs far more than the arithmetic. This computes
the same loss and gradients (the micro adapter's, and the base adapter's for
the EWC++ Fisher) with a few numpy products on views of the torch
parameters, which the caller then updates in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float32]
GAIN_WEIGHT = 0.25  # the gain rate's share of the loss, as in ``outcome_loss``


@dataclass(frozen=True)
class Layer:
    """One :class:`~pytest_ruvqe.learn.network.LoRALinear` as arrays."""

    weight: Array
    bias: Array
    base_a: Array
    base_b: Array
    micro_a: Array
    micro_b: Array

    def forward(self, x: Array) -> tuple[Array, Array, Array]:
        """The output, and the two adapters' inner products (for backward)."""
        base_in = self.base_a @ x
        micro_in = self.micro_a @ x
        out = self.weight @ x + self.bias + self.base_b @ base_in
        return out + self.micro_b @ micro_in, base_in, micro_in

    def backward(
        self, x: Array, grad: Array, base_in: Array, micro_in: Array
    ) -> tuple[list[Array], list[Array], Array]:
        """Gradients of (micro_a, micro_b), of (base_a, base_b, bias), and of x."""
        up_base = self.base_b.T @ grad
        up_micro = self.micro_b.T @ grad
        micro = [np.outer(up_micro, x), np.outer(grad, micro_in)]
        base = [np.outer(up_base, x), np.outer(grad, base_in), grad]
        back = (
            self.weight.T @ grad + self.base_a.T @ up_base + self.micro_a.T @ up_micro
        )
        return micro, base, back


def gradients(
    hidden: Layer, head: Layer, x: Array, accepted: float, rate: float
) -> tuple[float, list[Array], list[Array]]:
    """Loss of one outcome, gradients of the micro adapters (hidden, head)
    and of the base adapters in :meth:`OutcomeNet.adapter` order."""
    pre, h_base, h_micro = hidden.forward(x)
    h = np.tanh(pre)
    out, o_base, o_micro = head.forward(h)
    logit, predicted = float(out[0]), float(out[1])
    # binary cross-entropy with logits, and a smooth L1 (beta 1) of the rate
    bce = max(logit, 0.0) - logit * accepted + float(np.log1p(np.exp(-abs(logit))))
    diff = predicted - rate
    huber = 0.5 * diff * diff if abs(diff) < 1.0 else abs(diff) - 0.5
    d_out = np.array(
        [1.0 / (1.0 + np.exp(-logit)) - accepted, GAIN_WEIGHT * np.clip(diff, -1, 1)],
        dtype=np.float32,
    )
    head_micro, head_base, d_h = head.backward(h, d_out, o_base, o_micro)
    d_pre = (d_h * (1.0 - h * h)).astype(np.float32)
    hidden_micro, hidden_base, _ = hidden.backward(x, d_pre, h_base, h_micro)
    return (
        bce + GAIN_WEIGHT * huber,
        [*hidden_micro, *head_micro],
        [*hidden_base, *head_base],
    )
