"""Business-date arithmetic for due dates and billing periods."""

from __future__ import annotations

import datetime as dt

WEEKEND = (5, 6)


class DateError(ValueError):
    """Raised for dates that cannot be parsed or computed."""


def parse_date(text: str) -> dt.date:
    """Parse ``2024-03-01``, ``01.03.2024`` or ``03/01/2024`` (US order)."""
    s = text.strip()
    try:
        if "-" in s:
            year, month, day = (int(p) for p in s.split("-"))
        elif "." in s:
            day, month, year = (int(p) for p in s.split("."))
        elif "/" in s:
            month, day, year = (int(p) for p in s.split("/"))
        else:
            raise DateError(f"unknown date format: {text!r}")
        if year < 100:
            year += 2000
        return dt.date(year, month, day)
    except ValueError as exc:
        if isinstance(exc, DateError):
            raise
        raise DateError(f"invalid date {text!r}: {exc}") from None


def is_business_day(day: dt.date, holidays: frozenset[dt.date] = frozenset()) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() not in WEEKEND and day not in holidays


def add_business_days(
    start: dt.date, days: int, holidays: frozenset[dt.date] = frozenset()
) -> dt.date:
    """The date ``days`` business days after (or before, if negative) ``start``."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    while remaining:
        current += dt.timedelta(days=step)
        if is_business_day(current, holidays):
            remaining -= 1
    return current


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, clamped to the end of shorter months."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if year < 1:
        raise DateError("date out of range")
    last = _days_in_month(year, month)
    return dt.date(year, month, min(day.day, last))


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def due_date(issued: dt.date, terms: str) -> dt.date:
    """Due date from terms: ``net 30``, ``eom``, ``15 bd`` or ``due on receipt``."""
    t = terms.lower().strip()
    if t in ("due on receipt", "immediate"):
        return issued
    if t == "eom":
        return dt.date(
            issued.year, issued.month, _days_in_month(issued.year, issued.month)
        )
    parts = t.split()
    if len(parts) == 2 and parts[0] == "net" and parts[1].isdigit():
        return issued + dt.timedelta(days=int(parts[1]))
    if len(parts) == 2 and parts[1] == "bd" and parts[0].isdigit():
        return add_business_days(issued, int(parts[0]))
    raise DateError(f"unknown payment terms: {terms!r}")


def overlap_days(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> int:
    """Days two inclusive periods share (0 if they do not overlap)."""
    for start, end in (a, b):
        if end < start:
            raise DateError(f"period ends before it starts: {start} > {end}")
    start = max(a[0], b[0])
    end = min(a[1], b[1])
    if end < start:
        return 0
    return (end - start).days + 1
