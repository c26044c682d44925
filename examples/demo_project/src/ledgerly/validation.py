"""Validation of identifiers found on invoices."""

from __future__ import annotations

import re

_EMAIL = re.compile(
    r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
IBAN_LENGTHS = {"DE": 22, "FR": 27, "GB": 22, "NL": 18, "ES": 24, "IT": 27, "BE": 16}
VAT_PATTERNS = {
    "DE": re.compile(r"^DE\d{9}$"),
    "FR": re.compile(r"^FR[0-9A-Z]{2}\d{9}$"),
    "NL": re.compile(r"^NL\d{9}B\d{2}$"),
    "GB": re.compile(r"^GB(\d{9}|\d{12})$"),
}


class ValidationError(ValueError):
    """Raised when a value is not valid; the message says why."""


def normalize_iban(iban: str) -> str:
    """Upper-case and strip spaces."""
    return iban.replace(" ", "").upper()


def validate_iban(iban: str) -> str:
    """Return the normalised IBAN or raise ValidationError."""
    value = normalize_iban(iban)
    if len(value) < 4 or not value[:2].isalpha() or not value[2:4].isdigit():
        raise ValidationError("IBAN must start with a country code and check digits")
    country = value[:2]
    expected = IBAN_LENGTHS.get(country)
    if expected is None:
        raise ValidationError(f"unsupported IBAN country {country}")
    if len(value) != expected:
        raise ValidationError(f"{country} IBAN must have {expected} characters")
    if not value.isalnum():
        raise ValidationError("IBAN may contain only letters and digits")
    rearranged = value[4:] + value[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    if int(digits) % 97 != 1:
        raise ValidationError("IBAN check digits do not match")
    return value


def validate_email(address: str) -> str:
    """Return the address lower-cased or raise ValidationError."""
    value = address.strip()
    if value.count("@") != 1:
        raise ValidationError("an e-mail address has exactly one @")
    if len(value) > 254:
        raise ValidationError("e-mail address too long")
    if not _EMAIL.match(value):
        raise ValidationError(f"not an e-mail address: {address!r}")
    local, domain = value.split("@")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValidationError("misplaced dot in the local part")
    return f"{local}@{domain.lower()}"


def validate_vat_id(vat_id: str) -> str:
    """Return the normalised EU/UK VAT id or raise ValidationError."""
    value = vat_id.replace(" ", "").replace(".", "").upper()
    country = value[:2]
    pattern = VAT_PATTERNS.get(country)
    if pattern is None:
        raise ValidationError(f"unsupported VAT country {country!r}")
    if not pattern.match(value):
        raise ValidationError(f"malformed {country} VAT id")
    return value


def luhn_valid(number: str) -> bool:
    """Luhn checksum, as used for card and some customer numbers."""
    digits = [int(ch) for ch in number if ch.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
