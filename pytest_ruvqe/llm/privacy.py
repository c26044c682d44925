"""Secrets and personal data in outgoing text: find them, redact them.

Detection reuses the regex plugins of ``detect-secrets`` (cloud tokens of the
common providers, private keys, passwords in assignments and URLs, JWTs,
high-entropy strings). We call each plugin's ``analyze_string`` directly:
its ``analyze_line`` may *verify* a token against the provider's API, which is
a network call, the opposite of what a privacy scan may do. What
detect-secrets does not cover is added here:

* e-mail addresses, whole PEM blocks, unquoted high-entropy tokens;
* API tokens of providers detect-secrets does not know (or knows only in one
  old format): Hugging Face, OpenAI project keys, Anthropic, npm, Google,
  fine-grained GitHub tokens and more, each its own kind (``_TOKEN_RULES``);
* personal data whose format carries a check: card numbers (issuer prefix and
  length, then ``stdnum.luhn``), IBANs (``stdnum.iban``: mod 97 and the
  country's structure), US social security numbers (``stdnum.us.ssn``), and
  phone numbers (``phonenumbers.PhoneNumberMatcher``). A cheap regex finds
  the candidates; the libraries, imported on first need only, decide.

Values that only *look* like secrets are not reported: hex and base64
digests in a hash context (a name such as ``sha256``, ``commit``, ``etag``,
``integrity`` before the value, or a ``sha256:`` / ``sha512-`` prefix),
placeholders (``your-api-key-here``, ``${TOKEN}``, ``<token>``, ``xxxx``,
``changeme``), and base64 images or data URIs. They are nothing to protect,
so they neither route a request local nor get redacted; ``scan(text,
include_benign=True)`` lists them under the kinds of ``BENIGN_KINDS``.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .guard import PrivacyViolation

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "BENIGN_KINDS",
    "DEFAULT_PHONE_REGIONS",
    "PII_KINDS",
    "TOKEN_KINDS",
    "PrivacyFinding",
    "PrivacyScanner",
    "PrivacyViolation",
    "redact",
]

CARD_NUMBER = "Credit card number"
IBAN = "IBAN"
US_SSN = "US Social Security Number"
PHONE_NUMBER = "Phone number"
EMAIL = "E-mail address"
PII_KINDS = frozenset({CARD_NUMBER, IBAN, US_SSN, PHONE_NUMBER, EMAIL})

# reported only with include_benign=True: never a reason to keep text local
HASH_DIGEST = "Hash digest"
PLACEHOLDER = "Placeholder value"
EMBEDDED_DATA = "Embedded data"
BENIGN_KINDS = frozenset({HASH_DIGEST, PLACEHOLDER, EMBEDDED_DATA})

# national formats (no leading +) are read as numbers of these regions, in
# this order; an international number (+44 20 …) is found whatever the list
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN")

_EMAIL = re.compile(
    r"(?<![\w.+:/-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
# addresses that are placeholders by convention, not personal data
_SAFE_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
# a long unquoted run of token characters (API keys pasted into comments, URLs);
# "=" only as base64 padding, so that in NAME=token the name is not the token
_TOKEN_RUN = re.compile(
    r"(?<![A-Za-z0-9_+/-])[A-Za-z0-9_+/-]{32,}={0,2}(?![A-Za-z0-9_+/=-])"
)
_UNQUOTED_ENTROPY_LIMIT = 4.5
# detect-secrets flags the BEGIN line only; the key material follows it
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_MIN_GROUP = 8  # shorter capture groups are prefixes (ghp, xoxb), not the secret
# detect-secrets' own defaults for quoted strings
_ENTROPY_LIMITS = {"Base64 High Entropy String": 4.5, "Hex High Entropy String": 3.0}
# handled separately (keyword) or too noisy in code (IP addresses are rarely personal)
_SKIPPED_KINDS = frozenset({"Secret Keyword", "Public IP (ipv4)"})
# every keyword detect-secrets' KeywordDetector knows contains one of these
_KEYWORD_HINT = re.compile(r"key|pass|pwd|secret|contrase", re.IGNORECASE)
# plugins whose patterns are "<vendor>_<credential word> = value": without a
# credential word in the text they cannot match, and they are the slow ones
_ASSIGNMENT_KINDS = frozenset(
    {
        "Cloudant Credentials",
        "IBM Cloud IAM Key",
        "IBM COS HMAC Credentials",
        "SoftLayer Credentials",
    }
)
_CREDENTIAL_HINT = re.compile(r"key|pw|pass|token|secret", re.IGNORECASE)


@dataclass(frozen=True)
class PrivacyFinding:
    """One sensitive span of the scanned text."""

    kind: str  # e.g. "AWS Access Key", "E-mail address"
    value: str
    start: int
    end: int


# -- API tokens detect-secrets misses ------------------------------------------


@dataclass(frozen=True)
class _TokenRule:
    kind: str
    hint: str  # a literal every match contains: the regex runs only if it is there
    regex: re.Pattern[str]


def _rule(kind: str, hint: str, body: str) -> _TokenRule:
    # no token character may touch either end: a longer run is something else
    return _TokenRule(kind, hint, re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![\w-])"))


# Formats as the providers document them (and as gitleaks matches them). Where
# detect-secrets already has a kind for the provider, the same name is used,
# so one provider is one placeholder kind whichever rule found the value.
_TOKEN_RULES = (
    _rule("Hugging Face Token", "hf_", r"hf_[A-Za-z0-9]{34}"),
    _rule("Hugging Face Token", "api_org_", r"api_org_[A-Za-z0-9]{34}"),
    # project, service-account and admin keys; legacy keys without the
    # T3BlbkFJ marker detect-secrets requires
    _rule("OpenAI Token", "sk-", r"sk-(?:proj|svcacct|admin)-[\w-]{20,}"),
    _rule("OpenAI Token", "sk-", r"sk-[A-Za-z0-9]{48}"),
    _rule("Anthropic API Key", "sk-ant-", r"sk-ant-[a-z]{3,5}\d{2}-[\w-]{32,}"),
    _rule("OpenRouter API Key", "sk-or-", r"sk-or-v1-[a-f0-9]{64}"),
    # detect-secrets knows npm tokens only inside an .npmrc _authToken line
    _rule("NPM tokens", "npm_", r"npm_[A-Za-z0-9]{36}"),
    _rule("GitHub Token", "github_pat_", r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"),
    _rule("Google API Key", "AIza", r"AIza[\w-]{35}"),
    _rule("Google OAuth Client Secret", "GOCSPX-", r"GOCSPX-[\w-]{28}"),
    _rule("Slack Token", "xapp-", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"),
    _rule("Slack Token", "xoxe", r"xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{30,}"),
    # detect-secrets stops after 24 characters; today's keys are longer
    _rule("Stripe Access Key", "k_live_", r"[rs]k_live_[A-Za-z0-9]{24,}"),
    _rule("Stripe Webhook Secret", "whsec_", r"whsec_[A-Za-z0-9]{32,}"),
    _rule("Databricks Token", "dapi", r"dapi[a-f0-9]{32}(?:-\d)?"),
    _rule("DigitalOcean Token", "_v1_", r"do[opr]_v1_[a-f0-9]{64}"),
    _rule("Shopify Token", "shp", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    _rule("Docker Hub Token", "dckr_pat_", r"dckr_pat_[\w-]{27}"),
    _rule("Groq API Key", "gsk_", r"gsk_[A-Za-z0-9]{52}"),
    _rule("Replicate Token", "r8_", r"r8_[A-Za-z0-9]{37}"),
    _rule("HashiCorp Vault Token", "hv", r"hv[sb]\.[\w-]{24,}"),
    _rule("Linear API Key", "lin_api_", r"lin_api_[A-Za-z0-9]{40}"),
    _rule("Postman API Key", "PMAK-", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
    _rule("Grafana Token", "glsa_", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    _rule("Grafana Token", "glc_", r"glc_[A-Za-z0-9+/]{32,}={0,2}"),
    _rule("Sentry Token", "sntry", r"sntrys_eyJ[\w+/=-]{50,}|sntryu_[a-f0-9]{64}"),
    _rule("Supabase Token", "sbp_", r"sbp_[a-f0-9]{40}"),
    _rule("Perplexity API Key", "pplx-", r"pplx-[A-Za-z0-9]{48}"),
    _rule("xAI API Key", "xai-", r"xai-[A-Za-z0-9]{80}"),
    _rule("LangSmith API Key", "lsv2_", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"),
    _rule("Notion Token", "ntn_", r"ntn_\d{11}[A-Za-z0-9]{35}"),
    _rule("New Relic API Key", "NRAK-", r"NRAK-[A-Z0-9]{27}"),
    _rule(
        "Age Secret Key",
        "AGE-SECRET-KEY-1",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    ),
)
TOKEN_KINDS = frozenset(rule.kind for rule in _TOKEN_RULES)
_OWN_KINDS = TOKEN_KINDS | PII_KINDS | {"Private Key"}


def _token_spans(text: str) -> Iterable[PrivacyFinding]:
    for rule in _TOKEN_RULES:
        if rule.hint in text:
            for match in rule.regex.finditer(text):
                yield PrivacyFinding(rule.kind, match.group(), *match.span())


# -- personal data with a checkable format -------------------------------------

# Digits that are not part of a longer number, word, decimal or version. The
# patterns begin with a digit and look behind it, which lets the regex engine
# skip to the next digit: they run on every outgoing prompt.
_NUM_BEFORE = r"\d(?<![\w.+-]\d)"
_NUM_AFTER = r"(?![\w]|[.,-]\d)"
# no card, SSN or phone number has fewer than 7 digits in a row (give or take
# separators): text without such a run skips those rules
_NUMERIC_GATE = re.compile(r"\d(?:[ ().-]{0,2}\d){6}")
_CARD = re.compile(
    _NUM_BEFORE + r"(?:\d{12,18}"
    r"|\d{3}(?P<s>[ -])\d{4}(?P=s)\d{4}(?P=s)\d{1,4}(?:(?P=s)\d{3})?"
    r"|\d{3}(?P<t>[ -])\d{6}(?P=t)\d{4,5})" + _NUM_AFTER
)
# issuer prefix ranges and the lengths their numbers have; a random digit run
# must pass this and the Luhn check (Maestro's prefixes are too broad to use)
_CARD_ISSUERS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("6011", "6011", (16, 19)),  # Discover
    ("644", "649", (16, 19)),
    ("65", "65", (16, 19)),
    ("3528", "3589", (16, 19)),  # JCB
    ("300", "305", (14, 16, 19)),  # Diners Club
    ("36", "36", (14, 16, 19)),
    ("38", "39", (16, 19)),
    ("62", "62", (16, 17, 18, 19)),  # UnionPay
)
_PLAIN_CARD_MAX = 16
_CARD_HINT = re.compile(
    r"card|(?<![a-z])(?:cc|pan)(?![a-z])|visa|master|amex|credit|debit|payment",
    re.IGNORECASE,
)
# matched from the check digits on (digits are rarer than capitals, so the
# engine skips ahead faster); the country code is the two letters before
_IBAN = re.compile(
    r"\d\d(?<=[A-Z]{2}\d\d)(?<![A-Za-z0-9][A-Z]{2}\d\d)(?: ?[A-Z0-9]){11,30}"
    r"(?![A-Za-z0-9])"
)
_SSN_DASHED = re.compile(_NUM_BEFORE + r"\d{2}-\d{2}-\d{4}" + _NUM_AFTER)
# spaced or bare: many 9-digit numbers are not SSNs, so only next to the word
_SSN_LOOSE = re.compile(_NUM_BEFORE + r"\d{2}( ?)\d{2}\1\d{4}" + _NUM_AFTER)
_SSN_HINT = re.compile(r"ssn|social[ _-]?sec", re.IGNORECASE)
# 7+ digits, perhaps grouped; phonenumbers decides what is a number
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w.+-])\+?\(?\d[\d ().-]{5,22}\d(?!\w|[.-]\d)", re.ASCII
)
# a bare digit run is a phone number only on a line that says so
_PHONE_HINT = re.compile(
    r"(?<![a-z])(?:phone|tel|telephone|mobile|cell|fax|sms|whatsapp|contact|call)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_PHONE_WINDOW = 40  # characters after a candidate the matcher sees
_PHONE_RETRIES = 3  # groups dropped from the front of a run that is no number
_SPACES = re.compile(r" +")
# digits and separators like a phone number's: times, dates, decimals
_TIME_AFTER = re.compile(r":\d")
_DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d\d"
    r"|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2})(?!\d)"
)
_DECIMAL = re.compile(r"\d+\.\d+")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# "0 .. 4294967295", "3.3.3 20040110": a range, a version; dotted phone
# numbers have groups of two digits or more
_ODD_DOTS = re.compile(r"\.\.|\. | \.|(?<!\d)\d\.|\.\d(?!\d)")
_PHONE_MIN_DIGITS = 7


class _Validators(NamedTuple):
    luhn: Callable[[str], bool]
    iban: Callable[[str], bool]
    ssn: Callable[[str], bool]


@functools.lru_cache(maxsize=1)
def _stdnum() -> _Validators | None:
    """python-stdnum's checks, imported on first need (None: not installed)."""
    try:
        from stdnum import iban, luhn
        from stdnum.us import ssn
    except ImportError:
        return None

    def iban_valid(number: str) -> bool:
        # mod 97 and the country's BBAN structure; the country modules' bank
        # checks would add nothing a leak cares about
        return iban.is_valid(number, check_country=False)

    return _Validators(luhn.is_valid, iban_valid, ssn.is_valid)


