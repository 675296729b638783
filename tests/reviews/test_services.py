"""Review services: settings, panel invitations and membership, assignment by hand and from a
proposal, the reviewer's attestation, declaration and decline, and the officer's waiver.
Every refusal says why and changes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import Role
from grants.applications.enums import ApplicationStatus
from grants.audit.models import AuditEvent
from grants.core.errors import DomainError, PermissionDenied
from grants.core.types import utcnow
from grants.extensions import db
from grants.notifications.models import OutboxMessage
from grants.reviews import services
from grants.reviews.enums import AssignmentStatus, PanelMemberStatus
from grants.reviews.models import PanelMember, ReviewAssignment, ReviewSettings
from tests.applications.fixtures import make_application
from tests.conftest import fresh
from tests.reviews.fixtures import assign, build_review_world, make_in_review_application, make_panel_member

DUE = date.today() + timedelta(days=14)


@pytest.fixture
def world(make_user, make_organisation):
    return build_review_world(make_user, make_organisation)


def member_of(world, user) -> PanelMember:
    return db.session.scalar(select(PanelMember).where(PanelMember.call_id == world.call.id,
                                                       PanelMember.user_id == user.id))


def events(action: str) -> list[AuditEvent]:
    db.session.flush()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def count(model) -> int:
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(model))


def make_in_review(world, title):
    return make_in_review_application(world.call, world.lead, world.partners, title=title)


def token_from(message) -> str:
    return re.search(r"/panel-invitations/(\S+)", message.body).group(1)


@pytest.fixture
def unchanged():
    """Asserts a refused call left the assignments, panel, outbox and audit log as they were."""

    def snapshot():
        return tuple(count(model) for model in (ReviewAssignment, PanelMember, OutboxMessage, AuditEvent))

    class Guard:
        def __enter__(self):
            self.before = snapshot()
            return self

        def __exit__(self, *exc):
            assert snapshot() == self.before

    return Guard


def refused(exc_type, match, change, unchanged):
    """Run ``change`` inside a savepoint, as a request would; it must refuse and leave nothing."""
    with unchanged():
        with pytest.raises(exc_type, match=match):
            with db.session.begin_nested():
                change()


# --- settings ---------------------------------------------------------------------------

def test_update_review_settings_saves_and_audits_what_changed(world):
    closes = datetime(2031, 3, 1, 23, 0, tzinfo=timezone.utc)

    services.update_review_settings(world.call, changed_by=world.officer, review_closes_at=closes,
                                    show_other_reviews=False, disagreement_threshold=30,
                                    reviewers_per_application=2, default_workload_cap=5, stipend_cents=None)

    db.session.flush()
    db.session.expire_all()
    settings = db.session.get(ReviewSettings, world.call.id)
    assert (settings.review_closes_at, settings.show_other_reviews, settings.disagreement_threshold,
            settings.reviewers_per_application, settings.default_workload_cap) == (closes, False, 30, 2, 5)
    [event] = events("review.settings_changed")
    assert event.details["reviewers_per_application"] == {"from": 3, "to": 2}


def test_update_review_settings_refuses_a_threshold_beyond_100(world, unchanged):
    refused(DomainError, "from 0 to 100", lambda: services.update_review_settings(
        world.call, changed_by=world.officer, review_closes_at=None, show_other_reviews=True,
        disagreement_threshold=101, reviewers_per_application=3, default_workload_cap=8, stipend_cents=None), unchanged)
    assert db.session.get(ReviewSettings, world.call.id) is None


# --- invitations --------------------------------------------------------------------------

def test_invite_panel_member_queues_a_single_use_link(world, make_user, outbox):
    invitee = make_user(email="rita@example.org")

    member = services.invite_panel_member(world.call, email=" Rita@Example.org ", sub_panel=" Community ",
                                          workload_cap=4, invited_by=world.officer)

    assert (member.email, member.sub_panel, member.workload_cap, member.status) == (
        "rita@example.org", "Community", 4, PanelMemberStatus.INVITED)
    [message] = outbox(kind="panel_invitation")
    assert message.recipient == "rita@example.org" and message.recipient_user_id == invitee.id
    assert "Log in with this e-mail address" in message.body
    assert services.find_panel_invitation(token_from(message)) is member
    assert events("panel.member_invited")[0].details["email"] == "rita@example.org"


def test_invite_someone_without_an_account_tells_them_to_register_first(world, outbox):
    services.invite_panel_member(world.call, email="new@example.org", invited_by=world.officer)

    [message] = outbox(kind="panel_invitation")
    assert "register first" in message.body and "/register" in message.body


def test_invite_without_a_cap_takes_the_calls_default(world):
    services.update_review_settings(world.call, changed_by=world.officer, review_closes_at=None,
                                    show_other_reviews=True, disagreement_threshold=25,
                                    reviewers_per_application=3, default_workload_cap=5, stipend_cents=None)

    member = services.invite_panel_member(world.call, email="cap@example.org", invited_by=world.officer)

    assert member.workload_cap == 5


@pytest.mark.parametrize("email, message", [
    ("not-an-address", "Give the e-mail address"),
    ("rita@example.org", "already invited"),
])
def test_invite_refusals_change_nothing(world, unchanged, email, message):
    services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)

    refused(DomainError, message, lambda: services.invite_panel_member(world.call, email=email,
                                                                       invited_by=world.officer), unchanged)


def test_invite_refuses_someone_already_on_the_panel(world, unchanged):
    refused(DomainError, "already on this call's panel", lambda: services.invite_panel_member(
        world.call, email=world.academic.email, invited_by=world.officer), unchanged)


def test_invite_refused_on_an_archived_call(world, unchanged):
    from grants.calls.enums import CallStatus

    world.call.status = CallStatus.ARCHIVED
    refused(DomainError, "archived", lambda: services.invite_panel_member(
        world.call, email="late@example.org", invited_by=world.officer), unchanged)


def test_accept_panel_invitation_activates_grants_the_role_and_audits(world, make_user, outbox):
    invitee = make_user(Role.APPLICANT, email="rita@example.org")
    services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)
    token = token_from(outbox(kind="panel_invitation")[0])

    member = services.accept_panel_invitation(token, user=invitee)

    assert member.status is PanelMemberStatus.ACTIVE and member.user_id == invitee.id and member.active_at
    assert fresh(invitee).roles == {Role.APPLICANT, Role.REVIEWER}
    [role_event] = events("user.roles_changed")
    assert role_event.details["to"] == ["applicant", "reviewer"] and "panel" in role_event.details["reason"]
    assert events("panel.member_joined")
    assert services.find_panel_invitation(token) is None  # the link works once


def test_accept_panel_invitation_twice_is_refused(world, make_user, outbox, unchanged):
    invitee = make_user(email="rita@example.org")
    services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)
    token = token_from(outbox(kind="panel_invitation")[0])
    services.accept_panel_invitation(token, user=invitee)

    refused(DomainError, "already answered", lambda: services.accept_panel_invitation(token, user=invitee),
            unchanged)


def test_accept_panel_invitation_by_another_address_is_refused(world, make_user, outbox, unchanged):
    services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)
    token = token_from(outbox(kind="panel_invitation")[0])
    intruder = make_user(email="someone@example.org")

    refused(PermissionDenied, "for rita@example.org", lambda: services.accept_panel_invitation(token, user=intruder),
            unchanged)
    assert Role.REVIEWER not in fresh(intruder).roles


def test_decline_then_reinvite_issues_a_new_link(world, make_user, outbox):
    invitee = make_user(email="rita@example.org")
    member = services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)
    first = token_from(outbox(kind="panel_invitation")[0])
    services.decline_panel_invitation(first, user=invitee)
    assert member.status is PanelMemberStatus.DECLINED

    again = services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)

    assert again.id == member.id and again.status is PanelMemberStatus.INVITED
    second = token_from(outbox(kind="panel_invitation")[1])
    assert services.find_panel_invitation(first) is None
    assert services.find_panel_invitation(second) is member


# --- panel membership -----------------------------------------------------------------------

def test_remove_panel_member_refused_while_they_hold_open_assignments(world, unchanged):
    assign(world.application, world.academic, attested=False)
    member = member_of(world, world.academic)

    refused(DomainError, "still has 1 open assignment", lambda: services.remove_panel_member(
        member, removed_by=world.officer), unchanged)
    assert fresh(member).status is PanelMemberStatus.ACTIVE


def test_remove_panel_member_keeps_their_finished_work(world):
    assignment = assign(world.application, world.academic)
    assignment.status = AssignmentStatus.SUBMITTED
    member = member_of(world, world.academic)

    services.remove_panel_member(member, removed_by=world.officer)

    assert member.status is PanelMemberStatus.REMOVED and member.removed_at
    assert fresh(assignment).status is AssignmentStatus.SUBMITTED
    assert events("panel.member_removed")


def test_withdrawing_an_invitation_kills_its_link(world, outbox):
    member = services.invite_panel_member(world.call, email="rita@example.org", invited_by=world.officer)
    token = token_from(outbox(kind="panel_invitation")[0])

    services.remove_panel_member(member, removed_by=world.officer)

    assert services.find_panel_invitation(token) is None


def test_update_panel_member_refuses_a_cap_below_the_current_load(world, unchanged):
    assign(world.application, world.academic, attested=False)
    member = member_of(world, world.academic)

    refused(DomainError, "already has 1 assignments", lambda: services.update_panel_member(
        member, changed_by=world.officer, sub_panel="Academic", workload_cap=0, stipend_eligible=False), unchanged)

    services.update_panel_member(member, changed_by=world.officer, sub_panel="Clinical", workload_cap=1,
                                stipend_eligible=False)
    assert (member.sub_panel, member.workload_cap) == ("Clinical", 1)
    assert events("panel.member_changed")[0].details["sub_panel"] == {"from": "Academic", "to": "Clinical"}


# --- assigning by hand ------------------------------------------------------------------------

def test_assign_reviewer_creates_the_assignment_audits_and_emails(world, outbox):
    member = member_of(world, world.academic)

    assignment = services.assign_reviewer(world.application, member, due_on=DUE, assigned_by=world.officer)

    assert (assignment.status, assignment.reviewer_id, assignment.due_on, assignment.assigned_by_id) == (
        AssignmentStatus.ASSIGNED, world.academic.id, DUE, world.officer.id)
    [event] = events("review.assigned")
    assert event.details["how"] == "manual" and event.details["reviewer"] == world.academic.email
    [message] = outbox(kind="review_assigned")
    assert message.recipient == world.academic.email
    assert f"/reviews/assignments/{assignment.id}" in message.body
    assert "conflict of interest" in message.body


@pytest.mark.parametrize("who, reason", [
    ("lead organisation", "works at the lead organisation, Riverside Medical"),
    ("partner organisation", "works at a partner organisation, Eastside Alliance"),
    ("collaborator", "works on the application"),
])
def test_assign_reviewer_refuses_a_conflicted_reviewer_with_the_reason(world, unchanged, who, reason):
    member = member_of(world, world.conflicted[who])

    refused(DomainError, f"cannot review {world.application.reference_number}: conflicted, .*{reason}",
            lambda: services.assign_reviewer(world.application, member, due_on=DUE, assigned_by=world.officer),
            unchanged)


def test_assign_reviewer_refuses_an_application_not_in_review(world, unchanged):
    submitted = make_application(world.call, world.lead, title="Only submitted", submitted=True,
                                 partner_users=world.partners)
    member = member_of(world, world.academic)

    refused(DomainError, "is submitted; only applications in review get reviewers",
            lambda: services.assign_reviewer(submitted, member, due_on=DUE, assigned_by=world.officer), unchanged)


def test_assign_reviewer_refuses_someone_who_has_not_accepted(world, make_user, unchanged):
    invitee = make_user(Role.REVIEWER)
    member = make_panel_member(world.call, invitee, active=False)

    refused(DomainError, "has not accepted the invitation", lambda: services.assign_reviewer(
        world.application, member, due_on=DUE, assigned_by=world.officer), unchanged)


def test_assign_reviewer_refuses_a_reviewer_at_their_cap(world, unchanged):
    member = member_of(world, world.academic)
    member.workload_cap = 0

    refused(DomainError, "reached their workload cap of 0", lambda: services.assign_reviewer(
        world.application, member, due_on=DUE, assigned_by=world.officer), unchanged)


def test_assign_reviewer_refuses_the_same_reviewer_twice(world, unchanged):
    member = member_of(world, world.academic)
    services.assign_reviewer(world.application, member, due_on=DUE, assigned_by=world.officer)

    refused(DomainError, "already assigned", lambda: services.assign_reviewer(
        world.application, member, due_on=DUE, assigned_by=world.officer), unchanged)


def test_assign_reviewer_refuses_a_due_date_in_the_past(world, unchanged):
    member = member_of(world, world.academic)

    refused(DomainError, "has passed already", lambda: services.assign_reviewer(
        world.application, member, due_on=date.today() - timedelta(days=2), assigned_by=world.officer), unchanged)


def test_assign_reviewer_refuses_a_due_date_after_the_review_closes(world, unchanged):
    services.update_review_settings(world.call, changed_by=world.officer, review_closes_at=utcnow() + timedelta(days=5),
                                    show_other_reviews=True, disagreement_threshold=25, reviewers_per_application=3,
                                    default_workload_cap=8, stipend_cents=None)
    member = member_of(world, world.academic)

    refused(DomainError, "after the review closes", lambda: services.assign_reviewer(
        world.application, member, due_on=date.today() + timedelta(days=10), assigned_by=world.officer), unchanged)


def test_assign_reviewer_refused_once_the_review_has_closed(world, unchanged):
    services.update_review_settings(world.call, changed_by=world.officer,
                                    review_closes_at=utcnow() - timedelta(hours=1), show_other_reviews=True,
                                    disagreement_threshold=25, reviewers_per_application=3, default_workload_cap=8,
                                    stipend_cents=None)
    member = member_of(world, world.academic)

    refused(DomainError, "The review closed on", lambda: services.assign_reviewer(
        world.application, member, due_on=DUE, assigned_by=world.officer), unchanged)


# --- the automatic proposal and its confirmation ----------------------------------------------

def test_propose_skips_every_conflicted_reviewer(world):
    proposal = services.propose(world.call, per_application=3, mix_sub_panels=False)

    assert {reviewer for _, reviewer in proposal.pairs} == {world.academic.id, world.community.id}
    assert proposal.unfilled == {world.application.id: "2 of 3 reviewers: of 5 panel members, 3 conflicted."}


def test_propose_with_mixing_takes_both_sub_panels(world, make_user, make_organisation):
    for _ in range(2):
        make_panel_member(world.call, make_user(Role.REVIEWER, organisation=make_organisation()),
                          sub_panel="Academic")

    proposal = services.propose(world.call, per_application=2, mix_sub_panels=True)

    assert world.community.id in proposal.reviewers_for(world.application.id)


def test_confirm_assignments_creates_them_and_emails_each_reviewer_once(world, outbox):
    second = make_in_review(world, "Second application")
    academic, community = member_of(world, world.academic), member_of(world, world.community)

    created = services.confirm_assignments(world.call, [(world.application.id, academic.id),
                                                        (second.id, academic.id), (second.id, community.id)],
                                           due_on=DUE, assigned_by=world.officer)

    assert len(created) == 3 and all(a.status is AssignmentStatus.ASSIGNED for a in created)
    assert {e.details["how"] for e in events("review.assigned")} == {"automatic"}
    messages = outbox(kind="review_assigned")
    assert sorted(m.recipient for m in messages) == sorted([world.academic.email, world.community.email])
    assert "2 applications to review" in next(m.subject for m in messages if m.recipient == world.academic.email)


def test_confirm_assignments_refuses_the_lot_when_one_pair_is_conflicted(world, unchanged):
    academic, conflicted = member_of(world, world.academic), member_of(world, world.lead_colleague)

    refused(DomainError, "Nothing was assigned. .*conflicted", lambda: services.confirm_assignments(
        world.call, [(world.application.id, academic.id), (world.application.id, conflicted.id)],
        due_on=DUE, assigned_by=world.officer), unchanged)


def test_confirm_assignments_refuses_going_over_a_cap_across_pairs(world, unchanged):
    second = make_in_review(world, "Second application")
    academic = member_of(world, world.academic)
    academic.workload_cap = 1

    refused(DomainError, "workload cap of 1", lambda: services.confirm_assignments(
        world.call, [(world.application.id, academic.id), (second.id, academic.id)],
        due_on=DUE, assigned_by=world.officer), unchanged)


def test_confirm_assignments_refuses_nothing_ticked(world, unchanged):
    refused(DomainError, "Tick at least one", lambda: services.confirm_assignments(
        world.call, [], due_on=DUE, assigned_by=world.officer), unchanged)


# --- the reviewer's answers -------------------------------------------------------------------

def test_attest_no_conflict_starts_the_review(world):
    assignment = assign(world.application, world.academic, attested=False)

    services.attest_no_conflict(assignment, reviewer=world.academic)

    assert assignment.status is AssignmentStatus.IN_PROGRESS and assignment.attested_at and assignment.in_progress_at
    [event] = events("review.no_conflict_attested")
    assert event.actor_id == world.academic.id and event.details["after_waiver"] is False


def test_attest_is_refused_to_anyone_but_the_reviewer(world, unchanged):
    assignment = assign(world.application, world.academic, attested=False)

    refused(PermissionDenied, "Only the reviewer", lambda: services.attest_no_conflict(
        assignment, reviewer=world.community), unchanged)
    assert fresh(assignment).status is AssignmentStatus.ASSIGNED


@pytest.mark.parametrize("who", ["lead organisation", "partner organisation", "collaborator"])
def test_attest_is_refused_to_a_reviewer_conflicted_automatically(world, unchanged, who):
    # Such an assignment is never made; if one exists anyway, attesting still cannot open it.
    reviewer = world.conflicted[who]
    assignment = assign(world.application, reviewer, attested=False)

    refused(PermissionDenied, "You cannot review this application", lambda: services.attest_no_conflict(
        assignment, reviewer=reviewer), unchanged)
    assert fresh(assignment).status is AssignmentStatus.ASSIGNED


def test_declare_conflict_records_the_reason(world):
    assignment = assign(world.application, world.academic, attested=False)

    services.declare_conflict(assignment, reviewer=world.academic, reason="I co-wrote a paper with the lead.")

    assert assignment.status is AssignmentStatus.CONFLICTED and assignment.conflict_declared_at
    assert assignment.conflict_reason == "I co-wrote a paper with the lead."
    assert events("review.conflict_declared")[0].details["reason"] == "I co-wrote a paper with the lead."


def test_declare_conflict_without_a_reason_is_refused(world, unchanged):
    assignment = assign(world.application, world.academic, attested=False)

    refused(DomainError, "Say what the conflict is", lambda: services.declare_conflict(
        assignment, reviewer=world.academic, reason="  "), unchanged)


def test_declare_conflict_after_attesting_is_refused(world, unchanged):
    assignment = assign(world.application, world.academic)

    refused(DomainError, "in progress; a conflict is declared before attesting", lambda: services.declare_conflict(
        assignment, reviewer=world.academic, reason="Changed my mind."), unchanged)


def test_decline_assignment_records_the_reason(world):
    assignment = assign(world.application, world.academic, attested=False)

    services.decline_assignment(assignment, reviewer=world.academic, reason="Away all month.")

    assert (assignment.status, assignment.decline_reason) == (AssignmentStatus.DECLINED, "Away all month.")
    assert assignment.declined_at and events("review.assignment_declined")


def test_decline_assignment_without_a_reason_is_refused(world, unchanged):
    assignment = assign(world.application, world.academic, attested=False)

    refused(DomainError, "Give a reason for declining", lambda: services.decline_assignment(
        assignment, reviewer=world.academic, reason=""), unchanged)


def test_decline_assignment_after_attesting_is_refused(world, unchanged):
    assignment = assign(world.application, world.academic)

    refused(DomainError, "only an assignment you have not started", lambda: services.decline_assignment(
        assignment, reviewer=world.academic, reason="Too busy."), unchanged)


# --- waivers ----------------------------------------------------------------------------------

def declared(world):
    assignment = assign(world.application, world.academic, attested=False)
    services.declare_conflict(assignment, reviewer=world.academic, reason="Former student of the lead.")
    db.session.flush()
    return assignment


def test_waive_conflict_requires_a_reason(world, unchanged):
    assignment = declared(world)

    refused(DomainError, "Give the reason for waiving", lambda: services.waive_conflict(
        assignment, officer=world.officer, reason=" "), unchanged)
    assert fresh(assignment).status is AssignmentStatus.CONFLICTED


def test_waive_conflict_reassigns_audits_and_asks_to_attest_again(world, outbox):
    assignment = declared(world)

    services.waive_conflict(assignment, officer=world.officer, reason="Twenty years ago; no current tie.")

    assert assignment.status is AssignmentStatus.ASSIGNED and assignment.attested_at is None
    assert assignment.waived_by_id == world.officer.id
    assert assignment.waiver_reason == "Twenty years ago; no current tie."
    assert assignment.conflict_reason == "Former student of the lead." and assignment.conflicted_at
    [event] = events("review.conflict_waived")
    assert event.actor_id == world.officer.id
    assert event.details["reason"] == "Twenty years ago; no current tie."
    assert event.details["declared_reason"] == "Former student of the lead."
    [message] = outbox(kind="review_conflict_waived")
    assert message.recipient == world.academic.email and "Twenty years ago" in message.body

    # The reviewer must attest again before reading; the attestation stands beside the waiver.
    services.attest_no_conflict(assignment, reviewer=world.academic)
    db.session.flush()
    assert fresh(assignment).status is AssignmentStatus.IN_PROGRESS
    assert events("review.no_conflict_attested")[0].details["after_waiver"] is True


def test_an_automatic_conflict_can_never_be_waived(world, unchanged):
    assignment = assign(world.application, world.partner_colleague, attested=False)
    assignment.status = AssignmentStatus.CONFLICTED
    assignment.conflict_reason = "My organisation partners on it."

    refused(DomainError, "cannot be waived", lambda: services.waive_conflict(
        assignment, officer=world.officer, reason="We need reviewers."), unchanged)


def test_waive_is_refused_for_an_assignment_not_conflicted(world, unchanged):
    assignment = assign(world.application, world.academic, attested=False)

    refused(DomainError, "only a declared conflict can be waived", lambda: services.waive_conflict(
        assignment, officer=world.officer, reason="Why not."), unchanged)


# --- withdrawing ----------------------------------------------------------------------------

def test_withdraw_assignment_removes_it_and_tells_the_reviewer(world, outbox):
    assignment = assign(world.application, world.academic, attested=False)
    assignment_id = assignment.id

    services.withdraw_assignment(assignment, withdrawn_by=world.officer)

    db.session.flush()
    assert db.session.get(ReviewAssignment, assignment_id) is None
    [event] = events("review.assignment_withdrawn")
    assert event.object_id == str(assignment_id) and event.details["reviewer"] == world.academic.email
    assert outbox(kind="review_withdrawn")[0].recipient == world.academic.email


def test_withdraw_refuses_a_declined_assignment(world, unchanged):
    assignment = assign(world.application, world.academic, attested=False)
    services.decline_assignment(assignment, reviewer=world.academic, reason="Away.")

    refused(DomainError, "stays on record", lambda: services.withdraw_assignment(
        assignment, withdrawn_by=world.officer), unchanged)


def test_applications_in_review_lists_only_those_screened_in(world):
    make_application(world.call, world.lead, title="A draft")

    assert services.applications_in_review(world.call) == [world.application]
    assert world.application.status is ApplicationStatus.IN_REVIEW
