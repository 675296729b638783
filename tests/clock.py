"""Runs the whole suite with the clock moved to a day that breaks calendar assumptions.

``GRANTS_TEST_CLOCK`` (or ``pytest --clock``) names where the clock starts; it then ticks
on from there, so timeouts and ordering behave as usual:

- ``early-month``: 23:30 in Chicago on the 1st of next month (already the 2nd in UTC):
  a single-digit day, and local and UTC dates that differ;
- ``month-end``: 22:00 in Chicago on the last day of this month (next month in UTC);
- ``dst-change``: 00:30 in Chicago on the next day its clocks change, so anything a day
  or more ahead (deadlines, due dates) lies across the change;
- an ISO 8601 instant with an offset, e.g. ``2027-03-14T01:30:00-06:00``.

The presets are worked out from today, so they always lie ahead: cookies and signed links
the app dates by its clock stay valid to the browser and to the S3 servers, which keep
real time. A test that depends on the calendar fails on these runs, not on some day of
some month (CI runs all three, see .ci/run).
"""

from __future__ import annotations

import os
from calendar import monthrange
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

# The zone calls start in (CALL_DEFAULT_TIME_ZONE) and the demo's calls use.
ZONE = ZoneInfo("America/Chicago")
PRESETS = ("early-month", "month-end", "dst-change")
STARTED_AT = pytest.StashKey[datetime]()
_TRAVELLER = pytest.StashKey[object]()


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZONE)


def early_month(today: date) -> datetime:
    first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return _at(first_of_next, time(23, 30))


def month_end(today: date) -> datetime:
    last = today.replace(day=monthrange(today.year, today.month)[1])
    if last == today:  # already the last day: take next month's, so it lies ahead
        following = last + timedelta(days=1)
        last = following.replace(day=monthrange(following.year, following.month)[1])
    return _at(last, time(22, 0))


def next_clock_change(today: date) -> date:
    """The next day (after today) on which the zone's UTC offset changes."""
    day = today + timedelta(days=1)
    while True:
        if _at(day, time(0)).utcoffset() != _at(day + timedelta(days=1), time(0)).utcoffset():
            return day
        day += timedelta(days=1)


def dst_change(today: date) -> datetime:
    return _at(next_clock_change(today), time(0, 30))


def resolve(value: str, today: date) -> datetime:
    presets = {"early-month": early_month, "month-end": month_end, "dst-change": dst_change}
    if value in presets:
        return presets[value](today)
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"GRANTS_TEST_CLOCK={value!r}: give the offset too (e.g. -06:00), or one of "
                         f"{', '.join(PRESETS)}")
    return instant


def start(config) -> None:
    """Moves the clock for the whole run if GRANTS_TEST_CLOCK or --clock asks to."""
    value = config.getoption("clock", None) or os.environ.get("GRANTS_TEST_CLOCK", "")
    if not value:
        return
    import time_machine

    destination = resolve(value, date.today())
    traveller = time_machine.travel(destination, tick=True)
    traveller.start()
    config.stash[STARTED_AT] = destination
    config.stash[_TRAVELLER] = traveller


def stop(config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def report_header(config) -> str | None:
    started = config.stash.get(STARTED_AT, None)
    return f"clock moved to {started.isoformat()} ({started.tzinfo})" if started else None
