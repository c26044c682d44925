"""Tuning data and adapter files: examples from the bank, dedupe, split,
metadata, the GGUF adapter layout (no training here: see test_tune_model)."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from pytest_ruvqe.cli import main
from pytest_ruvqe.generate.outcome import GenerationOutcome
from pytest_ruvqe.generate.prompt.tuning import examples_of, tuning_examples
from pytest_ruvqe.learn.tune.adapters import (
    AdapterInfo,
    adapter_path,
    find_adapter,
    load_info,
    save_info,
)
from pytest_ruvqe.learn.tune.examples import TuneExample, data_hash, dedupe, split
from pytest_ruvqe.learn.tune.export import ExportError, tensor_name, write_adapter
from pytest_ruvqe.memory.patterns import Pattern
from pytest_ruvqe.session.tuning_step import after_generation
from pytest_ruvqe.settings import Settings
from pytest_ruvqe.warning_types import RuvqeGenerationWarning

SOURCE = '''\
def slug(text):
    """Lower case, words joined by dashes."""
    return "-".join(text.lower().split())
'''
ACCEPTED = """\
import pkg.text as text


def test_slug_words():
    assert text.slug("Hello World") == "hello-world"


def test_slug_empty():
    assert text.slug("") == ""
"""


def _pattern(
    payload: str = ACCEPTED, project: str = "p1", sig: str = "pkg.text:slug"
) -> Pattern:
    return Pattern(
        kind="test", signature=sig, payload=payload, embedding=(), project=project
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "text.py").write_text("import os\n\n" + SOURCE)
    return tmp_path


def test_each_accepted_test_is_the_scaffold_prompts_continuation(project: Path) -> None:
    examples = examples_of(_pattern(), [project])
    assert len(examples) == 2
    first = examples[0]
    assert first.prompt.endswith("\n\ndef test_slug_")
    assert "# Code under test (slug):" in first.prompt
    assert '#     return "-".join(text.lower().split())' in first.prompt
    assert "import pkg.text as text" in first.prompt and "import os" not in first.prompt
    assert first.completion.startswith("1():\n")
    # prompt and continuation make a test module the scaffold parser accepts
    tree = ast.parse(first.prompt + first.completion)
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == [
        "test_slug_1"
    ]
    assert examples[1].completion.startswith("2():")


def test_source_unknown_still_gives_an_example(tmp_path: Path) -> None:
    (example,) = examples_of(
        _pattern(ACCEPTED.split("\n\n\ndef test_slug_empty")[0]), [tmp_path]
    )
    assert "# Code under test (slug):" in example.prompt
    assert "return" not in example.prompt  # nothing found to show
    assert ast.parse(example.prompt + example.completion)


def test_this_projects_tests_come_first(project: Path) -> None:
    other = _pattern(project="p2", sig="pkg.text:aaa")
    mine = _pattern(project="p1", sig="pkg.text:slug")
    examples = tuning_examples([other, mine], [project], project="p1")
    assert [e.project for e in examples] == ["p1", "p1", "p2", "p2"]


def test_dedupe_ignores_spacing_and_keeps_the_first() -> None:
    a = TuneExample("m:f", "p", "1():\n    assert f(1) == 2\n", "x")
    b = TuneExample("m:f", "p", "1():\n    assert   f(1) == 2", "y")
    c = TuneExample("m:g", "p", "1():\n    assert f(1) == 2\n", "x")
    assert dedupe([a, b, c]) == [a, c]


def test_split_keeps_whole_targets_on_one_side() -> None:
    examples = [
        TuneExample(f"m:f{t}", "p", f"{i}():\n", "")
        for t in range(200)
        for i in range(3)
    ]
    train, held = split(examples)
    train_targets = {e.signature for e in train}
    held_targets = {e.signature for e in held}
    assert not train_targets & held_targets
    assert len(train) + len(held) == len(examples)
    assert 0.1 < len(held_targets) / 200 < 0.3
    assert split(examples) == (train, held)  # the same every time
    assert data_hash(train) != data_hash(held) and data_hash(train) == data_hash(
        list(train)
    )


def _info(sha: str) -> AdapterInfo:
    return AdapterInfo(sha, "d", 8, 16.0, ("v_proj",), 10, 5, 1.0, 2.0, 1.0)


def test_an_adapter_is_found_only_for_its_base_model(tmp_path: Path) -> None:
    base, other = "a" * 64, "b" * 64
    assert find_adapter(tmp_path, base) == (None, None)
    path = adapter_path(tmp_path, base)
    path.write_bytes(b"GGUF")
    adapter, why = find_adapter(tmp_path, base)
    assert adapter is None and why and "no readable metadata" in why
    save_info(path, _info(base))
    adapter, why = find_adapter(tmp_path, base)
    assert adapter is not None and adapter.path == path and why is None
    assert adapter.info == _info(base)
    adapter, why = find_adapter(tmp_path, other)
    assert adapter is None and why and "another base model" in why


def test_metadata_of_another_format_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "lora-x.gguf"
    save_info(path, _info("a" * 64))
    data = json.loads(path.with_suffix(".json").read_text())
    path.with_suffix(".json").write_text(json.dumps(dict(data, format=99)))
    assert load_info(path) is None


def test_tensor_names_follow_llama_cpp() -> None:
    key = "base_model.model.model.layers.7.self_attn.v_proj.lora_B.default.weight"
    assert tensor_name("gemma3", key) == "blk.7.attn_v.weight.lora_b"
    q = key.replace("v_proj", "q_proj").replace("lora_B", "lora_A")
    assert tensor_name("gemma3", q) == "blk.7.attn_q.weight.lora_a"
    with pytest.raises(ExportError):
        tensor_name("gemma3", key.replace("v_proj", "gate_proj"))


def test_the_adapter_file_is_a_gguf_lora_adapter(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf", reason="the 'tune' extra is not installed")
    rng = np.random.default_rng(0)
    prefix = "base_model.model.model.layers.0.self_attn.v_proj"
    tensors = {
        f"{prefix}.lora_A.default.weight": rng.normal(size=(4, 16)).astype(np.float32),
        f"{prefix}.lora_B.default.weight": rng.normal(size=(8, 4)).astype(np.float32),
    }
    path = tmp_path / "a.gguf"
    write_adapter(path, tensors, 8.0, "gemma3")
    reader = gguf.GGUFReader(str(path))

    def field(name: str) -> object:
        value = reader.fields[name]
        return value.contents()

    assert field("general.architecture") == "gemma3"
    assert field("general.type") == "adapter"
    assert field("adapter.type") == "lora"
    assert field("adapter.lora.alpha") == pytest.approx(8.0)
    shapes = {t.name: tuple(int(n) for n in reversed(t.shape)) for t in reader.tensors}
    assert shapes == {
        "blk.0.attn_v.weight.lora_a": (4, 16),
        "blk.0.attn_v.weight.lora_b": (8, 4),
    }
    assert [p.name for p in tmp_path.iterdir()] == ["a.gguf"]  # no temporary left
    with pytest.raises(ExportError, match="this base model is llama"):
        write_adapter(tmp_path / "b.gguf", tensors, 8.0, "llama")
    assert not (tmp_path / "b.gguf").exists()


def test_tune_with_an_empty_bank_says_so_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".ruvqe").mkdir()
    assert main(["--rootdir", str(project), "tune"]) == 0
    assert "no accepted tests in the bank yet" in capsys.readouterr().out
    assert not (project / ".ruvqe" / "adapters").exists()


def test_a_run_serves_only_the_adapter_made_for_its_model(tmp_path: Path) -> None:
    from pytest_ruvqe.llm.models import sha256_of
    from pytest_ruvqe.session.generation_step import local_adapter
    from pytest_ruvqe.settings import Settings

    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF not really a model")
    settings = Settings(rootdir=tmp_path, local_model=str(model))
    assert local_adapter(settings) is None  # no adapters: nothing said
    adapters = settings.store_dir / "adapters"
    other = adapter_path(adapters, "f" * 64)
    other.parent.mkdir(parents=True)
    other.write_bytes(b"GGUF")
    save_info(other, _info("f" * 64))
    with pytest.warns(RuvqeGenerationWarning, match="another base model"):
        assert local_adapter(settings) is None
    mine = adapter_path(adapters, sha256_of(model))
    mine.write_bytes(b"GGUF")
    save_info(mine, _info(sha256_of(model)))
    assert local_adapter(settings) == str(mine)


def test_too_few_accepted_tests_are_refused_before_training(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_ruvqe.memory.bank import BANK_STORE, ReasoningBank
    from pytest_ruvqe.memory.store import DiskStore

    with DiskStore(project / ".ruvqe" / BANK_STORE) as store:
        bank = ReasoningBank(store, use_hnsw=False)
        payload = ACCEPTED.split("\n\n\ndef test_slug_empty")[0]
        bank.add(dataclasses.replace(_pattern(payload), embedding=bank.embed(SOURCE)))
    assert main(["--rootdir", str(project), "tune"]) == 2
    err = capsys.readouterr().err
    assert "1 accepted tests in the bank, 0 to train on" in err
    assert "at least 8 are needed" in err and len(err.strip().splitlines()) == 1
    assert not list((project / ".ruvqe" / "adapters").glob("*.gguf"))


def _banked(project: Path, functions: int, tests: int) -> Settings:
    """A bank of accepted tests for ``functions`` functions of pkg/text.py."""
    from pytest_ruvqe.memory.bank import BANK_STORE, ReasoningBank
    from pytest_ruvqe.memory.store import DiskStore

    names = [f"slug{i}" for i in range(functions)]
    (project / "pkg" / "text.py").write_text(
        "\n\n".join(SOURCE.replace("def slug", f"def {n}") for n in names)
    )
    model = project / "model.gguf"
    model.write_bytes(b"GGUF not really a model")
    with DiskStore(project / ".ruvqe" / BANK_STORE) as store:
        bank = ReasoningBank(store, use_hnsw=False)
        for name in names:
            body = "\n\n".join(
                f"def test_{name}_{k}():\n    assert text.{name}('a {k}') == 'a-{k}'"
                for k in range(tests)
            )
            payload = f"import pkg.text as text\n\n\n{body}\n"
            pattern = _pattern(payload, sig=f"pkg.text:{name}")
            bank.add(dataclasses.replace(pattern, embedding=bank.embed(name)))
    return Settings(rootdir=project, learn=True, local_model=str(model))


def _after(settings: Settings) -> GenerationOutcome:
    outcome = GenerationOutcome(mode="files", suite_before=0.5, suite_after=0.5)
    after_generation(settings, outcome, lambda line: None)
    return outcome


def test_a_run_says_when_tuning_is_worth_it_and_trains_only_when_asked(
    project: Path,
) -> None:
    settings = _banked(project, functions=10, tests=5)
    (note,) = _after(settings).notes
    assert note.startswith("tuning: ") and "`ruvqe tune` (or --ruvqe-tune)" in note
    fresh = int(note.split("tuning: ")[1].split(" ")[0])
    assert 32 <= fresh <= 50  # the held-out targets are not counted
    assert not (project / ".ruvqe" / "adapters").exists()  # nothing trained


def test_no_second_adapter_until_enough_is_new(project: Path) -> None:
    from pytest_ruvqe.learn.tune.run import bank_examples
    from pytest_ruvqe.llm.models import sha256_of

    settings = dataclasses.replace(_banked(project, 10, 5), tune_seconds=60.0)
    train_set, _ = split(bank_examples(project, project / ".ruvqe"))
    mine = adapter_path(
        settings.store_dir / "adapters", sha256_of(project / "model.gguf")
    )
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"GGUF")
    info = dataclasses.replace(
        _info(sha256_of(project / "model.gguf")),
        data_hash=data_hash(train_set),
        examples=len(train_set),
    )
    save_info(mine, info)
    (note,) = _after(settings).notes
    assert note.startswith("tuning: 0 accepted tests new since the adapter")


def test_asked_to_tune_on_too_few_tests_warns_and_trains_nothing(
    project: Path,
) -> None:
    settings = dataclasses.replace(_banked(project, 1, 2), tune_seconds=60.0)
    pytest.importorskip("peft", reason="the 'tune' extra is not installed")
    with pytest.warns(RuvqeGenerationWarning, match="nothing tuned: .*at least 8"):
        assert _after(settings).notes == []
    assert not list((project / ".ruvqe").glob("adapters/*.gguf"))
