"""Exact money arithmetic in minor units (cents)."""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY_DIGITS = {"EUR": 2, "USD": 2, "GBP": 2, "JPY": 0, "KWD": 3}


class MoneyError(ValueError):
    """Raised for invalid amounts or mixed currencies."""


@dataclass(frozen=True, order=True)
class Money:
    """An amount of one currency, stored as an integer of minor units."""

    minor: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.currency not in CURRENCY_DIGITS:
            raise MoneyError(f"unknown currency {self.currency!r}")

    @property
    def digits(self) -> int:
        return CURRENCY_DIGITS[self.currency]

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.minor - other.minor, self.currency)

    def multiply(self, factor: float, rounding: str = "half_even") -> Money:
        """Multiply by a factor, rounding to the nearest minor unit."""
        raw = self.minor * factor
        whole = int(raw)
        frac = abs(raw - whole)
        sign = 1 if raw >= 0 else -1
        if rounding == "down":
            result = whole
        elif rounding == "up":
            result = whole + sign if frac > 1e-9 else whole
        elif rounding == "half_even":
            if abs(frac - 0.5) < 1e-9:
                result = whole + sign if whole % 2 else whole
            elif frac > 0.5:
                result = whole + sign
            else:
                result = whole
        else:
            raise MoneyError(f"unknown rounding {rounding!r}")
        return Money(result, self.currency)

    def allocate(self, ratios: list[int]) -> list[Money]:
        """Split into parts by ratio; leftover minor units go to the first parts."""
        if not ratios or any(r < 0 for r in ratios):
            raise MoneyError("ratios must be non-negative and not empty")
        total = sum(ratios)
        if total == 0:
            raise MoneyError("ratios must not all be zero")
        shares = [self.minor * r // total for r in ratios]
        remainder = self.minor - sum(shares)
        for i in range(remainder):
            shares[i % len(shares)] += 1
        return [Money(s, self.currency) for s in shares]

    def format(self, symbol: bool = True) -> str:
        """Human form, e.g. ``€1,234.50`` or ``-12.00 USD``."""
        sign = "-" if self.minor < 0 else ""
        units, cents = divmod(abs(self.minor), 10**self.digits)
        body = f"{units:,}"
        if self.digits:
            body += "." + str(cents).zfill(self.digits)
        symbols = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
        if symbol and self.currency in symbols:
            return f"{sign}{symbols[self.currency]}{body}"
        return f"{sign}{body} {self.currency}"


def parse_amount(text: str, currency: str = "EUR") -> Money:
    """Parse ``"1,234.50"``, ``"-3"``, ``"(12.00)"`` or ``"1.234,50"`` into Money."""
    if currency not in CURRENCY_DIGITS:
        raise MoneyError(f"unknown currency {currency!r}")
    s = text.strip().replace(" ", "")
    if not s:
        raise MoneyError("empty amount")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    elif s.startswith("+"):
        s = s[1:]
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        s = head.replace(",", "") + ("." + tail if len(tail) != 3 else tail)
    units, _, frac = s.partition(".")
    if not units.isdigit() or (frac and not frac.isdigit()):
        raise MoneyError(f"not an amount: {text!r}")
    digits = CURRENCY_DIGITS[currency]
    if len(frac) > digits:
        raise MoneyError(f"too many decimals for {currency}: {text!r}")
    minor = int(units) * 10**digits + int(frac.ljust(digits, "0") or 0)
    return Money(-minor if negative else minor, currency)
