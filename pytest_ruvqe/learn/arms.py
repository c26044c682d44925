"""Arms (what can be tried on a target), outcomes, and their numeric encoding.

Everything here is plain data and numpy, so choosing without torch works.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FEATURE_SLOTS = 16  # target features hashed by name
ARM_SLOTS = 32  # arm fields hashed by "field=value"
INPUT_DIM = FEATURE_SLOTS + ARM_SLOTS + 2  # + round + bias

Features = Mapping[str, float]
Row = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Arm:
    """One way to write tests for a target: a generator, where its inputs come
    from and, for model generators, provider, prompt template and temperature."""

    generator: str
    source: str = ""
    provider: str = ""
    template: str = ""
    temperature: float = 0.0

    @property
    def key(self) -> str:
        """A stable name of the arm, for counts and reports."""
        parts = [self.generator, self.source, self.provider, self.template]
        return "/".join(parts) + f"@{self.temperature:g}"


@dataclass(frozen=True)
class ArmOutcome:
    """What trying an arm on a target gave: accepted or not, coverage gained."""

    features: tuple[tuple[str, float], ...]
    arm: Arm
    accepted: bool
    gain: float = 0.0  # lines + branches newly covered
    seconds: float = 1.0
    round: int = 1

    @property
    def gain_rate(self) -> float:
        """log1p of lines+branches gained per second: the regression target."""
        return math.log1p(max(self.gain, 0.0) / max(self.seconds, 1e-3))


def feature_pairs(features: Features) -> tuple[tuple[str, float], ...]:
    """Features as the sorted pairs outcomes carry."""
    return tuple(sorted((str(k), float(v)) for k, v in features.items()))


def _slot(text: str, slots: int) -> tuple[int, float]:
    code = zlib.crc32(text.encode())
    return code % slots, (1.0 if code & 0x80000000 else -1.0)


def encode(features: Features, arm: Arm, round_: int = 1) -> Row:
    """The input row of one (target, arm) pair: log-scaled features, the arm's
    fields one-hot by hashing, the refine round, and a bias."""
    row = np.zeros(INPUT_DIM, dtype=np.float32)
    for name, value in features.items():
        slot, sign = _slot(name, FEATURE_SLOTS)
        row[slot] += sign * math.copysign(math.log1p(abs(value)), value) / 4.0
    fields = {
        "generator": arm.generator,
        "source": arm.source,
        "provider": arm.provider,
        "template": arm.template,
        "temperature": f"{arm.temperature:.1f}",
    }
    for field_name, text in fields.items():
        if text:
            slot, _ = _slot(f"{field_name}={text}", ARM_SLOTS)
            row[FEATURE_SLOTS + slot] += 1.0
    row[-2] = math.log1p(max(round_ - 1, 0))
    row[-1] = 1.0
    return row
