"""Secrets and personal data: detection, redaction, routing by strategy."""

from __future__ import annotations

import pytest

from pytest_ruvqe.llm.base import CompletionRequest, Message
from pytest_ruvqe.llm.guard import PrivacyViolation
from pytest_ruvqe.llm.privacy import PrivacyScanner, redact
from pytest_ruvqe.llm.router import HybridRouter

# fabricated values in the formats of real credentials
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "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"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx4\n-----END RSA PRIVATE KEY-----"
)

POSITIVE = {
    "AWS Access Key": f'aws_key = "{AWS}"',
    "GitHub Token": f"token = {GITHUB}",
    "Private Key": f"KEY = '''\n{PEM}\n'''",
    "Secret Keyword": 'password = "hunter2hunter"',
    "Basic Auth Credentials": 'DB = "postgres://admin:s3cretpw@db.internal/app"',
    "JSON Web Token": f'auth = "{JWT}"',
    "E-mail address": "# ask jane.doe@acme-corp.io for access",
    "Stripe Access Key": "stripe.api_key = sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "IBM Cloud IAM Key": 'ibm_cloud_iam_key = "' + "Ab1_Cd2-Ef3" * 4 + '"',
}
NEGATIVE = [
    "def add(a, b):\n    return a + b\n",
    'user = "someone@example.com"  # placeholder domain',
    "password = get_password()\nif not password:\n    raise ValueError('no password')",
    'path = "tests/unit/test_parser_module_functions.py"',
    'URL = "https://docs.python.org/3/library/ast.html"',
    "def test_handles_the_very_long_function_name_for_parsing_inputs(): ...",
    "assert sha == hashlib.sha256(data).hexdigest()",
]


@pytest.mark.parametrize("kind", sorted(POSITIVE))
def test_detects_secret_kinds(kind: str) -> None:
    findings = PrivacyScanner().scan(POSITIVE[kind])
    assert findings, kind
    text = POSITIVE[kind]
    for finding in findings:
        assert text[finding.start : finding.end] == finding.value


@pytest.mark.parametrize("text", NEGATIVE)
def test_ordinary_code_is_not_flagged(text: str) -> None:
    assert PrivacyScanner().scan(text) == ()


def test_uses_detect_secrets_plugins() -> None:
    assert PrivacyScanner().uses_detect_secrets


def test_private_key_block_is_redacted_whole() -> None:
    text = POSITIVE["Private Key"]
    redacted, mapping = redact(text, PrivacyScanner().scan(text))
    assert "MIIEpAIBAAKCAQEAx4" not in redacted
    assert "<PRIVATE_KEY_1>" in redacted
    assert mapping["<PRIVATE_KEY_1>"].startswith("-----BEGIN RSA PRIVATE KEY")


def test_redaction_is_stable_and_deterministic() -> None:
    text = f"a = '{AWS}'\nb = '{AWS}'\nmail = 'x.y@corp.de'\nother = 'p.q@corp.de'"
    first, mapping = redact(text, PrivacyScanner().scan(text))
    second, _ = redact(text, PrivacyScanner().scan(text))
    assert first == second
    assert first.count("<AWS_ACCESS_KEY_1>") == 2
    assert "<E_MAIL_ADDRESS_1>" in first and "<E_MAIL_ADDRESS_2>" in first
    assert AWS not in first and "corp.de" not in first
    assert mapping["<E_MAIL_ADDRESS_2>"] == "p.q@corp.de"


SECRET_REQUEST = CompletionRequest(
    messages=(
        Message("system", "You write pytest tests."),
        Message("user", f'def connect():\n    key = "{AWS}"\n    return key'),
        Message("user", f"The key {AWS} must not leak; mail ops@acme-corp.io"),
    ),
    features={"cyclomatic": 30},  # complex: balanced would choose the cloud
)


def test_balanced_routes_a_secret_local(local, cloud) -> None:
    router = HybridRouter([local, cloud], "balanced")
    assert router.complete(SECRET_REQUEST).provider == "local"
    decision = router.decisions[-1]
    assert "AWS Access Key" in decision.privacy_findings
    assert AWS not in repr(decision)  # only kinds are recorded, never values
    assert cloud.received == []


def test_balanced_falls_back_to_cloud_only_redacted(local, cloud) -> None:
    local.fail_next = 1
    router = HybridRouter([local, cloud], "balanced")
    assert router.complete(SECRET_REQUEST).provider == "cloud"
    sent = cloud.received[0].text
    assert AWS not in sent and "acme-corp.io" not in sent
    # one value, one placeholder, across messages
    assert sent.count("<AWS_ACCESS_KEY_1>") == 2
    assert router.decisions[-1].redacted


@pytest.mark.parametrize(
    "strategy", ["cost_optimized", "latency_optimized", "quality_optimized"]
)
def test_cloud_strategies_redact(local, cloud, strategy: str) -> None:
    router = HybridRouter([cloud], strategy)
    router.complete(SECRET_REQUEST)
    assert AWS not in cloud.received[0].text


def test_privacy_first_never_sends_secrets_to_cloud(cloud) -> None:
    router = HybridRouter([cloud], "privacy_first")
    with pytest.raises(PrivacyViolation, match="local model"):
        router.complete(SECRET_REQUEST)
    assert cloud.received == []
    clean = CompletionRequest(prompt="def add(a, b): return a + b")
    assert router.complete(clean).provider == "cloud"


def test_local_only_router_skips_the_scan(local) -> None:
    router = HybridRouter([local], "balanced")
    router.complete(SECRET_REQUEST)
    assert local.received[0].text == SECRET_REQUEST.text  # local sees the original
    assert router.decisions[-1].privacy_findings == ()
