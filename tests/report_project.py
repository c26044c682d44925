"""A small project run once with every report file, for the report tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest_ruvqe

# the subprocess must import this checkout, whatever is installed
PACKAGE_ROOT = str(Path(pytest_ruvqe.__file__).resolve().parent.parent)

# line 3 never runs; line 2 runs but never jumps to 3 (a partial branch);
# over_limit is only asked about 500, so `amount >= limit` survives
PRICES = """\
def net(gross, rate):
    if gross < 0:
        raise ValueError("negative")
    return gross / (1 + rate)


def over_limit(amount, limit=100):
    return amount > limit
"""
TESTS = """\
from prices import net, over_limit


def test_net():
    assert net(10, 1) == 5


def test_limit():
    assert over_limit(500)
"""
MISSING_LINE = 3
PARTIAL_LINE = 2
SURVIVOR_LINE = 8
REPORTS = (
    "term,json:out/r.json,html:out/html,xml:out/cov.xml,lcov:out/cov.lcov,"
    "stryker:out/mutation.json"
)


@dataclass(frozen=True)
class ReportRun:
    """Where the run left its reports, and what it printed."""

    root: Path
    stdout: str
    returncode: int

    @property
    def html(self) -> Path:
        return self.root / "out" / "html"

    @property
    def out(self) -> Path:
        return self.root / "out"


def env() -> dict[str, str]:
    """A pytest subprocess with only our plugin, from this checkout."""
    path = os.environ.get("PYTHONPATH", "")
    # an xdist worker's variables would make the child act as a worker
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_XDIST") and k != "PYTEST_ADDOPTS"
    }
    return dict(
        inherited,
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        COLUMNS="120",
        NO_COLOR="1",
        PYTHONPATH=PACKAGE_ROOT + (os.pathsep + path if path else ""),
    )


def run_reports(root: Path, *extra: str) -> ReportRun:
    """Write the project under ``root`` and run it with every report."""
    root.joinpath("prices.py").write_text(PRICES)
    root.joinpath("test_prices.py").write_text(TESTS)
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
            "--ruvqe-source=prices.py",
            "--ruvqe-mutation",
            "--ruvqe-jobs=2",
            f"--ruvqe-report={REPORTS}",
            *extra,
        ],
        cwd=root,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return ReportRun(root, proc.stdout + proc.stderr, proc.returncode)


class PageParser(HTMLParser):
    """The links, sources, ids and classes of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sources: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if "href" in values:
            self.links.append(values["href"])
        if "src" in values:
            self.sources.append(values["src"])
        if "id" in values:
            self.ids.add(values["id"])


def parse_page(path: Path) -> PageParser:
    """The parsed page at ``path``."""
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser
