from pathlib import Path

from pytest_ruvqe.analyse.gaps import build_report, crap_risk, file_gaps, rank
from pytest_ruvqe.analyse.source_index import index_source
from pytest_ruvqe.measure.types import FileCoverage, Measurement

SOURCE = """\
def a(x):
    if x:
        return 1
    return 2


def b(y):
    return y


VALUE = 3
"""


def _cov() -> FileCoverage:
    return FileCoverage(
        path="pkg/m.py",
        statements=frozenset({1, 2, 3, 4, 7, 8, 11}),
        missing=frozenset({3, 8}),
        executed_branches=frozenset({(2, 4)}),
        missing_branches=frozenset({(2, 3)}),
    )


def test_lines_and_branches_go_to_their_function() -> None:
    index = index_source(SOURCE, Path("m.py"), "pkg.m")
    gaps, summary = file_gaps(_cov(), index, "pkg/m.py")
    by_name = {g.qualname: g for g in gaps}
    assert by_name["a"].missing_lines == (3,)
    assert by_name["a"].missing_branches == ((2, 3),)
    assert by_name["a"].statements == 4 and by_name["a"].branches == 2
    assert by_name["a"].coverage == 4 / 6
    assert by_name["b"].missing_lines == (8,)
    assert not by_name["<module>"].has_gap
    assert by_name["<module>"].risk == 0.0
    assert summary.statements == 7 and summary.missing_lines == 2
    assert summary.branches == 2 and summary.missing_branches == 1
    assert summary.coverage == 6 / 9


def test_diff_mode_keeps_only_changed_lines() -> None:
    index = index_source(SOURCE, Path("m.py"), "pkg.m")
    gaps, summary = file_gaps(_cov(), index, "pkg/m.py", changed=frozenset({7, 8}))
    assert [g.qualname for g in gaps if g.has_gap] == ["b"]
    assert summary.statements == 2 and summary.branches == 0


def test_risk_is_crap_and_ranks_worst_first() -> None:
    assert crap_risk(1, 1.0) == 1
    assert crap_risk(10, 0.0) == 110
    index = index_source(SOURCE, Path("m.py"), "pkg.m")
    gaps, _ = file_gaps(_cov(), index, "pkg/m.py")
    ranked = rank(gaps)
    # b: cc 1, 50% covered → 1.125; a: cc 2, 66% → 2.148
    assert [g.qualname for g in ranked if g.has_gap] == ["a", "b"]


def test_build_report_warns_about_unparseable_files(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(SOURCE)
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    cov = FileCoverage(str(good), frozenset({1, 2}), frozenset({2}))
    report = build_report(
        Measurement(files={str(good): cov}),
        tmp_path,
        max_bytes=10_000,
        extra_files=(good, bad),
    )
    assert [f.file for f in report.files] == ["good.py"]
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("skipped bad.py: does not parse")
    assert report.coverage == 0.5
