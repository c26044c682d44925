"""SONA: the adapters change predictions, EWC++ restrains drift, weights persist."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pytest_ruvqe.learn import Arm, ArmOutcome, feature_pairs, open_policy  # noqa: E402
from pytest_ruvqe.learn.sona import Sona, SonaConfig  # noqa: E402
from pytest_ruvqe.learn.weights import load_sona, save_sona  # noqa: E402

SEARCH = Arm("characterize", source="search")
MODEL = Arm("chat", source="model", provider="local", temperature=0.2)
BRANCHY = {"cyclomatic": 12.0, "missing_branches": 20.0, "lines": 60.0}
SIMPLE = {"cyclomatic": 1.0, "missing_branches": 0.0, "lines": 4.0}


def outcome(features: dict[str, float], arm: Arm, accepted: bool) -> ArmOutcome:
    return ArmOutcome(feature_pairs(features), arm, accepted, 3.0 if accepted else 0.0)


def world(rng: np.random.Generator) -> ArmOutcome:
    """The search wins on branchy code, the model on simple code (90%)."""
    features = BRANCHY if rng.random() < 0.5 else SIMPLE
    arm = SEARCH if rng.random() < 0.5 else MODEL
    wins = (arm == SEARCH) == (features is BRANCHY)
    return outcome(features, arm, bool(rng.random() < (0.9 if wins else 0.1)))


def p_accept(sona: Sona, features: dict[str, float], arm: Arm) -> float:
    return sona.predict(features, [arm])[0].p_accept


def test_the_micro_steps_gradients_by_hand_are_autograds() -> None:
    from pytest_ruvqe.learn.arms import encode
    from pytest_ruvqe.learn.micro import gradients
    from pytest_ruvqe.learn.network import outcome_loss
    from pytest_ruvqe.learn.sona import _arrays

    sona = Sona()
    rng = np.random.default_rng(3)
    for _ in range(40):  # trained adapters: every term of the backward counts
        sona.update(world(rng))
    with torch.no_grad():
        for p in sona.net.adapter("micro"):
            p.add_(torch.randn(p.shape) * 0.3)
    for accepted, rate in ((True, 3.0), (False, 0.0), (True, 0.4)):
        x = encode(BRANCHY, SEARCH, 2)
        loss = outcome_loss(
            sona.net,
            torch.from_numpy(x[None, :]),
            torch.tensor([float(accepted)]),
            torch.tensor([rate]),
        )
        wanted = [*sona.net.adapter("micro"), *sona.net.adapter("base")]
        expected = torch.autograd.grad(loss, wanted)
        mine, micro, base = gradients(
            _arrays(sona.net.hidden), _arrays(sona.net.head), x, float(accepted), rate
        )
        assert mine == pytest.approx(loss.item(), rel=1e-4)
        for got, want in zip([*micro, *base], expected, strict=True):
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-4, atol=1e-6)


def test_untrained_it_has_no_opinion_and_keeps_the_order() -> None:
    sona = Sona()
    assert p_accept(sona, BRANCHY, SEARCH) == pytest.approx(0.5)
    assert sona.rank(BRANCHY, [MODEL, SEARCH]) == [MODEL, SEARCH]
    assert sona.another_round(BRANCHY, MODEL, 2) is None


def test_one_micro_step_moves_the_prediction_and_only_the_micro_adapter() -> None:
    sona = Sona(SonaConfig(consolidate_every=1000))
    base_before = [p.detach().clone() for p in sona.net.adapter("base")]
    before = p_accept(sona, BRANCHY, SEARCH)
    sona.update(outcome(BRANCHY, SEARCH, accepted=True))
    after = p_accept(sona, BRANCHY, SEARCH)
    assert after > before + 0.004
    for old, new in zip(base_before, sona.net.adapter("base"), strict=True):
        assert torch.equal(old, new)
    sona.update(outcome(BRANCHY, SEARCH, accepted=False))
    assert p_accept(sona, BRANCHY, SEARCH) < after


def test_it_learns_which_arm_suits_which_target() -> None:
    sona = Sona(SonaConfig(seed=3))
    rng = np.random.default_rng(0)
    for _ in range(400):
        sona.update(world(rng))
    assert p_accept(sona, BRANCHY, SEARCH) > 0.75
    assert p_accept(sona, BRANCHY, MODEL) < 0.25
    assert p_accept(sona, SIMPLE, MODEL) > 0.75
    assert p_accept(sona, SIMPLE, SEARCH) < 0.25
    firsts = [sona.rank(SIMPLE, [SEARCH, MODEL])[0] for _ in range(200)]
    assert 0.85 < firsts.count(MODEL) / 200 < 1.0  # exploration is never zero
    assert sona.another_round(SIMPLE, SEARCH, 1) is False


def test_consolidation_moves_what_micro_learned_into_the_base() -> None:
    sona = Sona(SonaConfig(consolidate_every=10_000, seed=1))
    rng = np.random.default_rng(1)
    for _ in range(200):
        sona.update(world(rng))
    sona.consolidate()
    assert all(
        float(p.detach().abs().sum()) == 0.0 for p in sona.net.adapter("micro")[1::2]
    )
    assert p_accept(sona, BRANCHY, SEARCH) > 0.7
    assert p_accept(sona, SIMPLE, SEARCH) < 0.3


PROJECT_B = {"nesting": 5.0, "params": 7.0}


def forgetting_run(ewc: bool) -> tuple[float, float, float]:
    """Learn project A, then B where the arms behave otherwise on other
    features: (mean shift of A's predictions during B, then P(accept) in B of
    the model and of the search)."""
    sona = Sona(SonaConfig(seed=5, ewc_strength=2000.0), ewc=ewc)
    rng = np.random.default_rng(5)
    for _ in range(480):
        sona.update(world(rng))
    sona.start_project()
    held_out = [world(rng) for _ in range(200)]
    before = np.array([p_accept(sona, dict(o.features), o.arm) for o in held_out])
    for _ in range(480):
        arm = SEARCH if rng.random() < 0.5 else MODEL
        wins = rng.random() < (0.9 if arm == MODEL else 0.1)
        sona.update(outcome(PROJECT_B, arm, bool(wins)))
    after = np.array([p_accept(sona, dict(o.features), o.arm) for o in held_out])
    shift = float(np.abs(after - before).mean())
    return shift, p_accept(sona, PROJECT_B, MODEL), p_accept(sona, PROJECT_B, SEARCH)


def test_ewc_restrains_drift_from_what_project_a_taught() -> None:
    shift_with, model_b, search_b = forgetting_run(ewc=True)
    shift_without, *_ = forgetting_run(ewc=False)
    assert shift_with < 0.25 * shift_without
    assert model_b > 0.7 and search_b < 0.3  # and project B was still learned


def test_weights_round_trip(tmp_path: Path) -> None:
    sona = Sona()
    rng = np.random.default_rng(2)
    for _ in range(50):
        sona.update(world(rng))
    path = tmp_path / ".ruvqe" / "sona.pt"
    save_sona(sona, path)
    again, problem = load_sona(path)
    assert problem is None
    assert again.seen == 50 and again.counts == sona.counts
    assert p_accept(again, BRANCHY, SEARCH) == pytest.approx(
        p_accept(sona, BRANCHY, SEARCH), abs=1e-6
    )


class Payload:
    """Something a pickle would run code for; weights_only must refuse it."""


@pytest.mark.parametrize("damage", ["garbage", "foreign", "pickle", "shapes"])
def test_bad_weights_are_ignored_with_a_reason(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "sona.pt"
    if damage == "garbage":
        path.write_bytes(b"\x80\x02 not a torch file")
    elif damage == "foreign":
        torch.save({"format": "someone-else", "w": torch.zeros(3)}, path)
    elif damage == "pickle":
        torch.save({"format": "ruvqe-sona", "evil": Payload()}, path)
    else:
        save_sona(Sona(SonaConfig(base_rank=16)), path)
    sona, problem = load_sona(path)
    assert problem is not None and "ignored" in problem and str(path) in problem
    assert sona.seen == 0
    opened = open_policy(path)
    assert opened.policy.name == "sona" and opened.problem == problem
