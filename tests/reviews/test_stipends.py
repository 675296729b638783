"""Reviewers' stipends: the completion rule, eligibility, when a stipend is owed, recording and
undoing its payment. Every refusal says why and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind, Role
from grants.audit.models import AuditEvent
from grants.core.errors import DomainError, StaleEdit
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews import services, stipends
from grants.reviews.enums import AssignmentStatus as A
from grants.reviews.enums import PanelMemberStatus, StipendStatus
from grants.reviews.models import ReviewerStipend, ReviewSettings
from grants.reviews.stipends import ReviewSet, StipendState, review_set, stipend_state
from tests.reviews.fixtures import make_panel_member
from tests.reviews.stipend_factories import STIPEND_CENTS, build_stipend_world, member_of
from tests.reviews.scoring_factories import submitted_review


@pytest.fixture
def world(make_user, make_organisation):
    return build_stipend_world(make_user, make_organisation)


def events(action: str) -> list[AuditEvent]:
    db.session.flush()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def snapshot() -> tuple:
    db.session.flush()
    return (db.session.scalar(select(func.count()).select_from(AuditEvent)),
            [(r.status, r.amount_cents, r.paid_on, r.payment_reference, r.version)
             for r in db.session.scalars(select(ReviewerStipend).order_by(ReviewerStipend.id))])


def refused(exc_type, match: str, change) -> None:
    """Run ``change`` in a savepoint, as a request would: refused, and nothing recorded."""
    before = snapshot()
    with pytest.raises(exc_type, match=match):
        with db.session.begin_nested():
            change()
    db.session.expire_all()
    assert snapshot() == before


def line_of(world, user) -> stipends.StipendLine:
    return next(line for line in stipends.stipend_lines(world.call) if line.reviewer.id == user.id)


def today(call):
    return services.local_today(call)


def pay(world, user, *, version: int = 0, reference: str = "CHQ 1001", paid_on=None):
    return stipends.mark_stipend_paid(member_of(world.call, user), officer=world.officer,
                                      paid_on=paid_on or today(world.call), reference=reference,
                                      expected_version=version)


# --- the rules ------------------------------------------------------------------------------

@pytest.mark.parametrize(("statuses", "submitted", "assigned", "complete"), [
    ([], 0, 0, False),  # nothing assigned: no set
    ([A.SUBMITTED], 1, 1, True),
    ([A.SUBMITTED, A.SUBMITTED, A.SUBMITTED], 3, 3, True),
    ([A.SUBMITTED, A.IN_PROGRESS], 1, 2, False),  # one still being written
    ([A.SUBMITTED, A.ASSIGNED], 1, 2, False),  # one not even attested
    ([A.SUBMITTED, A.DECLINED], 1, 1, True),  # a decline does not count against
    ([A.SUBMITTED, A.CONFLICTED, A.DECLINED], 1, 1, True),  # nor a declared conflict
    ([A.DECLINED, A.CONFLICTED], 0, 0, False),  # none submitted: earns nothing
    ([A.IN_PROGRESS], 0, 1, False),
])
def test_review_set_is_complete_when_every_counted_assignment_is_submitted(statuses, submitted, assigned, complete):
    result = review_set(statuses)

    assert (result.submitted, result.assigned, result.is_complete) == (submitted, assigned, complete)


COMPLETE, INCOMPLETE = ReviewSet(submitted=2, assigned=2), ReviewSet(submitted=1, assigned=2)


@pytest.mark.parametrize(("eligible", "stipend_cents", "reviews", "closed", "paid", "expected"), [
    (True, 15_000, COMPLETE, True, False, StipendState.OWED),
    (True, 15_000, COMPLETE, False, False, StipendState.NOT_EARNED),  # the review is still open
    (True, 15_000, INCOMPLETE, True, False, StipendState.NOT_EARNED),
    (False, 15_000, COMPLETE, True, False, StipendState.NOT_ELIGIBLE),
    (True, None, COMPLETE, True, False, StipendState.NOT_ELIGIBLE),  # the call pays no stipend
    (True, 15_000, COMPLETE, True, True, StipendState.PAID),
    # A recorded payment stays paid whatever changed since (here: unticked, the review reopened).
    (False, 15_000, INCOMPLETE, False, True, StipendState.PAID),
])
def test_stipend_state_is_owed_once_the_set_is_complete_and_the_review_closed(eligible, stipend_cents, reviews,
                                                                             closed, paid, expected):
    record = ReviewerStipend(status=StipendStatus.PAID if paid else StipendStatus.OWED)

    assert stipend_state(eligible=eligible, stipend_cents=stipend_cents, reviews=reviews, review_closed=closed,
                         record=record) is expected


def test_stipend_lines_show_each_reviewer_with_totals(world):
    lines = stipends.stipend_lines(world.call)

    assert [(line.reviewer.full_name, line.state, line.amount_cents, line.reviews.submitted, line.reviews.assigned)
            for line in lines] == [
        ("Cody Community", StipendState.OWED, STIPEND_CENTS, 2, 2),
        ("Una Unfinished", StipendState.NOT_EARNED, STIPEND_CENTS, 1, 2),
        ("Ada Academic", StipendState.NOT_ELIGIBLE, None, 2, 2)]
    totals = stipends.stipend_totals(lines)
    assert (totals.owed_count, totals.owed_cents, totals.paid_count, totals.paid_cents) == (1, STIPEND_CENTS, 0, 0)


def test_nothing_is_owed_while_the_review_is_open(make_user, make_organisation):
    world = build_stipend_world(make_user, make_organisation, review_open=True)

    assert line_of(world, world.community).state is StipendState.NOT_EARNED


def test_someone_who_declined_the_invitation_or_left_before_reviewing_has_no_stipend_line(world, make_user,
                                                                                          make_organisation):
    community = make_organisation("Declining Neighbours", kind=OrganisationKind.COMMUNITY_NONPROFIT)
    declined, removed = (make_user(Role.REVIEWER, organisation=community) for _ in (1, 2))
    for user, status in ((declined, PanelMemberStatus.DECLINED), (removed, PanelMemberStatus.REMOVED)):
        make_panel_member(world.call, user).status = status
    db.session.flush()

    listed = {line.reviewer.id for line in stipends.stipend_lines(world.call)}

    assert listed == {world.community.id, world.unfinished.id, world.academic.id}
    assert stipends.stipends_of_reviewer(declined) == stipends.stipends_of_reviewer(removed) == []


# --- eligibility ----------------------------------------------------------------------------

def test_community_organisations_are_eligible_by_default_and_the_officer_ticks_anyone_else(world):
    academic = member_of(world.call, world.academic)

    services.update_panel_member(academic, changed_by=world.officer, sub_panel="", workload_cap=8,
                                 stipend_eligible=True)

    assert academic.stipend_eligible is True
    assert line_of(world, world.academic).state is StipendState.OWED
    [event] = events("panel.member_changed")
    assert event.details["stipend_eligible"] == {"from": False, "to": True}


def test_the_officer_unticks_a_community_reviewer_and_ticking_again_follows_the_rule(world):
    community = member_of(world.call, world.community)

    services.update_panel_member(community, changed_by=world.officer, sub_panel="", workload_cap=8,
                                 stipend_eligible=False)
    assert (community.stipend_eligible, line_of(world, world.community).state) == (False, StipendState.NOT_ELIGIBLE)

    services.update_panel_member(community, changed_by=world.officer, sub_panel="", workload_cap=8,
                                 stipend_eligible=True)
    # Kept only where it differs from the rule: back to following the organisation's kind.
    assert (community.stipend_eligible, line_of(world, world.community).state) == (None, StipendState.OWED)


def test_funder_staff_are_never_eligible_even_when_ticked(world, make_user):
    # A reviewer who works at the funder's organisation (of kind "other", a community kind by
    # the rule), and the officer themselves on the panel.
    colleague = make_user(Role.REVIEWER, organisation=world.officer.organisation, full_name="Fern Funder")
    for user in (colleague, world.officer):
        submitted_review(world.applications[0], user, 50)
    member_of(world.call, colleague).stipend_eligible = True  # a tick the rules refuse, made as a row

    assert line_of(world, colleague).state is StipendState.NOT_ELIGIBLE
    assert line_of(world, world.officer).state is StipendState.NOT_ELIGIBLE
    refused(DomainError, "works for the funder; funder staff are never paid a stipend",
            lambda: services.update_panel_member(member_of(world.call, world.officer), changed_by=world.officer,
                                                 sub_panel="", workload_cap=8, stipend_eligible=True))


def test_an_invited_member_follows_their_organisation_once_they_join(world, make_user, make_organisation):
    invitee = make_user(organisation=make_organisation("Families First", kind=OrganisationKind.SOCIAL_SERVICE_AGENCY))
    member = make_panel_member(world.call, invitee, active=False)
    funder_ids = stipends.funder_organisation_ids()

    assert stipends.is_eligible(member, funder_ids) is False
    member.user_id = invitee.id
    db.session.flush()
    db.session.expire(member, ["user"])
    assert stipends.is_eligible(member, funder_ids) is True


def test_review_settings_save_the_stipend_and_refuse_zero(world):
    def save(cents):
        return services.update_review_settings(
            world.call, changed_by=world.officer, review_closes_at=world.settings.review_closes_at,
            show_other_reviews=True, disagreement_threshold=25, reviewers_per_application=3, default_workload_cap=8,
            stipend_cents=cents)

    save(20_000)
    assert db.session.get(ReviewSettings, world.call.id).stipend_cents == 20_000
    assert events("review.settings_changed")[-1].details["stipend_cents"] == {"from": STIPEND_CENTS, "to": 20_000}
    refused(DomainError, "A stipend is an amount above \\$0", lambda: save(0))


# --- paying ---------------------------------------------------------------------------------

def test_mark_stipend_paid_records_the_payment_and_audits_it(world):
    record = pay(world, world.community, reference="  CHQ 1001 ")

    assert (record.status, record.amount_cents, record.paid_on, record.payment_reference, record.paid_by_id,
            record.version) == (StipendStatus.PAID, STIPEND_CENTS, today(world.call), "CHQ 1001", world.officer.id, 1)
    assert record.paid_at is not None
    [event] = events("stipend.paid")
    assert (event.object_type, event.object_id) == ("ReviewerStipend", str(record.id))
    assert event.details == {"from": "owed", "to": "paid", "call_id": world.call.id,
                                  "reviewer_id": world.community.id, "reviewer": world.community.email,
                                  "amount_cents": STIPEND_CENTS, "paid_on": today(world.call).isoformat(),
                                  "reference": "CHQ 1001"}
    totals = stipends.stipend_totals(stipends.stipend_lines(world.call))
    assert (totals.owed_cents, totals.paid_count, totals.paid_cents) == (0, 1, STIPEND_CENTS)


def test_a_paid_stipend_keeps_its_amount_when_the_calls_stipend_changes(world):
    pay(world, world.community)

    world.settings.stipend_cents = 99_900
    db.session.flush()

    line = line_of(world, world.community)
    assert (line.state, line.amount_cents) == (StipendState.PAID, STIPEND_CENTS)


def test_a_second_paid_is_refused_saying_when_it_was_paid(world):
    pay(world, world.community)

    refused(StaleEdit, "already recorded as paid: \\$150 paid on .* \\(reference CHQ 1001\\)",
            lambda: pay(world, world.community, version=1))
    # The double click: the same form again.
    refused(StaleEdit, "already recorded as paid", lambda: pay(world, world.community, version=0))
    assert len(events("stipend.paid")) == 1


@pytest.mark.parametrize(("who", "message"), [
    ("unfinished", "has submitted 1 of 2 reviews"),
    ("academic", "is not ticked as eligible"),
])
def test_mark_stipend_paid_refuses_a_stipend_not_owed(world, who, message):
    refused(DomainError, message, lambda: pay(world, getattr(world, who)))


def test_mark_stipend_paid_refuses_while_the_review_is_open(make_user, make_organisation):
    world = build_stipend_world(make_user, make_organisation, review_open=True)

    refused(DomainError, "The review closes on .*; stipends are owed from then",
            lambda: pay(world, world.community))


def test_mark_stipend_paid_refuses_on_a_call_paying_no_stipend(make_user, make_organisation):
    world = build_stipend_world(make_user, make_organisation, stipend_cents=None)

    refused(DomainError, "This call pays no stipend", lambda: pay(world, world.community))


@pytest.mark.parametrize(("days_from_today", "message"), [
    (1, "cannot be in the future"),
    (-3, "cannot be before the review closed on"),
])
def test_mark_stipend_paid_refuses_an_impossible_date(world, days_from_today, message):
    refused(DomainError, message, lambda: pay(world, world.community,
                                              paid_on=today(world.call) + timedelta(days=days_from_today)))


def test_mark_stipend_paid_refuses_a_missing_date_and_a_long_reference(world):
    member = member_of(world.call, world.community)
    refused(DomainError, "Give the date", lambda: stipends.mark_stipend_paid(
        member, officer=world.officer, paid_on=None, reference="", expected_version=0))
    refused(DomainError, "at most 100 characters", lambda: pay(world, world.community, reference="x" * 101))


# --- undoing --------------------------------------------------------------------------------

def test_undo_stipend_paid_makes_it_owed_again_and_keeps_what_was_undone_in_the_audit_log(world):
    pay(world, world.community)

    record = stipends.undo_stipend_paid(member_of(world.call, world.community), officer=world.officer,
                                        reason="Paid to the wrong reviewer", expected_version=1)

    assert (record.status, record.amount_cents, record.paid_on, record.paid_at, record.payment_reference,
            record.version) == (StipendStatus.OWED, None, None, None, "", 2)
    assert line_of(world, world.community).state is StipendState.OWED
    [event] = events("stipend.payment_undone")
    assert event.details["reason"] == "Paid to the wrong reviewer"
    assert event.details["undone"] == {"amount_cents": STIPEND_CENTS, "paid_on": today(world.call).isoformat(),
                                       "reference": "CHQ 1001", "paid_by_id": world.officer.id}
    # ... and it can be paid again, from the record's new version.
    assert pay(world, world.community, version=2, reference="EFT 77").version == 3


def test_undo_stipend_paid_refusals(world):
    member = member_of(world.call, world.community)

    def undo(reason="Wrong cheque", version=1):
        return lambda: stipends.undo_stipend_paid(member, officer=world.officer, reason=reason,
                                                  expected_version=version)

    refused(StaleEdit, "is not recorded as paid, so there is nothing to undo", undo(version=0))
    pay(world, world.community)
    refused(DomainError, "Say why the payment is undone", undo(reason="  "))
    # A form drawn before the payment was recorded (another officer's tab).
    refused(StaleEdit, "changed since this page was opened \\(it now reads: \\$150 paid on", undo(version=0))


def test_a_stale_paid_form_is_refused_after_an_undo(world):
    """Officer A's tab was opened before B paid and undid: A's "paid" is refused, not a second payment."""
    pay(world, world.community)
    stipends.undo_stipend_paid(member_of(world.call, world.community), officer=world.officer, reason="Wrong amount",
                               expected_version=1)

    refused(StaleEdit, "changed since this page was opened \\(it is now owed\\)",
            lambda: pay(world, world.community, version=0))


# --- the reviewer's own ---------------------------------------------------------------------

def test_stipends_of_reviewer_lists_only_their_own_calls_that_pay_them(world, make_user, make_organisation):
    other = build_stipend_world(make_user, make_organisation, title="Second Call", review_open=True)
    # The same reviewer on the second call's panel, one review submitted there.
    submitted_review(other.applications[0], world.community, 70)
    pay(world, world.community)

    lines = stipends.stipends_of_reviewer(world.community)

    assert [(line.call.id, line.state, line.amount_cents) for line in lines] == [
        (other.call.id, StipendState.NOT_EARNED, STIPEND_CENTS), (world.call.id, StipendState.PAID, STIPEND_CENTS)]
    assert all(line.reviewer.id == world.community.id for line in lines)
    # The academic is paid none: nothing to list.
    assert stipends.stipends_of_reviewer(world.academic) == []