@functools.lru_cache(maxsize=1)
def _phonenumbers() -> ModuleType | None:
    """The phonenumbers package, imported on first need (None: not installed)."""
    try:
        import phonenumbers
    except ImportError:
        return None
    return phonenumbers


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return line_start, len(text) if line_end < 0 else line_end


def _card_spans(text: str, luhn: Callable[[str], bool]) -> Iterable[PrivacyFinding]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if len(digits) > _PLAIN_CARD_MAX and digits == match.group():
            # 64-bit integers (seeds, ids, hashes) have 17 to 20 digits: an
            # unformatted run that long is a card only where the line says so
            line_start, line_end = _line_bounds(text, *match.span())
            if not _CARD_HINT.search(text, line_start, line_end):
                continue
        if luhn(digits) and any(
            lo <= digits[: len(lo)] <= hi and len(digits) in lengths
            for lo, hi, lengths in _CARD_ISSUERS
        ):
            yield PrivacyFinding(CARD_NUMBER, match.group(), *match.span())


def _iban_spans(text: str, valid: Callable[[str], bool]) -> Iterable[PrivacyFinding]:
    for match in _IBAN.finditer(text):
        start = match.start() - 2
        value = text[start : match.end()]
        # a grouped IBAN may have swallowed a following word: drop groups
        while len(value.replace(" ", "")) >= 15:
            if valid(value):
                yield PrivacyFinding(IBAN, value, start, start + len(value))
                break
            if " " not in value:
                break
            value = value.rsplit(" ", 1)[0]


