"""Our coverage.py recorder: what it reports, and what it leaves unread."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pytest_ruvqe.measure.recorder import CoverageRecorder


def _measure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CoverageRecorder:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "small.py").write_text("def f(x):\n    return x + 1\n")
    # a big, perfectly parseable module: it is measured, then must not be read
    (pkg / "big.py").write_text("".join(f"v{i} = {i}\n" for i in range(400)))
    monkeypatch.syspath_prepend(str(tmp_path))
    recorder = CoverageRecorder((pkg,), explicit=True)
    recorder.start()
    try:
        import pkg.big
        import pkg.small

        assert pkg.small.f(1) == 2 and pkg.big.v3 == 3
    finally:
        recorder.stop()
        for name in ("pkg", "pkg.big", "pkg.small"):
            sys.modules.pop(name, None)
    return recorder


def test_files_over_the_limit_are_left_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _measure(tmp_path, monkeypatch)
    everything = {Path(p).name for p in recorder.files()}
    assert {"small.py", "big.py"} <= everything
    limited = recorder.files(max_bytes=1024)
    assert {Path(p).name for p in limited} == everything - {"big.py"}
    small = next(f for p, f in limited.items() if p.endswith("small.py"))
    assert small.missing == frozenset()
