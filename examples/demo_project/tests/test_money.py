import pytest
from ledgerly.money import Money, MoneyError, parse_amount


def test_add_same_currency():
    assert Money(150) + Money(250) == Money(400)


def test_add_mixed_currency_fails():
    with pytest.raises(MoneyError):
        Money(1, "EUR") + Money(1, "USD")


def test_parse_plain_amount():
    assert parse_amount("1,234.50") == Money(123450)


def test_parse_negative_in_parentheses():
    assert parse_amount("(12.00)") == Money(-1200)


def test_format_euro():
    assert Money(123450).format() == "€1,234.50"


def test_allocate_keeps_total():
    parts = Money(100).allocate([1, 1, 1])
    assert [p.minor for p in parts] == [34, 33, 33]