def _ssn_spans(text: str, valid: Callable[[str], bool]) -> Iterable[PrivacyFinding]:
    for match in _SSN_DASHED.finditer(text):
        if valid(match.group()):
            yield PrivacyFinding(US_SSN, match.group(), *match.span())
    for hint in _SSN_HINT.finditer(text):
        start, end = _line_bounds(text, hint.start(), hint.end())
        for match in _SSN_LOOSE.finditer(text, start, end):
            if "-" not in match.group() and valid(match.group().replace(" ", "")):
                yield PrivacyFinding(US_SSN, match.group(), *match.span())


def _phone_spans(
    text: str, phonenumbers: Any, regions: Sequence[str]
) -> Iterable[PrivacyFinding]:
    for candidate in _PHONE_CANDIDATE.finditer(text):
        start, end = candidate.span()
        # "room 3 030 901820": a run that is no number may end in one
        starts = [start] + [start + m.end() for m in _SPACES.finditer(candidate[0])]
        for group_start in starts[: _PHONE_RETRIES + 1]:
            found = list(_phones_at(text, group_start, end, phonenumbers, regions))
            if found:
                yield from found
                break


def _phones_at(
    text: str, start: int, end: int, phonenumbers: Any, regions: Sequence[str]
) -> Iterable[PrivacyFinding]:
    """Numbers that begin at ``start`` (or after it, at a space) and end at
    ``end`` or at a space before it, as ``phonenumbers`` reads them."""
    segment = text[start:end]
    if sum(c.isdigit() for c in segment) < _PHONE_MIN_DIGITS:
        return
    line_start, line_end = _line_bounds(text, start, end)
    if segment.isdigit() and not _PHONE_HINT.search(text, line_start, line_end):
        return  # the matcher would find it, and _looks_like_a_phone refuse it
    # the matcher needs what follows to reject times ("2024-01-15 10:30")
    window = text[start : min(line_end, end + _PHONE_WINDOW)]
    valid = phonenumbers.Leniency.VALID
    for region in regions or ("ZZ",):  # ZZ: no region, international only
        accepted = [
            match
            for match in phonenumbers.PhoneNumberMatcher(window, region, leniency=valid)
            if start + match.end <= end
            and (match.start == 0 or window[match.start - 1] == " ")
            and (start + match.end == end or window[match.end] == " ")
            and _looks_like_a_phone(
                text, start + match.start, start + match.end, phonenumbers, region
            )
        ]
        for match in accepted:
            yield PrivacyFinding(
                PHONE_NUMBER, match.raw_string, start + match.start, start + match.end
            )
        if accepted:
            return


