"""Typed, validated settings built from ``--ruvqe-*`` flags and ``ruvqe_*`` ini keys.

Every option is declared once in :data:`OPTIONS`; the flag overrides the ini key,
and a bad value becomes a :class:`pytest.UsageError` that names the option and
what is allowed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPORT_FORMATS = ("term", "json", "md")
GENERATE_MODES = ("files", "patch")
STRATEGIES = (
    "balanced",
    "cost_optimized",
    "latency_optimized",
    "quality_optimized",
    "privacy_first",
)
GENERATORS = ("chat", "scaffold", "characterize")


@dataclass(frozen=True)
class OptionSpec:
    """One ``--ruvqe-<name>`` flag with its ``ruvqe_<name>`` ini key."""

    name: str
    help: str
    ini_type: str | None = "string"  # None: flag only
    flag_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def flag(self) -> str:
        return "--ruvqe-" + self.name

    @property
    def dest(self) -> str:
        return "ruvqe_" + self.name.replace("-", "_")

    @property
    def ini(self) -> str:
        return "ruvqe_" + self.name.replace("-", "_")


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("top", "functions listed in the gap report (default 15)"),
    OptionSpec(
        "report",
        "outputs, comma separated: term, json:PATH, md:PATH (default term)",
    ),
    OptionSpec(
        "source",
        "package or directory to measure (repeatable; default: inferred)",
        ini_type="linelist",
        flag_kwargs={"action": "append"},
    ),
    OptionSpec("diff", "only report gaps on lines changed since this git ref"),
    OptionSpec(
        "fail-under",
        "fail when total coverage %% is below PCT, or quality below "
        "quality:Q (comma separated for both)",
    ),
    OptionSpec("max-file-kb", "skip source files larger than this (default 1024)"),
    # inference
    OptionSpec(
        "local-model", "GGUF file for the local model (default: embedded Gemma 270M)"
    ),
    OptionSpec("cloud-model", "litellm model string for the cloud provider"),
    OptionSpec("api-base", "base URL of an OpenAI-compatible server for the cloud"),
    OptionSpec("strategy", "routing strategy: " + ", ".join(STRATEGIES)),
    OptionSpec(
        "privacy-local",
        "no byte of code leaves the machine: only local models are used",
        ini_type="bool",
        flag_kwargs={"action": "store_true", "default": None},
    ),
    OptionSpec("gpu-layers", "layers offloaded to the GPU (default -1: all)"),
    # generation
    OptionSpec("generated-dir", "where generated tests are written"),
    OptionSpec("generators", "strategies to use: " + ", ".join(GENERATORS)),
    OptionSpec("reruns", "fresh reruns a generated test must pass (default 3)"),
    OptionSpec("max-targets", "most functions to generate tests for (default 10)"),
    OptionSpec("time-budget", "seconds for the whole generation (default 300)"),
    OptionSpec("max-tokens", "most model tokens for the whole generation"),
    OptionSpec("max-cost", "most dollars for the whole generation"),
    OptionSpec("max-rounds", "refine rounds per target (default: by complexity)"),
    OptionSpec("jobs", "processes for validation and mutants (default: cores)"),
    # mutation
    OptionSpec(
        "mutation",
        "add a mutation score to the quality score",
        ini_type="bool",
        flag_kwargs={"action": "store_true", "default": None},
    ),
    OptionSpec("mutants", "sample at most N mutants (default: all)"),
    OptionSpec("mutation-diff", "only mutate lines changed since this git ref"),
    OptionSpec("mutation-time-budget", "seconds for mutation testing (default 600)"),
)


@dataclass(frozen=True)
class ReportTarget:
    """One requested output: a format and, for files, a path."""

    format: str
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
    enabled: bool = False
    generate: str | None = None
    top: int = 15
    reports: tuple[ReportTarget, ...] = (ReportTarget("term"),)
    sources: tuple[str, ...] = ()
    diff_ref: str | None = None
    fail_under: FailUnder = FailUnder()
    max_file_kb: int = 1024
    local_model: str | None = None
    cloud_model: str | None = None
    api_base: str | None = None
    strategy: str = "balanced"
    privacy_local: bool = False
    gpu_layers: int = -1
    generated_dir: Path = Path("tests/ruvqe_generated")
    generators: tuple[str, ...] = GENERATORS
    reruns: int = 3
    max_targets: int = 10
    time_budget: float = 300.0
    max_tokens: int | None = None
    max_cost: float | None = None
    max_rounds: int | None = None
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    mutation: bool = False
    mutants: int | None = None
    mutation_diff: str | None = None
    mutation_time_budget: float = 600.0

    @property
    def store_dir(self) -> Path:
        """The ``.ruvqe/`` directory at the rootdir."""
        return self.rootdir / ".ruvqe"


def add_options(parser: pytest.Parser) -> None:
    """Declare every ``--ruvqe-*`` flag and ``ruvqe_*`` ini key."""
    group = parser.getgroup("ruvqe", "quality engineering (pytest-ruvqe)")
    group.addoption(
        "--ruvqe",
        action="store_true",
        dest="ruvqe",
        default=False,
        help="measure coverage and print the gap report and quality score",
    )
    group.addoption(
        "--ruvqe-generate",
        nargs="?",
        const="files",
        default=None,
        dest="ruvqe_generate",
        metavar="files|patch",
        help="write validated tests for the worst gaps (as files, or as a patch)",
    )
    for spec in OPTIONS:
        kwargs: dict[str, Any] = {"dest": spec.dest, "help": spec.help}
        kwargs.update(spec.flag_kwargs)
        group.addoption(spec.flag, **kwargs)
        if spec.ini_type is not None:
            parser.addini(spec.ini, spec.help, type=spec.ini_type)  # type: ignore[arg-type]


def _raw(config: pytest.Config, ns: argparse.Namespace, spec: OptionSpec) -> Any:
    value = getattr(ns, spec.dest, None)
    if value is not None:
        return value
    if spec.ini_type is None:
        return None
    ini = config.getini(spec.ini)
    if spec.ini_type == "bool":
        return ini if ini not in ("", None) else None
    if spec.ini_type == "linelist":
        return list(ini) or None
    return ini if ini != "" else None


def _usage(flag: str, value: object, allowed: str) -> pytest.UsageError:
    return pytest.UsageError(f"{flag}: invalid value {value!r}; {allowed}")


def _number(
    spec: OptionSpec,
    value: object,
    convert: Callable[[str], float],
    minimum: float,
    allowed: str,
) -> float:
    try:
        number = convert(str(value).strip())
    except ValueError:
        raise _usage(spec.flag, value, allowed) from None
    if number < minimum:
        raise _usage(spec.flag, value, allowed)
    return number


def parse_reports(value: str) -> tuple[ReportTarget, ...]:
    """Parse ``term,json:PATH,md:PATH``."""
    allowed = "use term, json:PATH or md:PATH, comma separated"
    targets: list[ReportTarget] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        fmt, _, path = part.partition(":")
        if fmt not in REPORT_FORMATS:
            raise _usage("--ruvqe-report", part, allowed)
        if fmt == "term":
            if path:
                raise _usage("--ruvqe-report", part, allowed)
            targets.append(ReportTarget("term"))
        else:
            if not path:
                raise _usage("--ruvqe-report", part, f"{fmt} needs a path ({fmt}:PATH)")
            targets.append(ReportTarget(fmt, Path(path)))
    if not targets:
        raise _usage("--ruvqe-report", value, allowed)
    return tuple(targets)


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


def _resolve_sources(rootdir: Path, values: Sequence[str]) -> tuple[str, ...]:
    sources: list[str] = []
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            path = (rootdir / item) if not Path(item).is_absolute() else Path(item)
            if path.exists():
                sources.append(str(path.resolve()))
                continue
            dotted = rootdir.joinpath(*item.split("."))
            found = [p for p in (dotted, dotted.with_suffix(".py")) if p.exists()]
            src_dotted = rootdir.joinpath("src", *item.split("."))
            found += [
                p for p in (src_dotted, src_dotted.with_suffix(".py")) if p.exists()
            ]
            if not found:
                raise _usage(
                    "--ruvqe-source",
                    item,
                    "give an existing directory, file or importable package name",
                )
            sources.append(str(found[0].resolve()))
    return tuple(dict.fromkeys(sources))


def load_settings(config: pytest.Config, ns: argparse.Namespace) -> Settings:
    """Build :class:`Settings` from flags in ``ns`` and the ini file.

    Raises :class:`pytest.UsageError` naming the option on any bad value.
    """
    rootdir = Path(config.rootpath)
    specs = {spec.name: spec for spec in OPTIONS}
    raw = {name: _raw(config, ns, spec) for name, spec in specs.items()}
    generate = getattr(ns, "ruvqe_generate", None)
    if generate is not None and generate not in GENERATE_MODES:
        raise _usage(
            "--ruvqe-generate",
            generate,
            "use --ruvqe-generate or --ruvqe-generate=patch "
            "(put paths after the option with '--ruvqe-generate=files')",
        )
    enabled = bool(getattr(ns, "ruvqe", False)) or generate is not None
    values: dict[str, Any] = {
        "rootdir": rootdir,
        "enabled": enabled,
        "generate": generate,
    }

    def integer(name: str, minimum: int) -> int | None:
        if raw[name] is None:
            return None
        return int(
            _number(
                specs[name], raw[name], int, minimum, f"use an integer >= {minimum}"
            )
        )

    def real(name: str, minimum: float) -> float | None:
        if raw[name] is None:
            return None
        return _number(
            specs[name], raw[name], float, minimum, f"use a number >= {minimum}"
        )

    for name, minimum in (
        ("top", 1),
        ("max-file-kb", 1),
        ("reruns", 1),
        ("max-targets", 1),
        ("max-tokens", 1),
        ("max-rounds", 1),
        ("jobs", 1),
        ("mutants", 1),
    ):
        number = integer(name, minimum)
        if number is not None:
            values[specs[name].dest.removeprefix("ruvqe_")] = number
    if raw["gpu-layers"] is not None:
        values["gpu_layers"] = integer("gpu-layers", -1)
    for name in ("time-budget", "max-cost", "mutation-time-budget"):
        number_f = real(name, 0.0)
        if number_f is not None:
            values[specs[name].dest.removeprefix("ruvqe_")] = number_f
    if raw["report"] is not None:
        values["reports"] = parse_reports(str(raw["report"]))
    if raw["fail-under"] is not None:
        values["fail_under"] = parse_fail_under(str(raw["fail-under"]))
    if raw["source"]:
        values["sources"] = _resolve_sources(rootdir, raw["source"])
    for name in ("local-model", "cloud-model", "api-base"):
        if raw[name] is not None:
            values[specs[name].dest.removeprefix("ruvqe_")] = str(raw[name])
    model = values.get("local_model")
    if generate is not None and model and not (rootdir / model).is_file():
        raise _usage(
            "--ruvqe-local-model",
            model,
            "no such file: give the path of a GGUF model, or leave the option out "
            "to use the embedded default",
        )
    if raw["strategy"] is not None:
        if raw["strategy"] not in STRATEGIES:
            raise _usage(
                "--ruvqe-strategy", raw["strategy"], "use " + ", ".join(STRATEGIES)
            )
        values["strategy"] = raw["strategy"]
    if raw["generators"] is not None:
        chosen = tuple(
            g.strip() for g in str(raw["generators"]).split(",") if g.strip()
        )
        bad = [g for g in chosen if g not in GENERATORS]
        if bad or not chosen:
            raise _usage(
                "--ruvqe-generators", raw["generators"], "use " + ", ".join(GENERATORS)
            )
        values["generators"] = chosen
    if raw["generated-dir"] is not None:
        values["generated_dir"] = Path(str(raw["generated-dir"]))
    for name in ("privacy-local", "mutation"):
        if raw[name] is not None:
            values[name.replace("-", "_")] = bool(raw[name])
    if enabled:
        for name, dest in (("diff", "diff_ref"), ("mutation-diff", "mutation_diff")):
            if raw[name] is not None:
                check_git_ref(rootdir, str(raw[name]), specs[name].flag)
                values[dest] = str(raw[name])
    return Settings(**values)
