"""Local dates and times in a call's time zone, and the instants they stand for."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from grants.core.timezones import is_valid_zone, local_instant, zone_label


def test_local_instant_converts_chicago_clock_time_to_utc_in_winter_and_summer():
    winter = local_instant(date(2027, 1, 15), time(17), "America/Chicago")
    summer = local_instant(date(2027, 7, 15), time(17), "America/Chicago")
    assert winter == datetime(2027, 1, 15, 23, tzinfo=timezone.utc)  # CST, UTC-6
    assert summer == datetime(2027, 7, 15, 22, tzinfo=timezone.utc)  # CDT, UTC-5


def test_local_instant_refuses_the_hour_clocks_skip():
    with pytest.raises(ValueError, match="does not exist"):
        local_instant(date(2027, 3, 14), time(2, 30), "America/Chicago")


def test_local_instant_takes_the_first_of_a_repeated_hour():
    # 1:30 happens twice on 7 November 2027 in Chicago: first in CDT (UTC-5).
    assert local_instant(date(2027, 11, 7), time(1, 30), "America/Chicago").hour == 6


@pytest.mark.parametrize("name, valid", [("America/Chicago", True), ("UTC", True), ("Mars/Base", False),
                                         ("", False), ("../etc/passwd", False)])
def test_is_valid_zone(name, valid):
    assert is_valid_zone(name) is valid


def test_zone_label_names_common_zones_in_words():
    assert zone_label("America/Chicago") == "Central Time (America/Chicago)"
    assert zone_label("Europe/Paris") == "Europe/Paris"
