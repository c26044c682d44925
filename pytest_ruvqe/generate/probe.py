"""Run planned calls in a separate process and read back outcomes with coverage.

The process itself is started by a :class:`ProbeRunner`. The sandbox module
provides the isolated one used in real runs; :class:`SubprocessProbeRunner`
is the plain fallback (separate process, time limit, temporary directory,
environment without secrets) used where no sandbox is wired in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_ruvqe.measure.model import Arc

PROBE_SCRIPT = Path(__file__).with_name("probe_main.py")


@dataclass(frozen=True)
class PlannedCall:
    """One call to try: statements that build the receiver, then the call."""

    id: str
    setup: tuple[str, ...]
    expr: str


@dataclass(frozen=True)
class CallOutcome:
    """What one call did: its result kind, assertable facts and coverage."""

    call: PlannedCall
    kind: str  # value / object / raise / timeout / setup_error
    repr: str | None = None
    type: str | None = None
    attrs: tuple[tuple[str, str], ...] = ()
    is_none: bool = False
    stable: bool = True
    lines: frozenset[int] = frozenset()
    arcs: frozenset[Arc] = frozenset()


@dataclass(frozen=True)
class ProbeRun:
    """The raw result of one probe process."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    output: str | None  # the JSON the probe wrote, if any


class ProbeRunner(Protocol):
    """Starts the probe script in a separate process."""

    def run_probe(
        self,
        script: Path,
        spec: dict[str, Any],
        import_roots: tuple[Path, ...],
        timeout: float,
    ) -> ProbeRun:
        """Run ``python script SPEC OUT`` in isolation and return what it wrote."""


class CallExecutor(Protocol):
    """Runs planned calls in a separate process; outcomes in call order."""

    def execute(
        self,
        *,
        module: str,
        alias: str,
        source_file: Path,
        import_roots: tuple[Path, ...],
        calls: list[PlannedCall],
        call_timeout: float,
        timeout: float,
    ) -> list[CallOutcome]:
        """Outcome, assertable facts and coverage of each call."""


class ScriptExecutor:
    """Runs calls with the standalone probe script through a :class:`ProbeRunner`.

    It reports public attributes of returned objects too, so the tests it
    yields assert more; it has no guard against writes or network beyond what
    the runner gives.
    """

    def __init__(self, runner: ProbeRunner | None = None) -> None:
        self.runner: ProbeRunner = runner or SubprocessProbeRunner()

    def execute(
        self,
        *,
        module: str,
        alias: str,
        source_file: Path,
        import_roots: tuple[Path, ...],
        calls: list[PlannedCall],
        call_timeout: float,
        timeout: float,
    ) -> list[CallOutcome]:
        """Outcomes of ``calls`` from one probe process."""
        return run_calls(
            self.runner,
            module=module,
            alias=alias,
            source_file=source_file,
            import_roots=import_roots,
            calls=calls,
            call_timeout=call_timeout,
            timeout=timeout,
        )


class ProbeError(Exception):
    """The probe process failed as a whole (the message has its error output)."""


class SubprocessProbeRunner:
    """A plain separate process with a time limit and a scrubbed environment."""

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable

    def run_probe(
        self,
        script: Path,
        spec: dict[str, Any],
        import_roots: tuple[Path, ...],
        timeout: float,
    ) -> ProbeRun:
        """Run the probe in a fresh temporary directory and collect its output."""
        with tempfile.TemporaryDirectory(prefix="ruvqe-probe-") as tmp:
            spec_path = Path(tmp, "spec.json")
            out_path = Path(tmp, "out.json")
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            # keep only what Python needs: no API keys reach candidate code
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME")}
            env["PYTHONPATH"] = os.pathsep.join(str(p) for p in import_roots)
            env["PYTHONHASHSEED"] = "0"
            try:
                proc = subprocess.run(
                    [self.python, str(script), str(spec_path), str(out_path)],
                    cwd=tmp,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                return ProbeRun(-9, _text(exc.stdout), _text(exc.stderr), True, None)
            output = out_path.read_text("utf-8") if out_path.exists() else None
            return ProbeRun(proc.returncode, proc.stdout, proc.stderr, False, output)


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


def run_calls(
    runner: ProbeRunner,
    *,
    module: str,
    alias: str,
    source_file: Path,
    import_roots: tuple[Path, ...],
    calls: list[PlannedCall],
    call_timeout: float = 1.0,
    timeout: float = 60.0,
) -> list[CallOutcome]:
    """Run ``calls`` in one probe process; outcomes come back in call order."""
    spec = {
        "module": module,
        "alias": alias,
        "source_file": str(source_file),
        "import_roots": [str(p) for p in import_roots],
        "call_timeout": call_timeout,
        "calls": [{"id": c.id, "setup": list(c.setup), "expr": c.expr} for c in calls],
    }
    run = runner.run_probe(PROBE_SCRIPT, spec, import_roots, timeout)
    if run.output is None:
        why = "timed out" if run.timed_out else f"exited with {run.returncode}"
        raise ProbeError(f"probe of {module} {why}: {run.stderr[-800:]}")
    raw: dict[str, dict[str, Any]] = json.loads(run.output)
    outcomes = []
    for call in calls:
        item = raw.get(call.id)
        if item is None:
            continue
        outcomes.append(
            CallOutcome(
                call=call,
                kind=item["kind"],
                repr=item.get("repr"),
                type=item.get("type"),
                attrs=tuple(sorted(item.get("attrs", {}).items())),
                is_none=bool(item.get("is_none", False)),
                stable=bool(item.get("stable", True)),
                lines=frozenset(item.get("lines", ())),
                arcs=frozenset((a, b) for a, b in item.get("arcs", ())),
            )
        )
    return outcomes
