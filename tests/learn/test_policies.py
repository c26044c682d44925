"""Choosing arms without torch: the fixed order, the bandit, the fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_ruvqe.learn import (
    Arm,
    ArmOutcome,
    BetaBandit,
    StaticPolicy,
    encode,
    open_policy,
    save_policy,
)

GOOD = Arm("characterize", source="search")
BAD = Arm("chat", source="model", provider="local", temperature=0.7)


def test_encoding_tells_arms_and_targets_apart() -> None:
    small = {"cyclomatic": 1.0, "missing_lines": 2.0}
    big = {"cyclomatic": 30.0, "missing_lines": 200.0}
    assert not np.array_equal(encode(small, GOOD), encode(small, BAD))
    assert not np.array_equal(encode(small, GOOD), encode(big, GOOD))
    assert not np.array_equal(encode(small, GOOD, 1), encode(small, GOOD, 3))
    assert np.abs(encode(big, GOOD)).max() <= 2.0  # log-scaled, not raw counts


def test_static_policy_keeps_the_configured_order() -> None:
    policy = StaticPolicy()
    policy.update(ArmOutcome((), BAD, accepted=True))
    assert policy.rank({}, [GOOD, BAD]) == [GOOD, BAD]


def test_bandit_learns_the_better_arm_but_still_explores() -> None:
    bandit = BetaBandit(seed=1)
    rng = np.random.default_rng(2)
    for _ in range(100):
        bandit.update(ArmOutcome((), GOOD, accepted=bool(rng.random() < 0.8)))
        bandit.update(ArmOutcome((), BAD, accepted=bool(rng.random() < 0.2)))
    firsts = [bandit.rank({}, [BAD, GOOD])[0] for _ in range(500)]
    share = firsts.count(GOOD) / len(firsts)
    assert 0.9 < share < 1.0


def test_without_torch_the_policy_falls_back_to_the_fixed_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises
    opened = open_policy(tmp_path / "sona.pt")
    assert isinstance(opened.policy, StaticPolicy)
    assert "needs torch" in (opened.problem or "")
    assert opened.policy.rank({}, [BAD, GOOD]) == [BAD, GOOD]
    assert save_policy(opened.policy, tmp_path / "sona.pt") is False
    assert not (tmp_path / "sona.pt").exists()
