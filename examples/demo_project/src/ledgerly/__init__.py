"""ledgerly: money, dates, validation and invoices."""

from ledgerly.money import Money, parse_amount

__all__ = ["Money", "parse_amount"]
