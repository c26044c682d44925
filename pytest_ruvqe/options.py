"""Every ``--ruvqe-*`` flag with its ``ruvqe_*`` ini key, declared once."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

REPORT_FORMATS = ("term", "json", "md", "html", "xml", "lcov", "stryker")
GENERATE_MODES = ("files", "patch")
STRATEGIES = (
    "balanced",
    "cost_optimized",
    "latency_optimized",
    "quality_optimized",
    "privacy_first",
)
GENERATORS = ("chat", "scaffold", "characterize")

IniType = Literal["string", "linelist", "bool"]


@dataclass(frozen=True)
class OptionSpec:
    """One ``--ruvqe-<name>`` flag with its ``ruvqe_<name>`` ini key."""

    name: str
    help: str
    ini_type: IniType | None = "string"  # None: flag only
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
        "outputs, comma separated: term, json:PATH, md:PATH, html:DIR, xml:PATH "
        "(Cobertura), lcov:PATH, stryker:PATH (default term)",
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
    OptionSpec(
        "shard",
        "K/N: generate and mutate only this run's balanced 1/N share "
        "(CI matrices; merge with `ruvqe report --merge`)",
    ),
    OptionSpec(
        "otel",
        "export traces and metrics with OpenTelemetry (OTLP/HTTP to "
        "OTEL_EXPORTER_OTLP_ENDPOINT; on when that variable is set)",
        ini_type="bool",
        flag_kwargs={"action": "store_true", "default": None},
    ),
    OptionSpec(
        "allow-unisolated",
        "run cloud-model tests where no OS isolation (bubblewrap) is available",
        ini_type="bool",
        flag_kwargs={"action": "store_true", "default": None},
    ),
    OptionSpec("gpu-layers", "layers offloaded to the GPU (default -1: all)"),
    # generation
    OptionSpec("generated-dir", "where generated tests are written"),
    OptionSpec("generators", "strategies to use: " + ", ".join(GENERATORS)),
    OptionSpec("reruns", "fresh reruns a generated test must pass (default 3)"),
    OptionSpec(
        "target",
        "generate only for this file or directory, or PATH::QUALNAME for one "
        "function (repeatable)",
        ini_type="linelist",
        flag_kwargs={"action": "append"},
    ),
    OptionSpec(
        "max-targets", "most functions to generate tests for (default: all with gaps)"
    ),
    OptionSpec("time-budget", "seconds for the whole generation (default 300)"),
    OptionSpec("max-tokens", "most model tokens for the whole generation"),
    OptionSpec("max-cost", "most dollars for the whole generation"),
    OptionSpec("max-rounds", "refine rounds per target (default: by complexity)"),
    OptionSpec("jobs", "processes for validation and mutants (default: cores)"),
    OptionSpec(
        "learn",
        "learn from outcomes: recall accepted tests of similar functions and "
        "let SONA choose what to try (--no-ruvqe-learn: off; default: on when "
        "the 'learn' extra is installed)",
        ini_type="string",  # unset is not false: the default depends on the extra
        flag_kwargs={"action": argparse.BooleanOptionalAction, "default": None},
    ),
    OptionSpec(
        "bank",
        "directory of the pattern bank, to share it between projects (default .ruvqe/)",
    ),
    OptionSpec(
        "tune",
        "after generating, train the local model's LoRA adapter on the accepted "
        "tests when enough are new, for at most SECONDS (default 900; the 'tune' "
        "extra; ini: seconds, or true/false)",
        flag_kwargs={"nargs": "?", "const": "true", "metavar": "SECONDS"},
    ),
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
    OptionSpec(
        "forget-history",
        "start the flakiness history afresh: drop every recorded outcome",
        ini_type=None,
        flag_kwargs={"action": "store_true", "default": None},
    ),
)


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
    parser.addini(
        "ruvqe",
        "enable the reports as --ruvqe does (default false)",
        type="bool",
        default=False,
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
            parser.addini(spec.ini, spec.help, type=spec.ini_type)
