"""``ruvqe report --format html``: the run's HTML report again from its JSON,
page for page, written where asked, opened in a browser, never half-written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from report_project import ReportRun, env, run_reports

from pytest_ruvqe.cli import main
from pytest_ruvqe.report.html import write_html
from tests.conftest import RunPytest


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> ReportRun:
    run = run_reports(tmp_path_factory.mktemp("cli-html"))
    assert run.returncode == 0, run.stdout
    return run


def _pages(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*.html"))
    }


def _ruvqe(root: Path, *args: str) -> int:
    return main(["--rootdir", str(root), "report", *args])


def test_html_from_the_json_equals_the_runs_own(
    reported: ReportRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # coverage, quality, suggestions and mutants all read back from the JSON
    again = tmp_path / "again"
    code = _ruvqe(reported.root, "--format", "html", "--dir", str(again))
    assert code == 0
    assert f"wrote html report: {again / 'index.html'}" in capsys.readouterr().out
    assert _pages(again) == _pages(reported.html)
    assert "surviving mutant" in _pages(again)["files/prices.py.html"]


def test_html_goes_under_the_store_by_default(
    reported: ReportRun, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _ruvqe(reported.root, "--format", "html") == 0
    assert _pages(reported.root / ".ruvqe" / "html") == _pages(reported.html)


def test_generation_section_is_read_back_too(
    calc_project: pytest.Pytester, run: RunPytest, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(
        "--ruvqe-generate",
        "--ruvqe-generators=characterize",
        "--ruvqe-target=calc/core.py::safe_div",
        "--ruvqe-report=html:report",
    )
    assert result.ret == pytest.ExitCode.OK
    again = calc_project.path / "again"
    assert _ruvqe(calc_project.path, "--format", "html", "--dir", str(again)) == 0
    pages = _pages(again)
    assert pages == _pages(calc_project.path / "report")
    assert '<section id="generation">' in pages["index.html"]
    assert "def test_safe_div" in pages["generated.html"]


def test_open_shows_the_index_in_the_browser(
    reported: ReportRun, tmp_path: Path
) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(
        textwrap.dedent(
            f"""\
            import sys
            open({str(opened)!r}, "w").write(sys.argv[1])
            """
        )
    )
    child_env = dict(env(), BROWSER=f"{sys.executable} {browser} %s")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_ruvqe.cli",
            "report",
            "--open",
            "--dir",
            str(tmp_path / "shown"),
        ],
        cwd=reported.root,
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert opened.read_text() == (tmp_path / "shown" / "index.html").as_uri()


def test_stale_pages_of_an_earlier_report_are_removed(
    reported: ReportRun, tmp_path: Path
) -> None:
    target = tmp_path / "html"
    pages = _pages(reported.html)
    old = dict(pages, **{"files/gone.py.html": "old page", "generated.html": "old"})
    write_html(target, old)
    (target / "notes.txt").write_text("the user's own file")
    write_html(target, pages)
    assert set(_pages(target)) == set(pages)
    assert (target / "notes.txt").read_text() == "the user's own file"
    # a directory whose index is not one of ours: nothing of it is removed
    foreign = tmp_path / "foreign"
    (foreign / "files").mkdir(parents=True)
    (foreign / "index.html").write_text("<html>someone else's</html>")
    (foreign / "files" / "theirs.html").write_text("theirs")
    write_html(foreign, pages)
    assert (foreign / "files" / "theirs.html").read_text() == "theirs"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--open", "--format", "md"], "--open and --dir are for the html report"),
        (["--format", "html", "--dir", "prices.py"], "is a file"),
        (["--format", "html", "--dir", "prices.py/html"], "is a file"),
        (["--format", "html", "--dir", "src/pkg/out"], "inside the measured source"),
    ],
)
def test_bad_html_targets_are_one_line_and_write_nothing(
    tmp_path: Path,
    reported: ReportRun,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    root = tmp_path / "project"
    (root / ".ruvqe").mkdir(parents=True)
    data = json.loads((reported.out / "r.json").read_text())
    data["measured"]["sources"] = ["src/pkg"]
    (root / ".ruvqe" / "last-run.json").write_text(json.dumps(data))
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "prices.py").write_text("x = 1\n")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    monkeypatch.chdir(root)
    assert _ruvqe(root, *args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_history_charts_every_run_kept(tmp_path: Path) -> None:
    for _ in range(3):
        run = run_reports(tmp_path)
        assert run.returncode == 0, run.stdout
    data = json.loads((run.out / "r.json").read_text())
    index = (run.html / "index.html").read_text(encoding="utf-8")
    section = index[index.index('<section id="history">') :]
    section = section[: section.index("</section>")]
    assert "(3 runs)" in section

    def heights(series: str) -> list[float]:
        found = re.search(
            rf'data-series="{series}">\s*<polyline points="([^"]+)"', section
        )
        assert found, f"no {series} line"
        return [float(point.split(",")[1]) for point in found.group(1).split()]

    # y = top + (1 - value) * height, the same figure on each unchanged run
    coverage = data["totals"]["coverage"]
    assert heights("coverage") == [round(28 + (1 - coverage) * 160, 1)] * 3
    score = data["mutation"]["score"]
    assert heights("mutation") == [round(28 + (1 - score) * 160, 1)] * 3
    assert 'data-series="acceptance"' not in section  # nothing was generated
