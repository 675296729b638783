"""What a call computes from its dates, and the rules the database itself enforces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from grants.calls.enums import CallPhase, CallStatus
from grants.calls.models import Call, MilestoneTemplate, RubricCriterion
from grants.extensions import db
from tests.calls.factories import CHICAGO, chicago

MINUTE = timedelta(minutes=1)


@pytest.fixture
def winter_call(officer):
    """Opens 9:00 and closes 17:00 on Chicago's clocks (CST, UTC-6)."""
    return Call(title="Winter call", time_zone=CHICAGO, opens_at=chicago(2027, 1, 4, 9),
                closes_at=chicago(2027, 1, 15, 17))


def test_phase_is_upcoming_until_the_opening_minute(winter_call):
    assert winter_call.opens_at.hour == 15  # 9:00 CST is 15:00 UTC
    assert winter_call.phase(winter_call.opens_at - MINUTE) is CallPhase.UPCOMING
    assert winter_call.phase(winter_call.opens_at) is CallPhase.OPEN


def test_phase_is_closed_from_the_closing_minute_in_the_call_zone(winter_call):
    assert winter_call.closes_at.hour == 23  # 17:00 CST is 23:00 UTC
    assert winter_call.phase(chicago(2027, 1, 15, 16, 59)) is CallPhase.OPEN
    assert winter_call.is_open(chicago(2027, 1, 15, 16, 59))
    assert winter_call.phase(chicago(2027, 1, 15, 17, 0)) is CallPhase.CLOSED
    assert not winter_call.is_open(chicago(2027, 1, 15, 17, 0))


def test_phase_follows_daylight_saving_time():
    summer = Call(title="Summer call", time_zone=CHICAGO, opens_at=chicago(2027, 6, 1, 9),
                  closes_at=chicago(2027, 7, 15, 17))
    assert summer.closes_at.hour == 22  # 17:00 CDT is 22:00 UTC
    assert summer.phase(chicago(2027, 7, 15, 16, 59)) is CallPhase.OPEN
    assert summer.phase(chicago(2027, 7, 15, 17)) is CallPhase.CLOSED


def test_phase_is_unknown_without_dates():
    assert Call(title="Draft", time_zone=CHICAGO).phase() is None


def test_days_until_counts_calendar_days_on_the_call_clocks(winter_call):
    # 23:30 on the 14th in Chicago is already the 15th in UTC: the deadline is still "tomorrow".
    late_evening = chicago(2027, 1, 14, 23, 30)
    assert late_evening.day == 15
    assert winter_call.days_until(winter_call.closes_at, late_evening) == 1
    assert winter_call.days_until(winter_call.closes_at, chicago(2027, 1, 15, 0, 30)) == 0
    assert winter_call.days_until(winter_call.closes_at, chicago(2027, 1, 5, 12)) == 10


def _refused_by_database(obj) -> bool:
    try:
        with db.session.begin_nested():
            db.session.add(obj)
            db.session.flush()
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("fields", [
    {"award_floor_cents": 300, "award_ceiling_cents": 200},
    {"award_ceiling_cents": 300, "total_funds_cents": 200},
    {"award_floor_cents": -1},
    {"opens_at": chicago(2027, 2, 1), "closes_at": chicago(2027, 1, 1)},
    {"min_community_share_percent": 101},
    {"min_partners": -1},
    {"expected_awards": 0},
    {"status": CallStatus.PUBLISHED},  # published without dates
], ids=["floor-above-ceiling", "ceiling-above-total", "negative-floor", "closes-before-opening",
        "share-over-100", "negative-partners", "no-awards", "published-unscheduled"])
def test_database_refuses_an_inconsistent_call(fields):
    assert _refused_by_database(Call(title="Bad", time_zone=CHICAGO, **fields))


def test_database_accepts_a_consistent_call():
    assert not _refused_by_database(Call(title="Good", time_zone=CHICAGO, award_floor_cents=100,
                                         award_ceiling_cents=100, total_funds_cents=100,
                                         opens_at=chicago(2027, 1, 1), closes_at=chicago(2027, 2, 1)))


@pytest.mark.parametrize("item", [
    lambda call: RubricCriterion(call_id=call.id, name="Zero weight", weight=0),
    lambda call: RubricCriterion(call_id=call.id, name="Upside down", weight=1, scale_min=5, scale_max=1),
    lambda call: MilestoneTemplate(call_id=call.id, name="Too much", offset_days=0, payment_share_percent=101),
    lambda call: MilestoneTemplate(call_id=call.id, name="Before the start", offset_days=-1, payment_share_percent=10),
], ids=["zero-weight", "inverted-scale", "share-over-100", "negative-offset"])
def test_database_refuses_an_inconsistent_item(item):
    call = Call(title="Call", time_zone=CHICAGO)
    db.session.add(call)
    db.session.flush()
    assert _refused_by_database(item(call))
