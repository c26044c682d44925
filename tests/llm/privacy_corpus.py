"""A generated corpus for the privacy scanner: sensitive values and look-alikes.

``positive(kind, seed)`` makes one fake value of a sensitive kind in a valid
format (card numbers that pass Luhn on test BINs, IBANs with correct check
digits, SSNs by the SSA's rules, phone numbers of several numbering plans,
API tokens in each provider's format) and embeds it in code or text: an
assignment, a dict literal, a comment, a docstring, a log line, an f-string,
YAML, INI, JSON, a shell export or prose. ``benign(kind, seed)`` makes text
that a scanner must leave alone: random digit runs, version strings, UUIDs,
git SHAs and digests in hash contexts, timestamps, ports and line numbers,
numeric constants, placeholders and base64 images.

The same seed gives the same sample. Check digits are computed here, not by
the libraries the scanner uses, so the corpus is an independent oracle; only
phone numbers are checked against ``phonenumbers``' numbering plans (a
random digit string is rarely a number anyone could dial) and formatted by
it the way each country writes them.

Formats the scanner deliberately does not report are not generated as
positives: a phone number, a spaced/bare SSN or an unformatted 17-19 digit
card number with no word such as ``phone``, ``ssn`` or ``card`` on its line
(indistinguishable from an id, a counter or a 64-bit integer), Maestro
cards, lowercase IBANs.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Sample:
    """One generated text and the value in it a scanner should (not) find."""

    kind: str
    value: str
    text: str

    @property
    def span(self) -> tuple[int, int]:
        start = self.text.index(self.value)
        return start, start + len(self.value)


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return _chars(rng, string.digits, n)


# -- contexts -----------------------------------------------------------------

# {name} is a variable/key name, {value} the value, {words} the name as words
CONTEXTS = (
    '{name} = "{value}"\n',
    "settings = {{'{name}': '{value}', 'retries': 3}}\n",
    "# {name}: {value}\n",
    'def load(client):\n    """Fetch the account.\n\n'
    "    The {words} is {value} in staging.\n"
    '    """\n    return client.get()\n',
    "2024-05-01 12:00:03,512 INFO worker-2 {name}={value} accepted\n",
    'log.info(f"{{user.id}} sent {words} {value} at {{ts}}")\n',
    "{name}: {value}\n",
    "[account]\n{name} = {value}\ntimeout = 30\n",
    '{{"{name}": "{value}", "id": 7, "active": true}}\n',
    "export {upper}={value}\n",
    "Please use {value} as the {words} from now on.\n",
    "    assert parse(record)['{name}'] == '{value}'\n",
)
# ordinary code around each sample, so the text is a prompt, not a snippet
FILLERS = (
    "import os\nfrom pathlib import Path\n\n",
    "def handler(event, context):\n    return {'status': 200, 'body': event}\n\n",
    "class Cart:\n    def __init__(self):\n        self.items = []\n\n",
    "for i in range(10):\n    total += i * 2\n",
    "",
)


def _embed(rng: random.Random, kind: str, value: str, names: tuple[str, ...]) -> Sample:
    name = rng.choice(names)
    text = rng.choice(CONTEXTS).format(
        name=name, value=value, words=name.replace("_", " "), upper=name.upper()
    )
    return Sample(kind, value, rng.choice(FILLERS) + text + rng.choice(FILLERS))


# -- personal data -------------------------------------------------------------


