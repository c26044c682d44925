"""What a sandboxed run printed, sanitized before it may reach a prompt."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

import pytest

from pytest_ruvqe.generate.accept.validate import validate
from pytest_ruvqe.generate.sanitize import Sanitizer
from pytest_ruvqe.generate.types import Candidate, Project, Reason, Target

MakeTarget = Callable[..., Target]

KEY = "sk-proj-Qa1Ws2Ed3Rf4Tg5Yh6Uj7Ik8Ol9Pz0Xc"
ENV = {
    "OPENAI_API_KEY": KEY,
    "GITHUB_TOKEN": "ghs_notshorterthaneight0123456789abcd",
    "DB_PASSWORD": "correct horse battery",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzKEY",
    "SHORT_TOKEN": "abc123",  # too short to tell from an ordinary word
    "CREDENTIALS_FILE": "/home/jane/.config/creds.json",
    "EDITOR": "correct horse battery",  # not a secret by its name
}


def sanitizer() -> Sanitizer:
    return Sanitizer(environ=ENV, home="/home/jane")


def test_secret_env_values_are_replaced_by_their_names() -> None:
    text = (
        f"AssertionError: {KEY} != ''\n"
        "token ghs_notshorterthaneight0123456789abcd, pw correct horse battery\n"
        "aws wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzKEY abc123"
    )
    out = sanitizer()(text)
    assert "<redacted env OPENAI_API_KEY>" in out
    assert "<redacted env GITHUB_TOKEN>" in out
    assert "<redacted env DB_PASSWORD>" in out
    assert "<redacted env AWS_SECRET_ACCESS_KEY>" in out
    assert "abc123" in out  # short values are left alone
    for value in (KEY, "correct horse battery", "wJalrXUtnFEMI"):
        assert value not in out


def test_a_value_cut_by_trimming_is_still_found() -> None:
    # the sandbox keeps the head and tail of long output: a value may be split
    text = f"left {KEY[:14]}\n...[trimmed]...\n{KEY[-12:]} right"
    out = sanitizer()(text)
    assert KEY[:14] not in out and KEY[-12:] not in out
    assert out.count("<redacted env OPENAI_API_KEY>") == 2
    assert out.startswith("left ") and out.endswith(" right")


def test_paths_lose_the_home_and_the_sandbox_directory() -> None:
    sandbox = os.path.join(tempfile.gettempdir(), "ruvqe-sandbox-k2j4_x", "work")
    text = (
        f'File "{sandbox}/test_ruvqe_candidate.py", line 4\n'
        "/home/jane/proj/src/calc.py:12: in sign\n"
        "reading /home/jane/.config/creds.json failed; /home/janet stays"
    )
    out = sanitizer()(text)
    assert 'File "test_ruvqe_candidate.py", line 4' in out
    assert "~/proj/src/calc.py:12" in out
    # a path-valued secret is replaced whole, its directories are not
    assert "<redacted env CREDENTIALS_FILE>" in out
    assert "/home/janet" in out and "jane/" not in out.replace("janet", "")


def test_the_privacy_scan_redacts_secrets_and_personal_data() -> None:
    text = (
        "card 4111 1111 1111 1111, iban DE89370400440532013000, "
        "mail jane.doe@corp-mail.io, aws AKIAZ3MHQ7ROTB5K2XQW"
    )
    out = Sanitizer(environ={}, home="")(text, limit=2000)
    assert "<CREDIT_CARD_NUMBER_1>" in out and "<IBAN_1>" in out
    assert "<E_MAIL_ADDRESS_1>" in out and "AKIAZ3MHQ7ROTB5K2XQW" not in out
    assert Sanitizer(environ={}, home="")("x" * 5000, limit=100).count("x") <= 100


def test_a_candidate_holding_a_host_secret_is_never_run_or_kept(
    project: Project, make_target: MakeTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    code = (
        f"from pkg.calc import sign\n\n\ndef test_key():\n"
        f"    assert sign(1) == 1\n    assert len({KEY!r}) > 1\n"
    )
    validation = validate(Candidate(make_target(), code, "chat"), project)
    (verdict,) = validation.verdicts
    assert verdict.reason is Reason.UNSAFE
    assert verdict.detail == "holds the value of OPENAI_API_KEY"
    assert KEY not in validation.error and validation.accepted_code is None