def _looks_like_a_phone(
    text: str, start: int, end: int, phonenumbers: Any, region: str
) -> bool:
    raw = text[start:end]
    if (
        _TIME_AFTER.match(text, end)
        or _DATE.search(raw)
        or _DECIMAL.fullmatch(raw)
        or _IPV4.fullmatch(raw)
        or _ODD_DOTS.search(raw)
    ):
        return False
    if raw.startswith("+"):
        return True  # written with its country code: the plan is certain
    if ")" not in raw:
        raw = raw.lstrip("(")  # "shape = (3037000500, …": a bracket, no format
    if raw.isdigit():
        # ids, counters, timestamps: a bare run needs the word on its line
        line_start, line_end = _line_bounds(text, start, end)
        return _PHONE_HINT.search(text, line_start, line_end) is not None
    # a national format: grouped as the region groups its numbers
    strict = phonenumbers.Leniency.STRICT_GROUPING
    return any(
        match.raw_string == raw
        for match in phonenumbers.PhoneNumberMatcher(raw, region, leniency=strict)
    )


# -- values that look like secrets and are not ---------------------------------

# kinds that fire on any random-looking or keyword-assigned value, so a
# digest or a placeholder lands there; vendor-format kinds are specific
_GENERIC_KINDS = frozenset(
    {
        "Secret Keyword",
        "Hex High Entropy String",
        "Base64 High Entropy String",
        "High entropy token",
        "Basic Auth Credentials",
    }
)
_HASH_WORDS = re.compile(
    r"sha|md5|digest|checksum|hash|commit|etag|integrity|fingerprint|blake|crc"
    r"|(?<![a-z])rev(?:ision)?(?![a-z])",
    re.IGNORECASE,
)
_CREDENTIAL_WORDS = re.compile(
    r"key|secret|token|pass|pwd|auth|cred|private|session|cookie", re.IGNORECASE
)
# the name a value is given: `name = "`, `"name": "`, `name: `, `name("`, `--name `
_NAME_BEFORE = re.compile(
    r"(?P<name>[A-Za-z_][\w.-]*)[\"'\]]?\s*(?::=|=>|[=:(,])?\s*[\[({]?\s*"
    r"(?:[rbuf]{0,2}[\"'`])?\s*$"
)
_DIGEST_PREFIX = re.compile(
    r"(?:sha(?:1|224|256|384|512)?|sha3-\d{3}|md5|blake2[bs]?(?:-\d+)?)[:=-]$",
    re.IGNORECASE,
)
_DIGEST_VALUE_PREFIX = re.compile(
    r"^(?:sha(?:1|224|256|384|512)?|sha3-\d{3}|md5|blake2[bs]?(?:-\d+)?)[:=-]",
    re.IGNORECASE,
)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{7,128}")
# base64 (standard or url-safe) of 16 to 64 bytes: md5 to sha512
_BASE64_DIGEST = re.compile(r"[A-Za-z0-9+/_-]{22,86}={0,2}")
_TEMPLATE = re.compile(
    r"\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_]\w*|\{\{.*\}\}|\{[A-Za-z_][\w.]*\}"
    r"|%\([^)]*\)s|%[A-Za-z_]\w*%|<[^<>]+>|\[[A-Za-z_ -]+\]"
)
_MASK = re.compile(r"[xX*•#._-]+")
_PLACEHOLDER_WORDS = re.compile(
    r"your|changeme|change[-_ ]me|replace|placeholder|example|dummy|redacted"
    r"|sample|fake|insert|xxx",
    re.IGNORECASE,
)
# the same words as whole parts of a vendor token (`sk-proj-your-key-here`),
# so that AWS's own AKIAIOSFODNN7EXAMPLE stays a key
_PLACEHOLDER_PART = re.compile(
    r"(?:^|[-_.])(?:your|here|changeme|replace|placeholder|example|dummy"
    r"|redacted|sample|fake|insert)(?:$|[-_.])",
    re.IGNORECASE,
)
_PLACEHOLDER_VALUES = frozenset(
    {"password", "passwd", "secret", "token", "apikey", "api_key", "none", "null"}
    | {"undefined", "todo", "tbd", "test", "changeit"}
)
_DATA_URI = re.compile(r";base64,$")
# base64 of the first bytes of PNG, JPEG, GIF, WebP, PDF, SVG and ICO files
_FILE_MAGIC = ("iVBORw0KGgo", "/9j/", "R0lGOD", "UklGR", "JVBERi0", "PHN2Zy", "AAABAA")


