"""Every smell kind: a test file that shows it and one that does not."""

from __future__ import annotations

import textwrap

import pytest
from smell_cases import CASES

from pytest_ruvqe.analyse.smells import (
    SMELL_WEIGHTS,
    find_smells,
    oracle_quality,
    read_test_files,
)


def _kinds(pytester: pytest.Pytester, source: str) -> set[str]:
    path = pytester.makepyfile(test_sample=textwrap.dedent(source))
    report = find_smells(read_test_files([path], pytester.path))
    assert not report.warnings
    return {s.kind for s in report.smells}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_smell_found(pytester: pytest.Pytester, kind: str) -> None:
    assert kind in _kinds(pytester, CASES[kind][0])


@pytest.mark.parametrize("kind", sorted(CASES))
def test_smell_absent(pytester: pytest.Pytester, kind: str) -> None:
    assert kind not in _kinds(pytester, CASES[kind][1])


def test_every_weighted_kind_has_a_case() -> None:
    assert set(CASES) == set(SMELL_WEIGHTS)


def test_oracle_quality_sums_distinct_weights() -> None:
    assert oracle_quality(["sleep", "sleep"]) == pytest.approx(0.5)
    assert oracle_quality(["sleep", "magic_number"]) == pytest.approx(0.45)
    assert oracle_quality(["no_assertion", "sleep"]) == 0.0


def test_assertion_by_helper_and_unittest_style_counts(
    pytester: pytest.Pytester,
) -> None:
    kinds = _kinds(
        pytester,
        """
        import unittest
        def check(v):
            assert v > 0
        def test_helper():
            check(f())
        class TestCase(unittest.TestCase):
            def test_method(self):
                self.assertEqual(f(), 1)
        def test_mock(m):
            m.assert_called_once_with(1)
        """,
    )
    assert "no_assertion" not in kinds


def test_unparseable_file_is_a_warning(pytester: pytest.Pytester) -> None:
    good = pytester.makepyfile(test_good="def test_x():\n    pass\n")
    bad = pytester.makepyfile(test_bad="def test_x(:\n")
    report = find_smells(read_test_files([good, bad], pytester.path))
    assert len(report.warnings) == 1
    assert "test_bad.py" in report.warnings[0]
    assert [t.qualname for t in report.tests] == ["test_x"]
    assert report.oracle == 0.0


def test_smell_locations_point_at_the_line(pytester: pytest.Pytester) -> None:
    path = pytester.makepyfile(
        test_loc="import time\n\nclass TestCart:\n    def test_wait(self):\n"
        "        time.sleep(1)\n        assert True\n"
    )
    report = find_smells(read_test_files([path], pytester.path))
    by_kind = {s.kind: s for s in report.smells}
    assert by_kind["sleep"].line == 5
    assert by_kind["sleep"].test == "TestCart.test_wait"
    assert by_kind["sleep"].file == "test_loc.py"
    assert by_kind["tautological_assert"].line == 6
    assert report.tests[0].oracle == 0.0  # 1 - 0.5 - 0.8, floored
