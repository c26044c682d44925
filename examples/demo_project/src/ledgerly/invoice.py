"""Invoices: line items, discounts, tax and totals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ledgerly.dates import due_date
from ledgerly.money import Money, MoneyError

TAX_RATES = {"standard": 0.19, "reduced": 0.07, "zero": 0.0}


class InvoiceError(ValueError):
    """Raised for inconsistent invoices."""


@dataclass(frozen=True)
class LineItem:
    """One line: quantity times unit price, with a tax class."""

    description: str
    quantity: int
    unit_price: Money
    tax_class: str = "standard"

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvoiceError("quantity must be positive")
        if self.tax_class not in TAX_RATES:
            raise InvoiceError(f"unknown tax class {self.tax_class!r}")
        if not self.description.strip():
            raise InvoiceError("a line item needs a description")

    @property
    def net(self) -> Money:
        return Money(self.unit_price.minor * self.quantity, self.unit_price.currency)


@dataclass
class Invoice:
    """An invoice in one currency."""

    number: str
    issued: dt.date
    currency: str = "EUR"
    terms: str = "net 30"
    items: list[LineItem] = field(default_factory=list)
    discount_pct: float = 0.0

    def add(self, item: LineItem) -> None:
        """Add a line item of the invoice's currency."""
        if item.unit_price.currency != self.currency:
            raise InvoiceError(
                f"item in {item.unit_price.currency}, invoice in {self.currency}"
            )
        self.items.append(item)

    def subtotal(self) -> Money:
        total = Money(0, self.currency)
        for item in self.items:
            total = total + item.net
        return total

    def discount(self) -> Money:
        """The discount on the subtotal; bulk orders over 100 units get 2% more."""
        if not 0 <= self.discount_pct <= 50:
            raise InvoiceError("discount must be between 0 and 50 percent")
        pct = self.discount_pct
        if sum(i.quantity for i in self.items) > 100:
            pct += 2
        return self.subtotal().multiply(pct / 100, rounding="down")

    def tax(self) -> Money:
        """Tax per class on the discounted net, rounded once per class."""
        if not self.items:
            return Money(0, self.currency)
        subtotal = self.subtotal()
        factor = 1.0
        if subtotal.minor:
            factor = 1 - self.discount().minor / subtotal.minor
        total = Money(0, self.currency)
        for tax_class, rate in TAX_RATES.items():
            net = sum(i.net.minor for i in self.items if i.tax_class == tax_class)
            if net and rate:
                total = total + Money(net, self.currency).multiply(factor * rate)
        return total

    def total(self) -> Money:
        return self.subtotal() - self.discount() + self.tax()

    def due(self) -> dt.date:
        return due_date(self.issued, self.terms)

    def status(self, today: dt.date, paid: Money | None = None) -> str:
        """``paid``, ``partial``, ``overdue`` or ``open``."""
        try:
            total = self.total()
            if paid is not None and paid.minor >= total.minor:
                return "paid"
            if paid is not None and paid.minor > 0:
                return "partial"
        except MoneyError as exc:
            raise InvoiceError(f"payment in wrong currency: {exc}") from None
        return "overdue" if today > self.due() else "open"


def render_lines(invoice: Invoice) -> list[str]:
    """Plain-text lines of the invoice, for e-mails."""
    lines = [f"Invoice {invoice.number} of {invoice.issued.isoformat()}"]
    for item in invoice.items:
        lines.append(f"{item.quantity} x {item.description}: {item.net.format()}")
    if invoice.discount().minor:
        lines.append(f"Discount: -{invoice.discount().format()}")
    lines.append(f"Tax: {invoice.tax().format()}")
    lines.append(f"Total: {invoice.total().format()}")
    lines.append(f"Due: {invoice.due().isoformat()}")
    return lines
