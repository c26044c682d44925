import pytest
from ledgerly.validation import ValidationError, validate_email, validate_iban


def test_valid_iban():
    assert validate_iban("DE89 3704 0044 0532 0130 00") == "DE89370400440532013000"


def test_iban_bad_checksum():
    with pytest.raises(ValidationError):
        validate_iban("DE89370400440532013001")


def test_email_lowercases_domain():
    assert validate_email("Ann@Example.COM") == "Ann@example.com"
