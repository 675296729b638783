"""How every date and instant reads on a page, in an e-mail or in a message: one style each.

- A calendar date: ``2 December 2026`` (GOV.UK style: day without a leading zero, month
  in full, no weekday). Dates have no zone: a due date is a day in the call's calendar.
- An instant: ``2 December 2026, 7:22 AM CST``: the clock people read in the call's zone
  (or the funder's, for things that belong to no call), always with the zone's abbreviation.

In Spanish (grants.core.i18n) the same two styles read ``2 de diciembre de 2026`` and
``2 de diciembre de 2026, 7:22 p.m. CST``, from the CLDR data Babel carries.

Templates use the ``date`` and ``in_zone`` filters (and ``when`` for the funder's zone);
Python code calls these functions. Nothing else formats a date for people to read, so a
page never shows two styles in one line and no text depends on the day of the month.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date as cldr_date
from babel.dates import format_time as cldr_time
from flask_babel import get_locale

from grants.core.timezones import in_zone

EMPTY = "—"


def format_date(day: date | datetime | str | None, *, with_year: bool = True, empty: str = EMPTY) -> str:
    """``2 December 2026`` (``2 December`` without the year).

    Also takes the ISO text a date is kept as in an audit event's details.
    """
    if day is None or day == "":
        return empty
    if isinstance(day, str):
        day = date.fromisoformat(day)
    if isinstance(day, datetime):
        day = day.date()
    locale = _spanish_locale()
    if locale is not None:
        return cldr_date(day, "d 'de' MMMM 'de' y" if with_year else "d 'de' MMMM", locale=locale)
    text = f"{day.day} {day:%B}"
    return f"{text} {day.year}" if with_year else text


def _spanish_locale():
    """The locale to format with when the page or e-mail being rendered is in Spanish; None
    for English, which keeps its own style (CLDR's English is "December 2, 2026")."""
    locale = get_locale()
    return locale if locale is not None and locale.language == "es" else None


def format_clock(instant: datetime, zone_name: str, *, seconds: bool = False) -> str:
    """``7:22 AM CST``: a 12-hour clock with the zone's abbreviation at that instant."""
    local = in_zone(instant, zone_name)
    locale = _spanish_locale()
    if locale is not None:
        return f"{cldr_time(local, 'h:mm:ss a' if seconds else 'h:mm a', locale=locale)} {local:%Z}"
    minutes = f"{local.minute:02d}:{local.second:02d}" if seconds else f"{local.minute:02d}"
    return f"{local.hour % 12 or 12}:{minutes} {'AM' if local.hour < 12 else 'PM'} {local:%Z}"


def format_instant(instant: datetime | None, zone_name: str, *, with_date: bool = True,
                   seconds: bool = False, empty: str = EMPTY) -> str:
    """``2 December 2026, 7:22 AM CST``; only the clock with ``with_date=False``."""
    if instant is None:
        return empty
    clock = format_clock(instant, zone_name, seconds=seconds)
    if not with_date:
        return clock
    return f"{format_date(in_zone(instant, zone_name).date())}, {clock}"
