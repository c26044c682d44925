"""Typed, validated settings built from ``--ruvqe-*`` flags and ``ruvqe_*`` ini keys.

The options are declared in :mod:`pytest_ruvqe.options`; the flag overrides
the ini key, and a bad value becomes a :class:`pytest.UsageError` that names
the option and what is allowed.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, cast

import pytest

from pytest_ruvqe.options import (
    GENERATE_MODES,
    GENERATORS,
    OPTIONS,
    REPORT_FORMATS,
    STRATEGIES,
)
from pytest_ruvqe.shard import Shard, parse_shard

ReportFormat = Literal["term", "json", "md", "html", "xml", "lcov", "stryker"]
GenerateMode = Literal["files", "patch"]
GeneratorName = Literal["chat", "scaffold", "characterize"]
RoutingStrategy = Literal[
    "balanced",
    "cost_optimized",
    "latency_optimized",
    "quality_optimized",
    "privacy_first",
]
_Number = TypeVar("_Number", int, float)


@dataclass(frozen=True)
class ReportTarget:
    """One requested output: a format and, for files, a path."""

    format: ReportFormat
    path: Path | None = None


@dataclass(frozen=True)
class FailUnder:
    """CI gates: total coverage percent and/or quality score."""

    coverage_pct: float | None = None
    quality: float | None = None


@dataclass(frozen=True)
class Settings:
    """Everything one run of the plugin needs to know, validated."""

    rootdir: Path
    generate: GenerateMode | None = None
    top: int = 15
    reports: tuple[ReportTarget, ...] = (ReportTarget("term"),)
    sources: tuple[str, ...] = ()
    diff_ref: str | None = None
    fail_under: FailUnder = FailUnder()
    max_file_kb: int = 1024
    local_model: str | None = None
    cloud_model: str | None = None
    api_base: str | None = None
    strategy: RoutingStrategy = "balanced"
    privacy_local: bool = False
    allow_unisolated: bool = False  # cloud-model tests without OS isolation
    otel: bool = False  # OpenTelemetry export asked for
    shard: Shard | None = None  # --ruvqe-shard=K/N
    gpu_layers: int = -1
    generated_dir: Path = Path("tests/ruvqe_generated")
    generators: tuple[GeneratorName, ...] = cast(tuple[GeneratorName, ...], GENERATORS)
    reruns: int = 3
    max_targets: int | None = None  # None: every function with a gap
    targets: tuple[tuple[Path, str | None], ...] = ()
    time_budget: float = 300.0
    max_tokens: int | None = None
    max_cost: float | None = None
    max_rounds: int | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    mutation: bool = False
    mutants: int | None = None
    mutation_diff: str | None = None
    mutation_time_budget: float = 600.0
    forget_history: bool = False
    learn: bool = False
    bank_dir: Path | None = None  # None: the store directory
    tune_seconds: float | None = None  # --ruvqe-tune: train the adapter after

    @property
    def store_dir(self) -> Path:
        """The ``.ruvqe/`` directory at the rootdir."""
        return self.rootdir / ".ruvqe"


def _shard(text: str | None) -> Shard | None:
    if text is None:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise pytest.UsageError(f"--ruvqe-shard: {exc}") from None


def _usage(flag: str, value: object, allowed: str) -> pytest.UsageError:
    return pytest.UsageError(f"{flag}: invalid value {value!r}; {allowed}")


def parse_reports(value: str) -> tuple[ReportTarget, ...]:
    """Parse ``term,json:PATH,md:PATH``."""
    allowed = (
        "use term, json:PATH, md:PATH, html:DIR, xml:PATH, lcov:PATH or "
        "stryker:PATH, comma separated"
    )
    targets: list[ReportTarget] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            raise _usage("--ruvqe-report", value, allowed + " (an empty item)")
        fmt, _, path = part.partition(":")
        if fmt not in REPORT_FORMATS:
            raise _usage("--ruvqe-report", part, allowed)
        if fmt == "term":
            if path:
                raise _usage("--ruvqe-report", part, allowed)
            targets.append(ReportTarget("term"))
        else:
            if not path:
                what = "DIR" if fmt == "html" else "PATH"
                raise _usage(
                    "--ruvqe-report", part, f"{fmt} needs a path ({fmt}:{what})"
                )
            targets.append(ReportTarget(cast(ReportFormat, fmt), Path(path)))
    if not targets:
        raise _usage("--ruvqe-report", value, allowed)
    if len(set(targets)) != len(targets):
        raise _usage("--ruvqe-report", value, "name each output once")
    return tuple(targets)


def check_writable(flag: str, path: Path) -> None:
    """Raise a usage error unless a file can be created at ``path``.

    Checked before the run, so a long run never ends in a report it cannot
    write. Nothing is created: the nearest existing directory must be a
    writable directory and ``path`` itself, if it exists, a writable file.
    """
    if path.exists():
        ok = path.is_file() and os.access(path, os.W_OK) and not _is_virtual(path)
    else:
        parent = next((p for p in path.parents if p.exists()), Path("/"))
        ok = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    if not ok:
        raise _usage(flag, str(path), "give a path where a file can be written")


def check_report_target(target: ReportTarget, base: Path) -> None:
    """Raise a usage error unless the report can be written: a writable file,
    or for ``html`` a writable directory."""
    if target.path is None:
        return
    path = base / target.path
    if target.format != "html":
        check_writable("--ruvqe-report", path)
        return
    if path.exists() and not path.is_dir():
        raise _usage("--ruvqe-report", str(path), "html needs a directory (html:DIR)")
    if _is_virtual(path):
        raise _usage(
            "--ruvqe-report", str(path), "give a directory that can be written"
        )
    check_writable("--ruvqe-report", path / "index.html")


def check_report_paths(settings: Settings, base: Path, sources: Sequence[Path]) -> None:
    """Raise a usage error when a report would be written inside the measured
    source (it would become part of the code under test), or a Stryker report
    is asked for without mutation testing."""
    rootdir = settings.rootdir.resolve()
    for target in settings.reports:
        if target.path is None:
            continue
        where = (base / target.path).resolve()
        for source in sources:
            package = source.resolve()
            if package != rootdir and where.is_relative_to(package):
                raise _usage(
                    "--ruvqe-report",
                    f"{target.format}:{target.path}",
                    f"it is inside the measured source {package}; write reports "
                    "outside it (e.g. in build/ or reports/)",
                )
        if target.format == "stryker" and not settings.mutation:
            raise _usage(
                "--ruvqe-report",
                f"stryker:{target.path}",
                "the stryker report holds mutation results: add --ruvqe-mutation",
            )


def _is_virtual(path: Path) -> bool:
    # /proc, /sys and friends accept open() for writing and then refuse
    resolved = path.resolve()
    return any(
        resolved.is_relative_to(p) for p in (Path("/proc"), Path("/sys"), Path("/dev"))
    )


def parse_fail_under(value: str) -> FailUnder:
    """Parse ``80``, ``quality:0.7`` or ``80,quality:0.7``."""
    allowed = (
        "use a percentage 0-100, quality:Q with Q in 0..1, or both comma separated"
    )
    coverage_pct: float | None = None
    quality: float | None = None
    for part in (p.strip() for p in str(value).split(",")):
        if not part:
            continue
        try:
            if part.startswith("quality:"):
                quality = float(part.removeprefix("quality:"))
                if not 0.0 <= quality <= 1.0:
                    raise ValueError
            else:
                coverage_pct = float(part.removeprefix("coverage:").rstrip("%"))
                if not 0.0 <= coverage_pct <= 100.0:
                    raise ValueError
        except ValueError:
            raise _usage("--ruvqe-fail-under", value, allowed) from None
    if coverage_pct is None and quality is None:
        raise _usage("--ruvqe-fail-under", value, allowed)
    return FailUnder(coverage_pct, quality)


def check_git_ref(rootdir: Path, ref: str, flag: str) -> None:
    """Raise a usage error unless ``ref`` names a commit of the repository."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", ref + "^{commit}"],
            cwd=rootdir,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        raise pytest.UsageError(f"{flag}: git is not installed") from None
    if proc.returncode != 0:
        raise _usage(flag, ref, "give a branch, tag or commit of this git repository")


