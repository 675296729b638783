"""The suite's moved clock (tests/clock.py) lands where each preset promises."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from grants.core.types import utcnow
from tests import clock


@pytest.mark.parametrize("today", [date(2026, 12, 2), date(2027, 1, 31), date(2027, 2, 28), date(2028, 2, 29)])
def test_presets_lie_ahead_of_today(today):
    for preset in clock.PRESETS:
        assert clock.resolve(preset, today).date() > today


def test_early_month_is_a_single_digit_day_whose_utc_date_is_the_next():
    instant = clock.early_month(date(2026, 12, 2))
    assert instant.date() == date(2027, 1, 1)
    assert instant.astimezone(timezone.utc).date() == date(2027, 1, 2)


def test_month_end_is_the_last_day_and_already_next_month_in_utc():
    assert clock.month_end(date(2026, 12, 2)).date() == date(2026, 12, 31)
    assert clock.month_end(date(2026, 12, 31)).date() == date(2027, 1, 31)
    assert clock.month_end(date(2027, 2, 1)).astimezone(timezone.utc).date() == date(2027, 3, 1)


def test_dst_change_is_the_next_day_chicago_changes_its_clocks():
    assert clock.next_clock_change(date(2026, 12, 2)) == date(2027, 3, 14)
    assert clock.next_clock_change(date(2027, 3, 14)) == date(2027, 11, 7)
    start = clock.dst_change(date(2026, 12, 2))
    assert start.utcoffset() != (start + timedelta(days=1)).utcoffset()


def test_an_instant_needs_its_offset():
    assert clock.resolve("2027-03-14T01:30:00-06:00", date(2026, 12, 2)) == \
        datetime(2027, 3, 14, 7, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="offset"):
        clock.resolve("2027-03-14T01:30:00", date(2026, 12, 2))


def test_the_app_clock_follows_the_moved_clock(pytestconfig):
    start = pytestconfig.stash.get(clock.STARTED_AT, None)
    if start is None:
        pytest.skip("the clock is not moved in this run (set GRANTS_TEST_CLOCK)")
    # It ticks on from where it was moved: minutes later at most, never the real day.
    assert timedelta(0) <= utcnow() - start < timedelta(hours=1)
