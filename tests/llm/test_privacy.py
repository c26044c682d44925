"""Secrets and personal data: detection, redaction, routing by strategy."""

from __future__ import annotations

import sys
from collections.abc import Iterator

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


# -- personal data, vendor tokens, look-alikes ---------------------------------

CARD = "4539 5787 6362 1486"  # Luhn-valid on a Visa prefix
PII = {
    "Credit card number": f"charge(card='{CARD}')",
    "IBAN": "iban: DE89 3704 0044 0532 0130 00",
    "US Social Security Number": "employee = {'ssn': '536-90-4399'}",
    "Phone number": "# call +44 20 7946 0958 after six",
}
TOKENS = {
    "Hugging Face Token": "HF_TOKEN=hf_aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH",
    "Anthropic API Key": "key = 'sk-ant-api03-" + "Ab1_" * 23 + "AA'",
    "OpenAI Token": "OPENAI_API_KEY=sk-proj-" + "aB3dE-fG5h_" * 8,
    "NPM tokens": "//registry: npm_" + "aB3dEfG5h" * 4,
    "Google API Key": "maps(key='AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW')",
    "GitHub Token": "gh = 'github_pat_"
    + "A1b2C3d4E5f" * 2
    + "_"
    + "Z9y8X7w6V5u4T3s2R1q0" * 2
    + "P0o9I8u7Y6t5R4e3W2q'",  # 22 and 59 characters
}


@pytest.mark.parametrize("kind", sorted(PII))
def test_detects_personal_data(kind: str) -> None:
    text = PII[kind]
    (finding,) = PrivacyScanner().scan(text)
    assert finding.kind == kind
    assert text[finding.start : finding.end] == finding.value


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_detects_tokens_detect_secrets_misses(kind: str) -> None:
    findings = PrivacyScanner().scan(TOKENS[kind])
    assert [f.kind for f in findings] == [kind]


def test_the_specific_kind_names_a_merged_span() -> None:
    # the unquoted-entropy rule matches the token too; the vendor's name wins,
    # and the variable name before "=" is not part of the secret
    text = TOKENS["Hugging Face Token"]
    redacted, _ = redact(text, PrivacyScanner().scan(text))
    assert redacted == "HF_TOKEN=<HUGGING_FACE_TOKEN_1>"


def test_a_long_stripe_key_is_redacted_whole() -> None:
    key = "sk_live_51H" + "a1B2c3D4e5" * 9  # detect-secrets stops after 24
    redacted, _ = redact(f"stripe.api_key = '{key}'", PrivacyScanner().scan(key))
    assert key[24:] not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "total = 4539578763621487",  # fails Luhn
        "order_id = 1234567812345670",  # passes Luhn, no card issuer starts with 1
        "created = 1700000000123456",  # a timestamp in microseconds
        "x = 4155552671  # a counter: no word on the line says otherwise",
        "run at 2024-01-15 10:30:00 on 15.01.2024",
        "ping 169.254.169.254 and 10.0.0.1:8080",
        'File "app.py", line 12345, in main',
        "seed in [ 0 .. 4294967295 ]",
        "PI = 3.141592653589793238",
        "requests==2.31.0 python 3.11.7 build 10.0.19045.3693",
        "id = '123e4567-e89b-12d3-a456-426614174000'",
        "part = '123-45-678'",  # not an SSN's shape
        "ssn = '666-12-3456'",  # an area never issued
        "IBAN: DE00 3704 0044 0532 0130 00",  # wrong check digits
    ],
)
def test_numbers_that_are_not_personal_data(text: str) -> None:
    assert PrivacyScanner().scan(text) == ()


def test_bare_numbers_need_the_word_on_their_line() -> None:
    scanner = PrivacyScanner()
    assert scanner.scan("phone = '4155552671'")[0].kind == "Phone number"
    assert scanner.scan("ssn 536904399")[0].kind == "US Social Security Number"
    assert scanner.scan("value = '536904399'") == ()


def test_national_formats_follow_the_regions() -> None:
    uk = "# ring 020 7946 0958"
    assert PrivacyScanner().scan(uk)[0].kind == "Phone number"
    assert PrivacyScanner(phone_regions=["US"]).scan(uk) == ()
    # with its country code, a number is found whatever the regions
    assert PrivacyScanner(phone_regions=["US"]).scan("ring +44 20 7946 0958")
    international_only = PrivacyScanner(phone_regions=())
    assert international_only.scan("ring +44 20 7946 0958")
    assert international_only.scan("ring (415) 555-2671") == ()


SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SRI = (
    "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUd"
    "BeoGlODJ6+SfaPg=="
)
BENIGN = {
    "Hash digest": [
        f'sha256 = "{SHA256}"',
        f'{{"integrity": "{SRI}"}}',
        'commit_sha = "3f786850e387550fdab836ed7e6dc881de23001b"',
        'load(repo, revision="3f786850e387550fdab836ed7e6dc881de23001b")',
        'ETag: "d41d8cd98f00b204e9800998ecf8427e"',
    ],
    "Placeholder value": [
        'api_key = "your-api-key-here"',
        'password = "changeme"',
        'secret_key = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
        'aws_key = "AKIAXXXXXXXXXXXXXXXX"',
        "OPENAI_API_KEY=sk-proj-your-key-here-xxxxxxxxxxxx",
    ],
    "Embedded data": [
        "icon = 'iVBORw0KGgoAAAANSUhEUiKR2M3DEEEefsJzeKZhyTUYfAfk1WNum8PEALJyRLjNOp'",
        "src = data:image/png;base64,iVBORw0KGgoAAAANSUhEUiKR2M3DEEEefsJzeKZhyTUY",
    ],
}


@pytest.mark.parametrize(
    ("kind", "text"), [(k, t) for k, texts in BENIGN.items() for t in texts]
)
def test_look_alikes_are_not_secrets(kind: str, text: str) -> None:
    scanner = PrivacyScanner()
    assert scanner.scan(text) == ()
    # they are recognised, not missed: listed on request, under a benign kind
    assert {f.kind for f in scanner.scan(text, include_benign=True)} == {kind}


@pytest.mark.parametrize(
    "text",
    [
        f'password_sha256 = "{SHA256}"',  # a password's hash is still sensitive
        f'api_key = "{SHA256}"',  # hex is what many keys look like
        'token = "sk-proj-' + "aB3dE-fG5h_" * 8 + '"',
    ],
)
def test_look_alike_rules_keep_real_secrets(text: str) -> None:
    assert PrivacyScanner().scan(text)


def test_new_kinds_are_redacted_with_stable_placeholders() -> None:
    text = f"{PII['Credit card number']}\nagain: {CARD}\n{PII['IBAN']}"
    redacted, mapping = redact(text, PrivacyScanner().scan(text))
    assert redacted.count("<CREDIT_CARD_NUMBER_1>") == 2
    assert "<IBAN_1>" in redacted and "3704" not in redacted
    assert mapping["<CREDIT_CARD_NUMBER_1>"] == CARD


@pytest.fixture
def without_validators(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from pytest_ruvqe.llm import privacy

    for name in ("stdnum", "stdnum.luhn", "stdnum.iban", "stdnum.us.ssn"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    privacy._stdnum.cache_clear()
    privacy._phonenumbers.cache_clear()
    yield
    privacy._stdnum.cache_clear()
    privacy._phonenumbers.cache_clear()


def test_missing_validators_degrade_with_a_note(without_validators: None) -> None:
    scanner = PrivacyScanner()
    text = "\n".join(PII.values())
    assert [f.kind for f in scanner.scan(text)] == []
    notes = " ".join(scanner.notes)
    assert "python-stdnum is not installed" in notes
    assert "phonenumbers is not installed" in notes
    assert "pytest-ruvqe[cloud]" in notes
    # the other rules still run
    assert scanner.scan(f"aws = '{AWS}'")[0].kind == "AWS Access Key"


def test_installed_validators_leave_no_note() -> None:
    assert PrivacyScanner().notes == ()


def test_validators_are_imported_only_when_a_number_turns_up(fresh_python) -> None:
    code = (
        "import sys\n"
        "from pytest_ruvqe.llm.privacy import PrivacyScanner\n"
        "scanner = PrivacyScanner()\n"
        "scanner.scan('def add(a, b):\\n    return a + b  # port 8080\\n')\n"
        "print('BEFORE', sorted({'stdnum', 'phonenumbers'} & set(sys.modules)))\n"
        "scanner.scan('call +44 20 7946 0958 or pay with 4539 5787 6362 1486')\n"
        "print('AFTER', sorted({'stdnum', 'phonenumbers'} & set(sys.modules)))\n"
    )
    result = fresh_python(code)
    assert "BEFORE []" in result.stdout, result.stdout + result.stderr
    assert "AFTER ['phonenumbers', 'stdnum']" in result.stdout, result.stdout
