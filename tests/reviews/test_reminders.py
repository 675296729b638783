"""Review reminders: "due soon" a few days before the due date and "overdue" after it, each at
most once per assignment however often the command runs, only for open assignments."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from grants.core.timezones import local_instant
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus
from grants.reviews.services import queue_review_reminders
from tests.reviews.fixtures import assign, build_review_world

DUE = date(2030, 5, 20)


def at(day: date, hour: int = 12) -> datetime:
    """Noon (or ``hour``) in Chicago, the test call's zone, on ``day``."""
    return local_instant(day, time(hour), "America/Chicago")


def reminders(outbox) -> list:
    return [m for m in outbox() if m.kind.startswith("review_reminder")]


@pytest.fixture
def world(make_user, make_organisation):
    return build_review_world(make_user, make_organisation)


@pytest.fixture
def assignment(world):
    return assign(world.application, world.academic, attested=False, due_on=DUE)


def test_nothing_is_queued_well_before_the_due_date(assignment, outbox):
    counts = queue_review_reminders(now=at(DUE - timedelta(days=4)))

    assert (counts.due_soon, counts.overdue) == (0, 0)
    assert reminders(outbox) == []


def test_due_soon_is_queued_once_however_often_it_runs(assignment, outbox, world):
    first = queue_review_reminders(now=at(DUE - timedelta(days=3)))
    second = queue_review_reminders(now=at(DUE - timedelta(days=2)))
    third = queue_review_reminders(now=at(DUE))

    assert (first.due_soon, second.due_soon, third.due_soon) == (1, 0, 0)
    [message] = outbox(kind="review_reminder_due_soon")
    assert message.recipient == world.academic.email
    assert message.dedupe_key == f"review-reminder:{assignment.id}:due-soon"
    assert "20 May 2030, in 3 days" in message.body
    assert f"/reviews/assignments/{assignment.id}" in message.body


def test_overdue_is_queued_once_after_the_due_soon_one(assignment, outbox):
    queue_review_reminders(now=at(DUE - timedelta(days=1)))

    first = queue_review_reminders(now=at(DUE + timedelta(days=1)))
    second = queue_review_reminders(now=at(DUE + timedelta(days=5)))

    assert (first.overdue, second.overdue) == (1, 0)
    assert [m.kind for m in reminders(outbox)] == ["review_reminder_due_soon", "review_reminder_overdue"]
    assert outbox(kind="review_reminder_overdue")[0].dedupe_key == f"review-reminder:{assignment.id}:overdue"
    assert "is overdue" in outbox(kind="review_reminder_overdue")[0].body


def test_an_assignment_first_seen_overdue_gets_only_the_overdue_reminder(assignment, outbox):
    counts = queue_review_reminders(now=at(DUE + timedelta(days=2)))

    assert (counts.due_soon, counts.overdue) == (0, 1)
    assert [m.kind for m in reminders(outbox)] == ["review_reminder_overdue"]


def test_the_due_date_is_a_day_in_the_calls_time_zone(assignment, outbox):
    # 11 PM in Chicago on the due date is already the next day in UTC: not overdue yet.
    late_evening = at(DUE, hour=23)
    assert late_evening.astimezone(timezone.utc).date() > DUE

    counts = queue_review_reminders(now=late_evening)

    assert (counts.due_soon, counts.overdue) == (1, 0)


def test_the_days_before_are_a_setting_of_the_command(assignment, outbox):
    assert queue_review_reminders(now=at(DUE - timedelta(days=6)), due_soon_days=7).due_soon == 1


@pytest.mark.parametrize("status", [AssignmentStatus.DECLINED, AssignmentStatus.CONFLICTED,
                                    AssignmentStatus.SUBMITTED])
def test_only_open_assignments_are_reminded(assignment, outbox, status):
    assignment.status = status
    if status is AssignmentStatus.DECLINED:
        assignment.decline_reason = "Away."
    db.session.flush()

    counts = queue_review_reminders(now=at(DUE + timedelta(days=1)))

    assert (counts.due_soon, counts.overdue) == (0, 0)
    assert reminders(outbox) == []


def test_in_progress_assignments_are_reminded(world, outbox):
    assign(world.application, world.community, attested=True, due_on=DUE)

    assert queue_review_reminders(now=at(DUE + timedelta(days=1))).overdue == 1


def test_flask_reviews_remind_command(app, assignment, outbox):
    db.session.commit()
    # The command uses the real clock: make the assignment overdue now.
    assignment.due_on = date.today() - timedelta(days=3)
    db.session.commit()

    first = app.test_cli_runner().invoke(args=["reviews", "remind", "--days", "3"])
    second = app.test_cli_runner().invoke(args=["reviews", "remind"])

    assert first.exit_code == 0, first.output
    assert "due soon: 0, overdue: 1" in first.output
    assert "due soon: 0, overdue: 0" in second.output
    assert len(outbox(kind="review_reminder_overdue")) == 1
