"""Amounts of money: whole cents in the database (exact on every backend), dollars on screen."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CURRENCY_SYMBOL = "$"


def format_money(cents: int | None, *, symbol: bool = True, empty: str = "—") -> str:
    """``25000050`` → ``$250,000.50``; whole amounts without cents (``$250,000``)."""
    if cents is None:
        return empty
    dollars, rest = divmod(abs(cents), 100)
    text = f"{dollars:,}" + (f".{rest:02d}" if rest else "")
    return ("-" if cents < 0 else "") + (CURRENCY_SYMBOL if symbol else "") + text


def parse_money(text: str) -> int:
    """``"$250,000"`` or ``"250000.50"`` → whole cents. Raises ValueError with a message for people."""
    cleaned = text.strip().replace(CURRENCY_SYMBOL, "").replace(",", "").replace(" ", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount in dollars, for example 250,000 or 1,500.50.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("Enter an amount of zero or more.")
    # Before quantizing: "1E26" to two places needs more digits than Decimal's precision
    # and would raise InvalidOperation instead of answering.
    if amount >= Decimal(10) ** 13:
        raise ValueError("That amount is too large.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Enter at most two digits after the decimal point.")
    return int(amount * 100)