def _resolve_source(rootdir: Path, item: str) -> str:
    path = Path(item) if Path(item).is_absolute() else rootdir / item
    if path.exists():
        if not path.resolve().is_relative_to(rootdir.resolve()):
            raise _usage(
                "--ruvqe-source",
                item,
                f"give a directory, file or package inside the rootdir {rootdir}",
            )
        return str(path.resolve())
    for base in (rootdir, rootdir / "src"):
        dotted = base.joinpath(*item.split("."))
        for found in (dotted, dotted.with_suffix(".py")):
            if found.exists():
                return str(found.resolve())
    raise _usage(
        "--ruvqe-source",
        item,
        "give an existing directory, file or importable package name",
    )


def _resolve_sources(rootdir: Path, values: Sequence[str]) -> tuple[str, ...]:
    items = [v.strip() for value in values for v in value.split(",")]
    if not any(items):
        raise _usage(
            "--ruvqe-source",
            ",".join(values),
            "give a directory, file or package name (or leave the option out)",
        )
    return tuple(dict.fromkeys(_resolve_source(rootdir, i) for i in items if i))


class _Options:
    """Raw option values, flag first then ini, read into typed values."""

    def __init__(self, config: pytest.Config, ns: argparse.Namespace) -> None:
        self.config = config
        self.ns = ns
        self.specs = {spec.name: spec for spec in OPTIONS}

    def raw(self, name: str) -> object:
        spec = self.specs[name]
        value = getattr(self.ns, spec.dest, None)
        if value is not None or spec.ini_type is None:
            return value
        ini = self.config.getini(spec.ini)
        if spec.ini_type == "linelist":
            return list(ini) or None
        return None if ini in ("", None) else ini

    def flag(self, name: str) -> str:
        return self.specs[name].flag

    def _number(
        self, name: str, convert: Callable[[str], _Number], minimum: _Number
    ) -> _Number | None:
        value = self.raw(name)
        if value is None:
            return None
        kind = "an integer" if convert is int else "a finite number"
        try:
            number = convert(str(value).strip())
        except (ValueError, OverflowError):
            number = None
        if number is None or not math.isfinite(number) or number < minimum:
            raise _usage(self.flag(name), value, f"use {kind} >= {minimum}")
        return number

    def integer(self, name: str, minimum: int, default: int) -> int:
        found = self._number(name, int, minimum)
        return default if found is None else found

    def optional_integer(self, name: str, minimum: int) -> int | None:
        return self._number(name, int, minimum)

    def real(self, name: str, default: float) -> float:
        found = self._number(name, float, 0.0)
        return default if found is None else found

    def optional_real(self, name: str) -> float | None:
        return self._number(name, float, 0.0)

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        return None if value is None else str(value)

    def boolean(self, name: str) -> bool:
        return bool(self.raw(name))

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if value not in allowed:
            raise _usage(self.flag(name), value, "use " + ", ".join(allowed))
        return str(value)

    def choices(self, name: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
        value = self.raw(name)
        if value is None:
            return None
        chosen = tuple(v.strip() for v in str(value).split(",") if v.strip())
        if not chosen or any(c not in allowed for c in chosen):
            raise _usage(self.flag(name), value, "use " + ", ".join(allowed))
        return chosen

    def git_ref(self, name: str, rootdir: Path) -> str | None:
        ref = self.text(name)
        if ref is not None:
            check_git_ref(rootdir, ref, self.flag(name))
        return ref


def check_generated_dir(settings: Settings, sources: Sequence[Path]) -> None:
    """Raise a usage error unless generated tests may be written where asked:
    inside the rootdir, outside ``.git/`` and ``.ruvqe/``, outside the code
    under test (sources are never edited)."""
    rootdir = settings.rootdir.resolve()
    target = (rootdir / settings.generated_dir).resolve()
    flag, shown = "--ruvqe-generated-dir", str(settings.generated_dir)
    if not target.is_relative_to(rootdir):
        raise _usage(flag, shown, f"give a directory inside the rootdir {rootdir}")
    for private in (rootdir / ".git", settings.store_dir.resolve()):
        if target.is_relative_to(private):
            raise _usage(flag, shown, f"{private.name}/ is not for tests; use tests/…")
    for source in sources:
        package = source.resolve()
        if package.is_dir() and package != rootdir and target.is_relative_to(package):
            raise _usage(
                flag, shown, f"it is inside the measured source {package}; use tests/…"
            )
    if target.exists() and not target.is_dir():
        raise _usage(flag, shown, "it is a file; give a directory")
    check_writable(flag, target / "test_x_ruvqe.py")


def _targets(
    rootdir: Path, values: Sequence[str] | None
) -> tuple[tuple[Path, str | None], ...]:
    """``PATH`` or ``PATH::QUALNAME`` items: existing paths inside the rootdir."""
    found: list[tuple[Path, str | None]] = []
    for value in values or ():
        where, _, qualname = value.strip().partition("::")
        path = (rootdir / where).resolve() if where else None
        if (
            path is None
            or not path.exists()
            or not path.is_relative_to(rootdir.resolve())
        ):
            raise _usage(
                "--ruvqe-target",
                value,
                "give a file or directory inside the rootdir, optionally "
                "followed by ::QUALNAME (e.g. src/pkg/mod.py::Parser.parse)",
            )
        if qualname and not all(p.isidentifier() for p in qualname.split(".")):
            raise _usage("--ruvqe-target", value, "QUALNAME is a dotted name")
        found.append((path, qualname or None))
    return tuple(dict.fromkeys(found))


def _generate_mode(ns: argparse.Namespace) -> GenerateMode | None:
    generate = getattr(ns, "ruvqe_generate", None)
    if generate is not None and generate not in GENERATE_MODES:
        raise _usage(
            "--ruvqe-generate",
            generate,
            "use --ruvqe-generate or --ruvqe-generate=patch "
            "(put paths after the option with '--ruvqe-generate=files')",
        )
    return cast(GenerateMode | None, generate)


def _local_model(
    options: _Options, rootdir: Path, generate: GenerateMode | None
) -> str | None:
    model = options.text("local-model")
    if generate is not None and model and not (rootdir / model).is_file():
        raise _usage(
            "--ruvqe-local-model",
            model,
            "no such file: give the path of a GGUF model, or leave the option out "
            "to use the embedded default",
        )
    return model


def load_settings(config: pytest.Config, ns: argparse.Namespace) -> Settings:
    """Build :class:`Settings` from flags in ``ns`` and the ini file.

    Raises :class:`pytest.UsageError` naming the option on any bad value.
    """
    rootdir = Path(config.rootpath)
    o = _Options(config, ns)
    generate = _generate_mode(ns)
    report, fail_under = o.text("report"), o.text("fail-under")
    sources = cast("list[str] | None", o.raw("source"))
    generators = o.choices("generators", GENERATORS)
    generated_dir = o.text("generated-dir")
    defaults = Settings(rootdir)
    reports = defaults.reports if report is None else parse_reports(report)
    for target in reports:
        check_report_target(target, config.invocation_params.dir)
    return Settings(
        rootdir=rootdir,
        generate=generate,
        top=o.integer("top", 1, defaults.top),
        reports=reports,
        sources=_resolve_sources(rootdir, sources) if sources else (),
        diff_ref=o.git_ref("diff", rootdir),
        fail_under=FailUnder() if fail_under is None else parse_fail_under(fail_under),
        max_file_kb=o.integer("max-file-kb", 1, defaults.max_file_kb),
        local_model=_local_model(o, rootdir, generate),
        cloud_model=o.text("cloud-model"),
        api_base=o.text("api-base"),
        strategy=cast(RoutingStrategy, o.choice("strategy", STRATEGIES, "balanced")),
        privacy_local=o.boolean("privacy-local"),
        allow_unisolated=o.boolean("allow-unisolated"),
        otel=o.boolean("otel"),
        shard=_shard(o.text("shard")),
        gpu_layers=o.integer("gpu-layers", -1, defaults.gpu_layers),
        generated_dir=Path(generated_dir) if generated_dir else defaults.generated_dir,
        generators=cast(tuple[GeneratorName, ...], generators or defaults.generators),
        reruns=o.integer("reruns", 1, defaults.reruns),
        max_targets=o.optional_integer("max-targets", 1),
        targets=_targets(rootdir, cast("list[str] | None", o.raw("target"))),
        time_budget=o.real("time-budget", defaults.time_budget),
        max_tokens=o.optional_integer("max-tokens", 1),
        max_cost=o.optional_real("max-cost"),
        max_rounds=o.optional_integer("max-rounds", 1),
        jobs=o.integer("jobs", 1, defaults.jobs),
        mutation=o.boolean("mutation"),
        mutants=o.optional_integer("mutants", 1),
        mutation_diff=o.git_ref("mutation-diff", rootdir),
        mutation_time_budget=o.real(
            "mutation-time-budget", defaults.mutation_time_budget
        ),
        forget_history=o.boolean("forget-history"),
        learn=_learn(o),
        bank_dir=_bank_dir(rootdir, o.text("bank")),
        tune_seconds=_tune(o, generate),
    )


_TRUTH = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _learn(options: _Options) -> bool:
    """``--ruvqe-learn`` / ``--no-ruvqe-learn``, else the ini key if it is set,
    else on exactly when the ``learn`` extra (torch) is installed."""
    value = options.raw("learn")
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text not in _TRUTH:
            raise _usage("ruvqe_learn", value, "use true or false")
        return _TRUTH[text]
    import importlib.util

    return importlib.util.find_spec("torch") is not None


TUNE_SECONDS = 900.0  # --ruvqe-tune without a number


def _tune(options: _Options, generate: str | None) -> float | None:
    """``--ruvqe-tune[=SECONDS]`` (ini: seconds, or true/false): how long the
    adapter may train after the generation; None: not asked."""
    value = options.text("tune")
    if value is None:
        return None
    text = value.strip().lower()
    if text in _TRUTH:
        seconds: float | None = TUNE_SECONDS if _TRUTH[text] else None
    else:
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not seconds >= 1.0:
            raise _usage("--ruvqe-tune", value, "give seconds (1 or more), or true")
    if generate is None:
        if seconds is not None and getattr(options.ns, "ruvqe_tune", None):
            raise pytest.UsageError(
                "--ruvqe-tune trains on what --ruvqe-generate accepts: add "
                "--ruvqe-generate, or run `ruvqe tune` on its own"
            )
        return None  # the ini key applies to generating runs only
    return seconds


def _bank_dir(rootdir: Path, value: str | None) -> Path | None:
    """``--ruvqe-bank``: a directory (made if missing), not a file."""
    if not value:
        return None
    path = (rootdir / value).resolve()
    if path.exists() and not path.is_dir():
        raise _usage(
            "--ruvqe-bank", value, "give a directory for the bank (it is created)"
        )
    return path