def _degenerate(value: str) -> bool:
    """``AKIAXXXXXXXXXXXXXXXX``: a prefix, then barely any characters."""
    tail = value[len(value) * 2 // 5 :]
    return len(tail) >= 4 and len(set(tail)) <= 3


def _is_placeholder(value: str) -> bool:
    value = value.strip("\"'` ")
    return bool(
        _TEMPLATE.fullmatch(value)
        or _MASK.fullmatch(value)
        or _PLACEHOLDER_WORDS.search(value)
        or value.lower() in _PLACEHOLDER_VALUES
        or _degenerate(value)
    )


def _is_digest(text: str, finding: PrivacyFinding) -> bool:
    value = finding.value
    before = text[max(0, finding.start - 80) : finding.start]
    prefix = _DIGEST_VALUE_PREFIX.match(value)
    if prefix is not None:
        value = value[prefix.end() :]
    shaped = bool(_HEX_DIGEST.fullmatch(value) or _BASE64_DIGEST.fullmatch(value))
    if not shaped:
        return False
    if prefix is not None or _DIGEST_PREFIX.search(before):
        return True
    name = _NAME_BEFORE.search(before.rsplit("\n", 1)[-1])
    return (
        name is not None
        and _HASH_WORDS.search(name["name"]) is not None
        and _CREDENTIAL_WORDS.search(name["name"]) is None
    )


def _benign_kind(text: str, finding: PrivacyFinding) -> str | None:
    """The benign kind a finding really is, or None for a real one."""
    if finding.kind in PII_KINDS or finding.kind == "Private Key":
        return None
    if finding.kind not in _GENERIC_KINDS:
        degenerate = _degenerate(finding.value)
        if degenerate or _PLACEHOLDER_PART.search(finding.value):
            return PLACEHOLDER
        return None
    if _is_placeholder(finding.value):
        return PLACEHOLDER
    before = text[max(0, finding.start - 8) : finding.start]
    if _DATA_URI.search(before) or finding.value.startswith(_FILE_MAGIC):
        return EMBEDDED_DATA
    if _is_digest(text, finding):
        return HASH_DIGEST
    return None


# -- the scanner ---------------------------------------------------------------


def _shannon_entropy(data: str) -> float:
    import math

    if not data:
        return 0.0
    counts: dict[str, int] = {}
    for char in data:
        counts[char] = counts.get(char, 0) + 1
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


@functools.lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    """Instances of every detect-secrets plugin that works on a single string."""
    try:
        from detect_secrets.core.plugins.util import (
            get_mapping_from_secret_type_to_class,
        )
    except ImportError:
        return ()
    plugins: list[Any] = []
    plugin_class: Any
    for plugin_class in get_mapping_from_secret_type_to_class().values():
        try:
            plugins.append(plugin_class())
        except TypeError:  # a plugin that needs configuration we do not have
            continue
    return tuple(plugins)


_INSTALL = "pip install 'pytest-ruvqe[cloud]'"


class PrivacyScanner:
    """Finds secrets and personal data in text that is about to leave the machine.

    ``phone_regions`` are the regions whose national formats (``(415)
    555-2671``, ``020 7946 0958``) are recognised; numbers written with their
    country code (``+44 20 7946 0958``) are found for every region.
    """

    def __init__(
        self,
        *,
        emails: bool = True,
        entropy: bool = True,
        pii: bool = True,
        phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
    ) -> None:
        self._emails = emails
        self._entropy = entropy
        self._pii = pii
        self._phone_regions = tuple(region.upper() for region in phone_regions)

    @property
    def uses_detect_secrets(self) -> bool:
        """Whether detect-secrets is installed (else only the built-in rules run)."""
        return bool(_plugins())

    @property
    def notes(self) -> tuple[str, ...]:
        """What this scanner cannot detect here, because a library is missing."""
        found = importlib.util.find_spec
        notes = []
        if found("detect_secrets") is None:
            notes.append(
                "privacy scan: detect-secrets is not installed, only the built-in "
                f"token rules find secrets ({_INSTALL})"
            )
        if self._pii and found("stdnum") is None:
            notes.append(
                "privacy scan: python-stdnum is not installed, card numbers, IBANs "
                f"and social security numbers are not detected ({_INSTALL})"
            )
        if self._pii and found("phonenumbers") is None:
            notes.append(
                "privacy scan: phonenumbers is not installed, phone numbers are "
                f"not detected ({_INSTALL})"
            )
        return tuple(notes)

    def scan(
        self, text: str, *, include_benign: bool = False
    ) -> tuple[PrivacyFinding, ...]:
        """Every sensitive span of ``text``, in order, overlapping spans merged.

        With ``include_benign``, digests, placeholders and embedded data that
        a secret rule matched are listed too, under ``BENIGN_KINDS``.
        """
        found = [
            PrivacyFinding("Private Key", m.group(), m.start(), m.end())
            for m in _PEM_BLOCK.finditer(text)
        ]
        # one pass per pattern over the whole text is many times faster than
        # every pattern on every line; only the keyword rule needs lines
        found.extend(self._scan_text(text))
        keyword = _keyword_plugin()
        if keyword is not None:
            for start, line in _lines(text):
                if _KEYWORD_HINT.search(line):
                    for value in keyword.analyze_string(line):
                        if isinstance(value, str) and len(value) >= 4:
                            found.extend(_spans(line, start, value, "Secret Keyword"))
        found.extend(_token_spans(text))
        if self._pii:
            found.extend(self._scan_pii(text))
        real: list[PrivacyFinding] = []
        benign: list[PrivacyFinding] = []
        for finding in found:
            kind = _benign_kind(text, finding)
            if kind is None:
                real.append(finding)
            else:
                benign.append(PrivacyFinding(kind, *_fields(finding)))
        merged = _merge(real)
        if not include_benign:
            return merged
        shown = [
            b
            for b in _merge(benign)
            if not any(b.start < r.end and r.start < b.end for r in merged)
        ]
        return tuple(sorted((*merged, *shown), key=lambda f: f.start))

    def _scan_pii(self, text: str) -> Iterable[PrivacyFinding]:
        # the libraries are imported only once a candidate turns up
        numeric = _NUMERIC_GATE.search(text) is not None
        if numeric or _IBAN.search(text):
            validators = _stdnum()
            if validators is not None:
                yield from _iban_spans(text, validators.iban)
                if numeric:
                    yield from _card_spans(text, validators.luhn)
                    yield from _ssn_spans(text, validators.ssn)
        if numeric and _PHONE_CANDIDATE.search(text):
            phonenumbers = _phonenumbers()
            if phonenumbers is not None:
                yield from _phone_spans(text, phonenumbers, self._phone_regions)

    def _scan_text(self, text: str) -> Iterable[PrivacyFinding]:
        credential_words = _CREDENTIAL_HINT.search(text) is not None
        for plugin in _plugins():
            kind = str(plugin.secret_type)
            limit = _ENTROPY_LIMITS.get(kind)
            if limit is not None:
                if self._entropy:
                    yield from _entropy_spans(plugin.regex, text, kind, limit)
                continue
            denylist = getattr(plugin, "denylist", None)
            if kind in _SKIPPED_KINDS or not denylist:
                continue
            if kind in _ASSIGNMENT_KINDS and not credential_words:
                continue
            yield from _regex_spans(denylist, text, 0, kind)
        if self._emails:
            for match in _EMAIL.finditer(text):
                domain = match.group().rsplit("@", 1)[1].lower()
                if not domain.endswith(_SAFE_EMAIL_DOMAINS):
                    yield PrivacyFinding(
                        EMAIL, match.group(), match.start(), match.end()
                    )
        if self._entropy:
            for match in _TOKEN_RUN.finditer(text):
                token = match.group()
                if (
                    _shannon_entropy(token) >= _UNQUOTED_ENTROPY_LIMIT
                    and any(c.isdigit() for c in token)
                    and any(c.isalpha() for c in token)
                ):
                    yield PrivacyFinding(
                        "High entropy token", token, match.start(), match.end()
                    )


def _fields(finding: PrivacyFinding) -> tuple[str, int, int]:
    return finding.value, finding.start, finding.end


@functools.lru_cache(maxsize=1)
def _keyword_plugin() -> Any:
    for plugin in _plugins():
        if plugin.secret_type == "Secret Keyword":
            return plugin
    return None


def _entropy_spans(
    regex: re.Pattern[str], text: str, kind: str, limit: float
) -> Iterable[PrivacyFinding]:
    # detect-secrets' pattern: a quote, the charset run (group 2), the same quote
    for match in regex.finditer(text):
        value = match.group(2)
        if kind == "Hex High Entropy String" and value.isdigit():
            continue  # a number: the card, SSN and phone rules judge those
        if len(value) >= 4 and _shannon_entropy(value) >= limit:
            yield PrivacyFinding(kind, value, match.start(2), match.end(2))


def _lines(text: str) -> Iterable[tuple[int, str]]:
    start = 0
    for line in text.splitlines(keepends=True):
        yield start, line
        start += len(line)


def _regex_spans(
    denylist: Iterable[re.Pattern[str]], line: str, offset: int, kind: str
) -> Iterable[PrivacyFinding]:
    for regex in denylist:
        for match in regex.finditer(line):
            # the widest group that looks like a secret, else the whole match
            start, end = match.span()
            for index in range(1, (regex.groups or 0) + 1):
                g_start, g_end = match.span(index)
                if g_start >= 0 and g_end - g_start >= _MIN_GROUP:
                    start, end = g_start, g_end
                    break
            if end > start:
                yield PrivacyFinding(
                    kind, line[start:end], offset + start, offset + end
                )


def _spans(line: str, offset: int, value: str, kind: str) -> Iterable[PrivacyFinding]:
    index = line.find(value)
    while index >= 0:
        yield PrivacyFinding(kind, value, offset + index, offset + index + len(value))
        index = line.find(value, index + len(value))


def _rank(kind: str) -> int:
    """How specifically a kind names a value: 0 names it best."""
    if kind in _OWN_KINDS:
        return 0
    if kind in _GENERIC_KINDS:
        return 3
    # detect-secrets' vendor kinds; IBM's pattern makes the vendor optional
    return 2 if kind == "IBM Cloud IAM Key" else 1


def _merge(found: list[PrivacyFinding]) -> tuple[PrivacyFinding, ...]:
    """One finding per run of overlapping spans, so redaction is contiguous.

    The merged span is the union; its kind is the most specific of the run (a
    vendor's token or a card number rather than an entropy rule that matched
    the same characters).
    """
    ordered = sorted(found, key=lambda f: (f.start, -(f.end - f.start), _rank(f.kind)))
    merged: list[PrivacyFinding] = []
    for finding in ordered:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, finding.kind, key=_rank)
            value = last.value + finding.value[last.end - finding.start :]
            merged[-1] = PrivacyFinding(
                kind, value, last.start, max(last.end, finding.end)
            )
            continue
        merged.append(finding)
    return tuple(merged)


def _placeholder_kind(kind: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", kind.upper()).strip("_")


def redact(
    text: str,
    findings: Iterable[PrivacyFinding],
    assigned: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """Replace each finding by a stable placeholder such as ``<SECRET_KEYWORD_1>``.

    The same value always gets the same placeholder within one text, and the
    numbering follows the order of first appearance, so the result is
    deterministic. Pass the same ``assigned`` dict (value → placeholder) to keep
    placeholders stable across the messages of one request. The returned
    mapping (placeholder → original) stays local.
    """
    by_value: dict[str, str] = {} if assigned is None else assigned
    counters: dict[str, int] = {}
    for placeholder in by_value.values():
        kind, _, number = placeholder.strip("<>").rpartition("_")
        counters[kind] = max(counters.get(kind, 0), int(number))
    pieces: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < cursor:
            continue
        if finding.value not in by_value:
            kind = _placeholder_kind(finding.kind)
            counters[kind] = counters.get(kind, 0) + 1
            by_value[finding.value] = f"<{kind}_{counters[kind]}>"
        placeholder = by_value[finding.value]
        pieces.append(text[cursor : finding.start])
        pieces.append(placeholder)
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces), {p: v for v, p in by_value.items()}
