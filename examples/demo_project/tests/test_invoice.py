import datetime as dt

from ledgerly.invoice import Invoice, LineItem
from ledgerly.money import Money


def make_invoice():
    invoice = Invoice("2024-001", dt.date(2024, 3, 1))
    invoice.add(LineItem("consulting", 2, Money(10000)))
    invoice.add(LineItem("book", 1, Money(2000), tax_class="reduced"))
    return invoice


def test_subtotal():
    assert make_invoice().subtotal() == Money(22000)


def test_total_includes_tax():
    assert make_invoice().total() == Money(22000 + 3800 + 140)
