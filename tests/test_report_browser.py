"""The HTML report of the demo project, opened in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from report_project import env

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo_project"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> str:
    found = next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        reason = "no Chromium installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "demo_project"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".ruvqe", "__pycache__"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "pytest_ruvqe.plugin",
            "-p",
            "no:cacheprovider",
            "--ruvqe",
            "--ruvqe-report=json:out/r.json,html:out/html",
        ],
        cwd=root,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "out"


def _open(browser: str, page: Path, profile: Path, *args: str) -> tuple[str, str]:
    """The DOM after the page's script ran, and Chromium's log of the page."""
    proc = subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def _console(log: str) -> list[str]:
    """What the page wrote to its console (errors, warnings, logs)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def test_report_renders_without_console_errors(
    browser: str, demo_report: Path, tmp_path: Path
) -> None:
    data = json.loads((demo_report / "r.json").read_text())
    index = demo_report / "html" / "index.html"
    dom, log = _open(browser, index, tmp_path / "profile", "--dump-dom")
    assert _console(log) == []
    # the script ran: it made every table header sortable
    assert re.search(r'<th class="[^"]*\bsortable\b', dom)
    for function in data["functions"]:
        assert f"<code>{html.escape(function['qualname'])}</code>" in dom

    shot = tmp_path / "index.png"
    _, log = _open(
        browser,
        index,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,1600",
    )
    assert _console(log) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_file_page_marks_a_missing_line(
    browser: str, demo_report: Path, tmp_path: Path
) -> None:
    data = json.loads((demo_report / "r.json").read_text())
    gap = next(f for f in data["functions"] if f["missing_lines"])
    line = gap["missing_lines"][0]
    index_dom, _ = _open(
        browser, demo_report / "html" / "index.html", tmp_path / "p", "--dump-dom"
    )
    href = re.search(rf'href="(files/[^"#]+)#L{gap["start"]}"', index_dom)
    assert href, f"no link to {gap['qualname']}"
    page = demo_report / "html" / href.group(1)
    dom, log = _open(browser, page, tmp_path / "p", "--dump-dom")
    assert _console(log) == []
    assert re.search(rf'<tr id="L{line}" class="miss"', dom)


# loads the index in a frame, sorts the functions by risk both ways and
# filters them, and writes what it saw into the page
DRIVER = """<!DOCTYPE html><html><body><iframe id="f" src="index.html"></iframe>
<pre id="out"></pre><script>
document.getElementById("f").onload = function () {
  var table = this.contentDocument.getElementById("functions");
  var rows = function () { return Array.from(table.tBodies[0].rows); };
  var risk = function () {
    return rows().map(function (r) { return Number(r.cells[6].dataset.sort); });
  };
  var header = table.tHead.rows[0].cells[6];
  header.click();
  var ascending = risk();
  header.click();
  var descending = risk();
  var input = this.contentDocument.querySelector('input[data-table="functions"]');
  input.value = "no such function";
  input.dispatchEvent(new Event("input"));
  var hidden = rows().filter(function (r) { return r.hidden; }).length;
  document.getElementById("out").textContent = JSON.stringify({
    ascending: ascending, descending: descending, hidden: hidden, rows: rows().length
  });
};
</script></body></html>
"""


def test_tables_sort_and_filter(
    browser: str, demo_report: Path, tmp_path: Path
) -> None:
    site = tmp_path / "html"
    shutil.copytree(demo_report / "html", site)
    driver = site / "driver.html"
    driver.write_text(DRIVER)
    dom, log = _open(
        browser,
        driver,
        tmp_path / "profile",
        "--allow-file-access-from-files",
        "--virtual-time-budget=10000",
        "--dump-dom",
    )
    assert _console(log) == []
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), dom[-2000:]
    seen = json.loads(html.unescape(found.group(1)))
    assert len(seen["ascending"]) == seen["rows"] > 1
    assert seen["ascending"] == sorted(seen["ascending"])
    assert seen["descending"] == sorted(seen["ascending"], reverse=True)
    assert seen["hidden"] == seen["rows"]
