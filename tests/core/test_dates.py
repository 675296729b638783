"""One style for dates, one for instants, on every page, e-mail and message."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from grants.core.dates import format_date, format_instant

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("day, text", [
    (date(2026, 12, 2), "2 December 2026"),  # no leading zero on days 1-9
    (date(2027, 1, 31), "31 January 2027"),
    (datetime(2027, 3, 9, 23, 59), "9 March 2027"),
    ("2027-11-07", "7 November 2027"),  # a date kept as text in an audit event
])
def test_format_date_is_day_month_year_without_leading_zero(day, text):
    assert format_date(day) == text


def test_format_date_without_year_and_when_empty():
    assert format_date(date(2026, 12, 2), with_year=False) == "2 December"
    assert format_date(None) == "—"
    assert format_date("", empty="Not set") == "Not set"


def test_format_instant_shows_the_call_clock_and_zone_abbreviation():
    instant = datetime(2027, 1, 15, 23, tzinfo=timezone.utc)
    assert format_instant(instant, "America/Chicago") == "15 January 2027, 5:00 PM CST"
    assert format_instant(instant, "America/Chicago", with_date=False) == "5:00 PM CST"
    assert format_instant(instant, "UTC", seconds=True) == "15 January 2027, 11:00:00 PM UTC"
    assert format_instant(None, "America/Chicago") == "—"


def test_format_instant_takes_the_local_date_not_the_utc_one():
    # 03:30 UTC on 2 December is still 1 December in Chicago.
    assert format_instant(datetime(2026, 12, 2, 3, 30, tzinfo=timezone.utc), "America/Chicago") == \
        "1 December 2026, 9:30 PM CST"


def test_format_instant_across_a_daylight_saving_change():
    # Chicago moves from CDT to CST at 2 AM local on 1 November 2026.
    before = datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)
    after = datetime(2026, 11, 1, 7, 30, tzinfo=timezone.utc)
    assert format_instant(before, "America/Chicago") == "1 November 2026, 1:30 AM CDT"
    assert format_instant(after, "America/Chicago") == "1 November 2026, 1:30 AM CST"


# strftime-style directives for a reader's date ("%d %B", "%b %Y") written anywhere but in
# grants/core/dates.py: each is a second date style waiting to disagree with the first.
READER_DATE = re.compile(r"%-?d %[bB]|%[bB] %Y|\.strftime\(")
ALLOWED = {
    # machine-readable timestamps in CSV exports, not text for people
    ("grants/applications/intake_views.py", '.strftime("%Y-%m-%dT%H:%M:%SZ")'),
}


def _sources():
    for folder, patterns in (("grants", ("*.py",)), ("templates", ("*.html", "*.txt"))):
        for pattern in patterns:
            for path in (REPO / folder).rglob(pattern):
                if path.name != "dates.py":
                    yield path


def test_no_page_email_or_message_formats_a_date_by_itself():
    offenders = []
    for path in _sources():
        relative = path.relative_to(REPO).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if READER_DATE.search(line) and not any(relative == file and snippet in line
                                                    for file, snippet in ALLOWED):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, ("format dates with grants.core.dates (the |date and |in_zone filters in "
                           "templates):\n" + "\n".join(offenders))
