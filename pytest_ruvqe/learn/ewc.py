"""EWC++: an online diagonal Fisher that keeps what earlier projects taught.

The Fisher is a decaying average of squared gradients of the outcome loss;
the anchor is where the parameters stood when the current project began.
Drift of an important parameter (large Fisher) from its anchor is penalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class OnlineEwc:
    """Diagonal Fisher with decay, an anchor, and the quadratic penalty."""

    def __init__(
        self, params: Sequence[torch.nn.Parameter], strength: float, decay: float
    ) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EWC++ decay {decay} must be in [0, 1)")
        self.params = list(params)
        self.strength = strength
        self.decay = decay
        self.fisher = [torch.zeros_like(p) for p in self.params]
        self.anchor = [p.detach().clone() for p in self.params]
        self.anchored = False  # the first project learns freely

    def accumulate(self, grads: Sequence[torch.Tensor]) -> None:
        """Fold one outcome's gradients into the Fisher."""
        with torch.no_grad():
            for f, g in zip(self.fisher, grads, strict=True):
                f.mul_(self.decay).addcmul_(g, g, value=1.0 - self.decay)

    def set_anchor(self) -> None:
        """What the parameters are now is what later learning must not undo."""
        self.anchor = [p.detach().clone() for p in self.params]
        self.anchored = True

    def penalty(self) -> torch.Tensor:
        """``strength / 2 · sum F (theta - theta*)^2``."""
        total = torch.zeros(())
        if not self.anchored or self.strength == 0.0:
            return total
        for p, f, a in zip(self.params, self.fisher, self.anchor, strict=True):
            total = total + (f * (p - a) ** 2).sum()
        return 0.5 * self.strength * total

    def state(self) -> dict[str, list[torch.Tensor]]:
        """Fisher and anchor, for saving."""
        return {"fisher": self.fisher, "anchor": self.anchor}

    def restore(self, state: dict[str, list[torch.Tensor]]) -> None:
        """Fisher and anchor from :meth:`state`; shapes must match."""
        for name in ("fisher", "anchor"):
            mine = getattr(self, name)
            theirs = state[name]
            if len(theirs) != len(mine) or any(
                a.shape != b.shape for a, b in zip(mine, theirs, strict=True)
            ):
                raise ValueError(f"EWC++ {name} has other shapes")
            setattr(self, name, [t.detach().clone().float() for t in theirs])
