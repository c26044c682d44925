import datetime as dt

from ledgerly.dates import add_business_days, add_months, parse_date


def test_parse_iso():
    assert parse_date("2024-03-01") == dt.date(2024, 3, 1)


def test_add_business_days_skips_weekend():
    friday = dt.date(2024, 3, 1)
    assert add_business_days(friday, 1) == dt.date(2024, 3, 4)


def test_add_months_clamps():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
