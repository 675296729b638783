"""Local dates and times in a named (IANA) time zone, for instants stored in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from grants.core.types import utcnow

# Offered first in time-zone choices: where this programme's applicants are.
COMMON_ZONES = {
    "America/New_York": "Eastern Time",
    "America/Chicago": "Central Time",
    "America/Denver": "Mountain Time",
    "America/Phoenix": "Mountain Time, no daylight saving (Arizona)",
    "America/Los_Angeles": "Pacific Time",
    "America/Anchorage": "Alaska Time",
    "Pacific/Honolulu": "Hawaii Time",
    "UTC": "Coordinated Universal Time",
}


@lru_cache(maxsize=1)
def all_zone_names() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def zone_label(name: str) -> str:
    """``Central Time (America/Chicago)``; other zones by their name."""
    return f"{COMMON_ZONES[name]} ({name})" if name in COMMON_ZONES else name.replace("_", " ")


def is_valid_zone(name: str) -> bool:
    if not name or name not in all_zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_instant(day: date, at: time, zone_name: str) -> datetime:
    """The instant (UTC) at which clocks in ``zone_name`` show ``day`` ``at``.

    Raises ValueError for a time the zone skips (the hour clocks go forward). Of a time that
    happens twice (clocks go back), the first is taken.
    """
    zone = ZoneInfo(zone_name)
    local = datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=zone)
    instant = local.astimezone(timezone.utc)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        from grants.core.dates import format_date  # dates builds on this module

        raise ValueError(f"{at:%H:%M} does not exist on {format_date(day)} in {zone_name}: the clocks go "
                         "forward that night. Choose another time.")
    return instant


def in_zone(instant: datetime | None, zone_name: str) -> datetime | None:
    return instant.astimezone(ZoneInfo(zone_name)) if instant is not None else None


def local_today(call, now: datetime | None = None) -> date:
    """The date the call's clocks show: due dates are days in the call's time zone."""
    return in_zone(now or utcnow(), call.time_zone).date()