def luhn_complete(digits: str) -> str:
    """``digits`` with the Luhn check digit appended."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char)
        if index % 2 == 0:  # doubled: the check digit will shift it left
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return digits + str((10 - total % 10) % 10)


# well-known test BINs of the networks, and each network's length
CARD_BINS = (
    ("411111", 16),
    ("424242", 16),
    ("400005", 16),
    ("401288", 13),
    ("555555", 16),
    ("510510", 16),
    ("222300", 16),
    ("378282", 15),
    ("371449", 15),
    ("601111", 16),
    ("644564", 16),
    ("353011", 16),
    ("305693", 14),
    ("361234", 14),
    ("620000", 19),
)


CARD_NAMES = ("card_number", "cc", "pan", "credit_card")


def card_sample(rng: random.Random) -> Sample:
    bin_, length = rng.choice(CARD_BINS)
    number = luhn_complete(bin_ + _digits(rng, length - len(bin_) - 1))
    style = rng.choice(("plain", " ", "-"))
    names = CARD_NAMES + NEUTRAL_NAMES
    if length > 16:
        # written whole, a 19-digit number is found next to a card word only
        # (64-bit integers are that long); grouped 4-4-4-4-3 anywhere
        if style == "plain":
            names = CARD_NAMES
        else:
            number = style.join(number[i : i + 4] for i in range(0, length, 4))
    elif style != "plain" and length == 15:  # American Express: 4-6-5
        number = style.join((number[:4], number[4:10], number[10:]))
    elif style != "plain" and length == 16:
        number = style.join(number[i : i + 4] for i in range(0, 16, 4))
    return _embed(rng, "Credit card number", number, names)


# BBAN structure per country: n digits, a upper-case letters, c either
IBAN_FORMATS = {
    "DE": "18n",
    "GB": "4a14n",
    "FR": "10n11c2n",
    "ES": "20n",
    "NL": "4a10n",
    "IT": "1a10n12c",
    "BE": "12n",
    "CH": "5n12c",
    "AT": "16n",
    "PL": "24n",
}


def _bban(rng: random.Random, structure: str) -> str:
    alphabets = {"n": string.digits, "a": string.ascii_uppercase}
    out, count = [], ""
    for char in structure:
        if char.isdigit():
            count += char
            continue
        pool = alphabets.get(char, string.digits + string.ascii_uppercase)
        out.append(_chars(rng, pool, int(count)))
        count = ""
    return "".join(out)


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_FORMATS))
    bban = _bban(rng, IBAN_FORMATS[country])
    # ISO 13616: letters as 10..35, country and 00 moved to the end, mod 97
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    number = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    if rng.random() < 0.5:
        return number
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def ssn_digits(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if number not in ("078051120", "457555462", "219099999"):
            return number


def ssn_sample(rng: random.Random) -> Sample:
    number = ssn_digits(rng)
    dashed = f"{number[:3]}-{number[3:5]}-{number[5:]}"
    style = rng.choice(("dashed", "dashed", "spaced", "bare"))
    if style == "dashed":  # the SSN's own format: found in any context
        return _embed(rng, "US Social Security Number", dashed, NEUTRAL_NAMES)
    value = dashed.replace("-", " ") if style == "spaced" else number
    names = ("ssn", "employee_ssn", "social_security_number", "SSN")
    return _embed(rng, "US Social Security Number", value, names)


# national significant numbers of real plans: (country code, region, template)
PHONE_PLANS = (
    ("1", "US", "[2-9]##[2-9]######"),
    ("44", "GB", "207#######"),
    ("44", "GB", "7[1-9]########"),
    ("44", "GB", "161#######"),
    ("49", "DE", "30########"),
    ("49", "DE", "15[1-7]########"),
    ("33", "FR", "[1-5]########"),
    ("33", "FR", "6########"),
    ("91", "IN", "[6-9]#########"),
    ("81", "JP", "3########"),
    ("61", "AU", "4########"),
    ("55", "BR", "119########"),
)
PHONE_NAMES = ("phone", "mobile", "tel", "contact_phone", "fax", "phone_number")


def _from_template(rng: random.Random, template: str) -> str:
    out = []
    index = 0
    while index < len(template):
        char = template[index]
        if char == "#":
            out.append(rng.choice(string.digits))
        elif char == "[":
            end = template.index("]", index)
            lo, hi = template[index + 1 : end].split("-")
            out.append(str(rng.randint(int(lo), int(hi))))
            index = end
        else:
            out.append(char)
        index += 1
    return "".join(out)


def phone_sample(rng: random.Random) -> Sample:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat

    while True:
        code, region, template = rng.choice(PHONE_PLANS)
        number = phonenumbers.parse(f"+{code}{_from_template(rng, template)}")
        if phonenumbers.is_valid_number(number):
            break
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    styles = ["e164", "international"]
    if region in ("US", "GB", "DE", "FR", "IN"):  # the scanner's default regions
        styles += ["national", "bare"]
    if region == "US":
        styles += ["dashes", "dots"]
    style = rng.choice(styles)
    national = str(number.national_number)
    names = NEUTRAL_NAMES
    if style == "e164":
        value = e164
    elif style == "international":
        value = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    elif style == "national":
        value = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    elif style == "dashes":
        value = f"{national[:3]}-{national[3:6]}-{national[6:]}"
    elif style == "dots":
        value = f"{national[:3]}.{national[3:6]}.{national[6:]}"
    else:  # a bare national digit run: only where the line says phone
        prefix = "" if region == "US" else "0"
        value = prefix + national
        names = PHONE_NAMES
    return _embed(rng, "Phone number", value, names)


NEUTRAL_NAMES = ("value", "data", "field_3", "ref", "note", "customer", "payload")


# -- API tokens ----------------------------------------------------------------


def _token(*parts: str | tuple[str, int]) -> Callable[[random.Random], str]:
    """A generator: literal parts, and (alphabet, length) parts drawn at random."""

    def make(rng: random.Random) -> str:
        return "".join(
            p if isinstance(p, str) else _chars(rng, p[0], p[1]) for p in parts
        )

    return make


def _either(*makers: Callable[[random.Random], str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(makers)(rng)


def _openai_project(rng: random.Random) -> str:
    prefix = rng.choice(("sk-proj-", "sk-svcacct-", "sk-admin-"))
    return prefix + _chars(rng, URLSAFE, rng.randint(56, 156)) + rng.choice(ALNUM)


def _stripe(rng: random.Random) -> str:
    prefix = rng.choice(("sk_live_", "rk_live_"))
    return prefix + _chars(rng, ALNUM, rng.randint(24, 99))


def _pypi(rng: random.Random) -> str:
    return "pypi-AgEIcHlwaS5vcmc" + _chars(rng, URLSAFE, rng.randint(70, 160))


def _sentry(rng: random.Random) -> str:
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(60))).decode()
    return "sntrys_eyJ" + body.rstrip("=")


AGE = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
TOKENS: dict[str, Callable[[random.Random], str]] = {
    "AWS Access Key": _token("AKIA", (string.ascii_uppercase + string.digits, 16)),
    "GitHub Token": _either(
        _token("ghp_", (ALNUM, 36)),
        _token("github_pat_", (ALNUM, 22), "_", (ALNUM, 59)),
    ),
    "GitLab Token": _token("glpat-", (URLSAFE, 19), (ALNUM, 1)),
    "Slack Token": _either(
        _token(
            "xoxb-", (string.digits, 12), "-", (string.digits, 13), "-", (ALNUM, 24)
        ),
        _token(
            "xapp-1-A",
            (string.ascii_uppercase + string.digits, 10),
            "-",
            (string.digits, 13),
            "-",
            (HEX, 64),
        ),
    ),
    "Stripe Access Key": _stripe,
    "PyPI Token": _pypi,
    "Hugging Face Token": _token("hf_", (string.ascii_letters, 34)),
    "OpenAI Token": _either(
        _openai_project,
        _token("sk-", (ALNUM, 20), "T3BlbkFJ", (ALNUM, 20)),
        _token("sk-", (ALNUM, 48)),
    ),
    "Anthropic API Key": _token("sk-ant-api03-", (URLSAFE, 93), "AA"),
    "OpenRouter API Key": _token("sk-or-v1-", (HEX, 64)),
    "NPM tokens": _token("npm_", (ALNUM, 36)),
    "Google API Key": _token("AIza", (URLSAFE, 34), (ALNUM, 1)),
    "Google OAuth Client Secret": _token("GOCSPX-", (URLSAFE, 27), (ALNUM, 1)),
    "Stripe Webhook Secret": _token("whsec_", (ALNUM, 32)),
    "Databricks Token": _token("dapi", (HEX, 32)),
    "DigitalOcean Token": _token("dop_v1_", (HEX, 64)),
    "Shopify Token": _token("shpat_", (HEX, 32)),
    "Docker Hub Token": _token("dckr_pat_", (URLSAFE, 26), (ALNUM, 1)),
    "Groq API Key": _token("gsk_", (ALNUM, 52)),
    "Replicate Token": _token("r8_", (ALNUM, 37)),
    "HashiCorp Vault Token": _token("hvs.", (URLSAFE, 90), (ALNUM, 1)),
    "Linear API Key": _token("lin_api_", (ALNUM, 40)),
    "Postman API Key": _token("PMAK-", (HEX, 24), "-", (HEX, 34)),
    "Grafana Token": _token("glsa_", (ALNUM, 32), "_", (HEX, 8)),
    "Sentry Token": _sentry,
    "Supabase Token": _token("sbp_", (HEX, 40)),
    "Perplexity API Key": _token("pplx-", (ALNUM, 48)),
    "xAI API Key": _token("xai-", (ALNUM, 80)),
    "LangSmith API Key": _token("lsv2_pt_", (HEX, 32), "_", (HEX, 10)),
    "Notion Token": _token("ntn_", (string.digits, 11), (ALNUM, 35)),
    "New Relic API Key": _token("NRAK-", (string.ascii_uppercase + string.digits, 27)),
    "Age Secret Key": _token("AGE-SECRET-KEY-1", (AGE, 58)),
}
TOKEN_NAMES = ("api_key", "token", "auth", "HF_TOKEN", "client", "credentials")


# -- the positive kinds --------------------------------------------------------


def _positive_makers() -> dict[str, Callable[[random.Random], Sample]]:
    makers: dict[str, Callable[[random.Random], Sample]] = {
        "Credit card number": card_sample,
        "IBAN": lambda rng: _embed(
            rng, "IBAN", iban(rng), ("iban", "account", *NEUTRAL_NAMES)
        ),
        "US Social Security Number": ssn_sample,
        "Phone number": phone_sample,
    }
    for kind, make in TOKENS.items():
        makers[kind] = lambda rng, kind=kind, make=make: _embed(
            rng, kind, make(rng), TOKEN_NAMES + NEUTRAL_NAMES
        )
    return makers


POSITIVE = _positive_makers()
CHECKSUMMED = ("Credit card number", "IBAN", "US Social Security Number")


def positive(kind: str, seed: int) -> Sample:
    """One sample of sensitive ``kind`` (a key of ``POSITIVE``)."""
    return POSITIVE[kind](random.Random(f"positive:{kind}:{seed}"))


# -- benign look-alikes --------------------------------------------------------


def _render(
    rng: random.Random, kind: str, value: str, templates: tuple[str, ...], **names: str
) -> Sample:
    """A sample: ``value`` in one of the ``templates`` (``{v}`` and ``names``)."""
    return Sample(kind, value, rng.choice(templates).format(v=value, **names))


def _digit_run(rng: random.Random) -> Sample:
    value = str(rng.randint(1, 9)) + _digits(rng, rng.randint(3, 19))
    name = rng.choice(("count", "total", "order_id", "offset", "seed", "size", "n"))
    return _render(
        rng,
        "random digit run",
        value,
        (
            "{name} = {v}\n",
            '{name} = "{v}"\n',
            '{{"{name}": {v}}}\n',
            "# expected {v} rows\n",
            "INFO processed {name}={v}\n",
            "    assert result.{name} == {v}\n",
        ),
        name=name,
    )


def _version(rng: random.Random) -> Sample:
    r = rng.randint
    value = rng.choice(
        (
            f"{r(0, 30)}.{r(0, 30)}.{r(0, 300)}",
            f"v{r(0, 9)}.{r(0, 20)}.{r(0, 9)}-rc.{r(1, 5)}",
            f"{r(2015, 2026)}.{r(1, 12)}.{r(1, 31)}",
            f"{r(1, 12)}.{r(0, 99)}.{r(1000, 99999)}.{r(1, 9999)}",
            f"{r(0, 5)}.{r(0, 40)}.{r(0, 9)}.post{r(1, 3)}",
        )
    )
    return _render(
        rng,
        "version string",
        value,
        (
            '__version__ = "{v}"\n',
            "requests=={v}\n",
            "Released in {v} (see CHANGELOG).\n",
            'version: "{v}"\n',
            "Python {v} on linux\n",
        ),
    )


def _uuid(rng: random.Random) -> Sample:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return _render(
        rng,
        "UUID",
        value,
        (
            'request_id = "{v}"\n',
            '{{"id": "{v}", "status": "ok"}}\n',
            "INFO trace={v} finished\n",
            "Run {v} failed.\n",
        ),
    )


HASH_NAMES = ("sha", "commit", "commit_sha", "git_sha", "head_commit", "revision")


def _git_sha(rng: random.Random) -> Sample:
    value = _chars(rng, HEX, rng.choice((7, 8, 10, 12, 40, 40, 40)))
    name = rng.choice(HASH_NAMES)
    return _render(
        rng,
        "git SHA in a hash context",
        value,
        (
            '{n} = "{v}"\n',
            '{{"{n}": "{v}", "ref": "main"}}\n',
            "{n}: {v}\n",
            "    checkout({n}='{v}')\n",
            "Fixed in commit {v}.\n",
            'model = load(repo, revision="{v}")\n',
        ),
        n=name,
    )


def _digest(rng: random.Random) -> Sample:
    raw = bytes(rng.getrandbits(8) for _ in range(rng.choice((16, 20, 32, 48, 64))))
    hexed, b64 = raw.hex(), base64.b64encode(raw).decode()
    algo = {16: "md5", 20: "sha1", 32: "sha256", 48: "sha384", 64: "sha512"}[len(raw)]
    value, template = rng.choice(
        (
            (hexed, f"{algo}={{v}}\n"),
            (hexed, f'"{algo}": "{{v}}",\n'),
            (hexed, f'{algo} = "{{v}}"\n'),
            (hexed, f"{algo}:{{v}}\n"),
            (hexed, f'hashes = ["{algo}:{{v}}"]\n'),
            (hexed, "pkg==1.0 --hash=sha256:{v}\n"),
            (hexed, 'checksum: "{v}"\n'),
            (hexed, 'ETag: "{v}"\n'),
            (hexed, 'expected_digest = "{v}"\n'),
            (f"{algo}-{b64}", '"integrity": "{v}",\n'),
            (f"{algo}-{b64}", '<script integrity="{v}"></script>\n'),
            (f"{algo}-{b64}", 'hash = "{v}";\n'),
        )
    )
    return Sample("digest in a hash context", value, template.format(v=value))


def _timestamp(rng: random.Random) -> Sample:
    r = rng.randint
    seconds = r(1_400_000_000, 1_900_000_000)
    year, month, day = r(2000, 2030), r(1, 12), r(1, 28)
    hour, minute, second = r(0, 23), r(0, 59), r(0, 59)
    value = rng.choice(
        (
            str(seconds),
            str(seconds * 1000 + r(0, 999)),
            str(seconds * 1_000_000 + r(0, 999_999)),
            str(seconds * 1_000_000_000 + r(0, 999_999_999)),
            f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z",
            f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d},"
            f"{r(0, 999):03d}",
            f"{day:02d}.{month:02d}.{year} {hour:02d}:{minute:02d}",
            f"{month:02d}/{day:02d}/{year}",
            f"{year}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}",
        )
    )
    return _render(
        rng,
        "timestamp",
        value,
        (
            "created_at = {v}\n",
            '{{"ts": "{v}"}}\n',
            "{v} INFO started\n",
            "# last run {v}\n",
        ),
    )


def _port_or_line(rng: random.Random) -> Sample:
    port, line = rng.randint(1, 65535), rng.randint(1, 99999)
    ip = ".".join(str(rng.randint(0, 255)) for _ in range(4))
    value = rng.choice(
        (
            f"localhost:{port}",
            f"port={port}",
            f'File "app/models.py", line {line}, in save',
            f"src/parser.py:{line}:{rng.randint(1, 120)}: E501 line too long",
            f"{ip}:{port}",
            f"ping {ip}",
            f"http://{ip}:{port}/health",
            f"listen {port}; # line {line}",
        )
    )
    return Sample("port or line number", value, value + "\n")


def _numeric_constant(rng: random.Random) -> Sample:
    r = rng.randint
    value = rng.choice(
        (
            "9223372036854775807",
            "18446744073709551615",
            "0x" + _chars(rng, "0123456789ABCDEF", rng.choice((8, 16))),
            f"{rng.random():.15f}",
            f"{rng.uniform(1, 1e9):.6f}",
            f"{r(1, 999)}_{r(0, 999):03d}_{r(0, 999):03d}",
            f"{rng.uniform(1, 9):.4f}e-{r(1, 30)}",
            f"({r(100, 4000)}, {r(100, 4000)}, {r(1, 4)})",
            "[" + ", ".join(str(r(0, 9999)) for _ in range(6)) + "]",
            f"range(0 .. {r(10**6, 2**32)})",
            str(r(1, 9)) * r(5, 12),
        )
    )
    name = rng.choice(("MAX", "MASK", "EPSILON", "SHAPE", "WEIGHTS", "LIMIT"))
    return Sample("numeric constant", value, f"{name} = {value}\n")


PLACEHOLDERS = (
    "your-api-key-here",
    "YOUR_API_KEY",
    "changeme",
    "change-me-please",
    "${API_TOKEN}",
    "$SECRET_KEY",
    "{{ api_key }}",
    "<token>",
    "<your-secret>",
    "%(db_password)s",
    "****",
    "********",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "XXXX-XXXX-XXXX",
    "dummy-secret",
    "example-password",
    "replace_me",
    "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "AKIAXXXXXXXXXXXXXXXX",
    "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "sk-proj-your-key-here-xxxxxxxxxxxxxx",
    "[REDACTED]",
)


def _placeholder(rng: random.Random) -> Sample:
    value = rng.choice(PLACEHOLDERS)
    name = rng.choice(("api_key", "password", "secret_key", "client_secret", "token"))
    templates = (
        '{n} = "{v}"\n',
        "{n}: {v}\n",
        '{{"{n}": "{v}"}}\n',
        "export {N}={v}\n",
        "[auth]\n{n} = {v}\n",
        '    client = Client({n}="{v}")\n',
    )
    return _render(rng, "placeholder", value, templates, n=name, N=name.upper())


PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _image(rng: random.Random) -> Sample:
    header, mime = rng.choice(((PNG_HEADER, "png"), (JPEG_HEADER, "jpeg")))
    raw = header + bytes(rng.getrandbits(8) for _ in range(rng.randint(48, 300)))
    data = base64.b64encode(raw).decode()
    value, template = rng.choice(
        (
            (f"data:image/{mime};base64,{data}", '<img src="{v}">\n'),
            (f"data:image/{mime};base64,{data}", "background: url({v});\n"),
            (data, 'ICON = "{v}"\n'),
            (data, '{{"thumbnail": "{v}"}}\n'),
        )
    )
    return Sample("base64 image", value, template.format(v=value))


BENIGN: dict[str, Callable[[random.Random], Sample]] = {
    "random digit run": _digit_run,
    "version string": _version,
    "UUID": _uuid,
    "git SHA in a hash context": _git_sha,
    "digest in a hash context": _digest,
    "timestamp": _timestamp,
    "port or line number": _port_or_line,
    "numeric constant": _numeric_constant,
    "placeholder": _placeholder,
    "base64 image": _image,
}


def benign(kind: str, seed: int) -> Sample:
    """One text of benign ``kind`` (a key of ``BENIGN``) a scanner must pass."""
    rng = random.Random(f"benign:{kind}:{seed}")
    sample = BENIGN[kind](rng)
    text = rng.choice(FILLERS) + sample.text + rng.choice(FILLERS)
    return Sample(sample.kind, sample.value, text)


def detected(sample: Sample, findings: Sequence[Any]) -> bool:
    """Whether one finding of the sample's kind covers the whole value."""
    start, end = sample.span
    return any(
        f.kind == sample.kind and f.start <= start and f.end >= end for f in findings
    )
