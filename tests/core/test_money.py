"""Money typed in dollars, kept in whole cents."""

from __future__ import annotations

import pytest

from grants.core.money import format_money, parse_money


@pytest.mark.parametrize("typed, cents", [
    ("250000", 25_000_000), ("$250,000", 25_000_000), (" 1,500.5 ", 150_050), ("0", 0), ("12.34", 1_234),
])
def test_parse_money_reads_dollars_as_people_type_them(typed, cents):
    assert parse_money(typed) == cents


@pytest.mark.parametrize("typed, message", [
    ("lots", "Enter an amount in dollars"), ("-5", "zero or more"), ("1.005", "two digits"),
    ("NaN", "zero or more"), ("1e20", "too large"), ("1E26", "too large"), ("9" * 400, "too large"),
    ("10000000000000", "too large"),
])
def test_parse_money_refuses_what_is_not_an_amount(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_money(typed)


@pytest.mark.parametrize("cents, shown", [(25_000_000, "$250,000"), (150_050, "$1,500.50"), (5, "$0.05"),
                                          (None, "—")])
def test_format_money_shows_dollars_without_needless_cents(cents, shown):
    assert format_money(cents) == shown
