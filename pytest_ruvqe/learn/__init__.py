"""Learning what to try: SONA (torch, the ``learn`` extra) and simpler policies.

Importing this package imports no torch; :func:`open_policy` does, and falls
back to today's fixed order when torch is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_ruvqe.learn.arms import Arm, ArmOutcome, Features, encode, feature_pairs
from pytest_ruvqe.learn.policy import ArmPolicy, BetaBandit, PolicyName, StaticPolicy

__all__ = [
    "Arm",
    "ArmOutcome",
    "ArmPolicy",
    "BetaBandit",
    "Features",
    "OpenedPolicy",
    "PolicyName",
    "StaticPolicy",
    "encode",
    "feature_pairs",
    "open_policy",
    "save_policy",
    "torch_available",
]


def torch_available() -> bool:
    """Whether the ``learn`` extra's torch imports."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class OpenedPolicy:
    """The policy to use this run, and a problem to warn about, if any."""

    policy: ArmPolicy
    problem: str | None = None


def open_policy(path: Path, name: PolicyName = "sona") -> OpenedPolicy:
    """The learner saved at ``path``; the static order without torch."""
    if name == "static":
        return OpenedPolicy(StaticPolicy())
    if name == "bandit":
        return OpenedPolicy(BetaBandit())
    if not torch_available():
        return OpenedPolicy(
            StaticPolicy(),
            "SONA needs torch (pip install 'pytest-ruvqe[learn]'); "
            "arms are tried in the fixed order",
        )
    from pytest_ruvqe.learn.weights import load_sona

    sona, problem = load_sona(path)
    return OpenedPolicy(sona, problem)


def save_policy(policy: ArmPolicy, path: Path) -> bool:
    """Save a SONA learner's weights; other policies keep nothing. True if saved."""
    if policy.name != "sona":
        return False
    from pytest_ruvqe.learn.sona import Sona
    from pytest_ruvqe.learn.weights import save_sona

    if not isinstance(policy, Sona):
        return False
    save_sona(policy, path)
    return True
