"""Circuit breaker per provider: closed → open → half-open → closed."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable


class BreakerState(enum.Enum):
    """Where a breaker stands."""

    CLOSED = "closed"  # calls flow
    OPEN = "open"  # calls are refused until the cool-down has passed
    HALF_OPEN = "half_open"  # one trial call decides


class CircuitBreaker:
    """Stops calling a provider after ``failure_threshold`` failures in a row."""

    def __init__(
        self,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        """Current state; an open breaker turns half-open once the cool-down ends."""
        with self._lock:
            self._refresh()
            return self._state

    def _refresh(self) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.cooldown_s
        ):
            self._state = BreakerState.HALF_OPEN
            self._trial_in_flight = False

    def allow(self) -> bool:
        """Whether a call may go through now (half-open lets one trial pass)."""
        with self._lock:
            self._refresh()
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    def record_failure(self) -> None:
        """A call failed: open after too many in a row, or at once when half-open."""
        with self._lock:
            self._failures += 1
            if (
                self._state is BreakerState.HALF_OPEN
                or self._failures >= self.failure_threshold
            ):
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trial_in_flight = False

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures
