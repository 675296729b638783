"""Review rules: a call's review settings, its panel (invitations, membership, caps),
conflicts of interest, assignments (manual and automatic) and their reminders.

Every function changes objects, records audit events and queues e-mails; none commits.
Conflicts are checked again at every step that could let a reviewer near an application.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload

from grants.accounts.enums import Role
from grants.accounts.models import User, UserRole
from grants.accounts.services import find_user_by_email, normalise_email
from grants.applications.enums import ApplicationStatus
from grants.applications.models import Application
from grants.audit.services import record_event
from grants.core.dates import format_date, format_instant
from grants.core.errors import DomainError, PermissionDenied
from grants.core.lifecycle import apply_transition
from grants.core.timezones import in_zone, local_today
from grants.core.types import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email
from grants.reviews import stipends
from grants.reviews.assigner import Candidate, Existing, Proposal, propose_assignments
from grants.reviews.enums import (
    ASSIGNMENT_TRANSITIONS,
    PANEL_MEMBER_TRANSITIONS,
    AssignmentStatus,
    PanelMemberStatus,
)
from grants.reviews.models import PanelMember, ReviewAssignment, ReviewSettings
from grants.reviews.permissions import conflict_reasons

# Assignments that take up a reviewer's workload: declined and conflicted ones do not.
COUNTING_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED)
# Assignments still waiting for the reviewer: the ones reminders are about.
OPEN_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)


def _name(user) -> str:
    return f"{user.full_name} ({user.email})"


def _reference(application: Application) -> str:
    return application.reference_number or f"application {application.id}"


# --- settings ---------------------------------------------------------------------------

def settings_for(call) -> ReviewSettings:
    """The call's review settings; the defaults (not yet saved) when the officer has set none."""
    settings = db.session.get(ReviewSettings, call.id)
    if settings is None:
        settings = ReviewSettings(call_id=call.id, review_closes_at=None, show_other_reviews=True,
                                  disagreement_threshold=25, reviewers_per_application=3, default_workload_cap=8,
                                  stipend_cents=None)
    return settings


def update_review_settings(call, *, changed_by, review_closes_at: datetime | None, show_other_reviews: bool,
                           disagreement_threshold: int, reviewers_per_application: int,
                           default_workload_cap: int, stipend_cents: int | None) -> ReviewSettings:
    """Save the call's review settings; the audit event lists what changed. ``stipend_cents``
    is the reviewers' stipend per completed review set (None: no stipends; see stipends.py)."""
    if stipend_cents is not None and stipend_cents <= 0:
        raise DomainError("A stipend is an amount above $0; leave it empty if this call pays none.")
    if not 0 <= disagreement_threshold <= 100:
        raise DomainError("The disagreement threshold is a number of points from 0 to 100.")
    if reviewers_per_application < 1:
        raise DomainError("Each application needs at least one reviewer.")
    if default_workload_cap < 0:
        raise DomainError("The workload cap cannot be negative.")
    settings = settings_for(call)
    new = dict(review_closes_at=review_closes_at, show_other_reviews=show_other_reviews,
               disagreement_threshold=disagreement_threshold, reviewers_per_application=reviewers_per_application,
               default_workload_cap=default_workload_cap, stipend_cents=stipend_cents)
    changes = {}
    for name, value in new.items():
        if getattr(settings, name) != value or settings not in db.session:
            old = getattr(settings, name)
            changes[name] = {"from": old.isoformat() if isinstance(old, datetime) else old,
                             "to": value.isoformat() if isinstance(value, datetime) else value}
            setattr(settings, name, value)
    if settings not in db.session:
        db.session.add(settings)
    if changes:
        db.session.flush()
        record_event("review.settings_changed", actor=changed_by, target=call, details=changes)
    return settings


def _require_reviews_open(call, now: datetime | None = None) -> None:
    settings = db.session.get(ReviewSettings, call.id)
    closes_at = settings.review_closes_at if settings is not None else None
    if closes_at is not None and (now or utcnow()) >= closes_at:
        raise DomainError(f"The review closed on {format_instant(closes_at, call.time_zone)}. Move "
                          "the closing time later in the review settings first.")


# --- the panel --------------------------------------------------------------------------

def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def panel_members(call) -> list[PanelMember]:
    status_order = {PanelMemberStatus.ACTIVE: 0, PanelMemberStatus.INVITED: 1, PanelMemberStatus.DECLINED: 2,
                    PanelMemberStatus.REMOVED: 3}
    members = db.session.scalars(select(PanelMember).where(PanelMember.call_id == call.id)).all()
    return sorted(members, key=lambda m: (status_order[m.status], m.sub_panel.lower(),
                                          (m.user.full_name if m.user else m.email).lower(), m.id))


def active_members(call) -> list[PanelMember]:
    return [m for m in panel_members(call) if m.status is PanelMemberStatus.ACTIVE]


def sub_panels(call) -> list[str]:
    return sorted({m.sub_panel for m in panel_members(call) if m.sub_panel}, key=str.lower)


def reviewer_loads(call) -> dict[int, int]:
    """Reviewer user id → assignments on this call that count toward their workload cap."""
    rows = db.session.execute(
        select(ReviewAssignment.reviewer_id, func.count())
        .where(ReviewAssignment.call_id == call.id, ReviewAssignment.status.in_(COUNTING_STATUSES))
        .group_by(ReviewAssignment.reviewer_id))
    return {reviewer_id: count for reviewer_id, count in rows}


@dataclass(frozen=True)
class PoolReviewer:
    """An existing reviewer an officer may invite to a call's panel, with their load now."""

    user: User
    organisation_name: str
    open_reviews: int  # assigned or in progress, on any call
    assignments: int  # that count toward a workload (open or submitted), on any call

    @property
    def label(self) -> str:
        return (f"{self.user.full_name} — {self.organisation_name} · {self.open_reviews} open review"
                f"{'s' if self.open_reviews != 1 else ''}, {self.assignments} assignment"
                f"{'s' if self.assignments != 1 else ''} in all")


def reviewer_pool(call) -> list[PoolReviewer]:
    """The active users with the Reviewer role who are neither on the call's panel nor invited
    to it, by name, each with their load across calls: one aggregate query, whatever their number."""
    from grants.accounts.enums import UserStatus
    from grants.accounts.models import Organisation

    on_panel = select(PanelMember.email).where(
        PanelMember.call_id == call.id, PanelMember.status.in_((PanelMemberStatus.ACTIVE, PanelMemberStatus.INVITED)))
    open_reviews = func.count(ReviewAssignment.id).filter(ReviewAssignment.status.in_(OPEN_STATUSES))
    assignments = func.count(ReviewAssignment.id).filter(ReviewAssignment.status.in_(COUNTING_STATUSES))
    rows = db.session.execute(
        select(User, Organisation.name, open_reviews, assignments)
        .join(Organisation, Organisation.id == User.organisation_id)
        .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == Role.REVIEWER))
        .outerjoin(ReviewAssignment, ReviewAssignment.reviewer_id == User.id)
        .where(User.status == UserStatus.ACTIVE, User.email.not_in(on_panel))
        .group_by(User.id, Organisation.name)
        .order_by(func.lower(User.full_name), User.id))
    return [PoolReviewer(user, organisation_name, open_count, total)
            for user, organisation_name, open_count, total in rows]


def _clean_cap(workload_cap: int | None, call) -> int:
    cap = settings_for(call).default_workload_cap if workload_cap is None else workload_cap
    if cap < 0:
        raise DomainError("The workload cap cannot be negative.")
    return cap


def invite_panel_member(call, *, email: str, invited_by, sub_panel: str = "",
                        workload_cap: int | None = None) -> PanelMember:
    """Invite someone by e-mail to the call's panel; the e-mailed link works once.

    Whoever accepts logs in with that address (registering first if they have no account);
    they become an active member and gain the Reviewer role then. Someone who declined or
    was removed can be invited again. Side effects: an audit event and the e-mail.
    """
    if call.is_archived:
        raise DomainError("This call is archived; its panel can no longer change.")
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise DomainError("Give the e-mail address of the reviewer to invite.")
    sub_panel = (sub_panel or "").strip()
    cap = _clean_cap(workload_cap, call)
    token = secrets.token_urlsafe(32)
    member = db.session.scalar(select(PanelMember).where(PanelMember.call_id == call.id, PanelMember.email == email))
    if member is None:
        member = PanelMember(call_id=call.id, email=email, status=PanelMemberStatus.INVITED)
        db.session.add(member)
    elif member.status is PanelMemberStatus.ACTIVE:
        raise DomainError(f"{email} is already on this call's panel.")
    elif member.status is PanelMemberStatus.INVITED:
        raise DomainError(f"{email} is already invited; the invitation is waiting for an answer.")
    else:
        apply_transition(member, PanelMemberStatus.INVITED, PANEL_MEMBER_TRANSITIONS, actor=invited_by,
                         action="panel.member_reinvited", details={"email": email})
        member.declined_at = member.removed_at = None
    member.sub_panel, member.workload_cap = sub_panel, cap
    member.token_hash = _token_digest(token)
    member.invited_by_id, member.invited_at = invited_by.id, utcnow()
    db.session.flush()
    record_event("panel.member_invited", actor=invited_by, target=member,
                 details={"call_id": call.id, "email": email, "sub_panel": sub_panel, "workload_cap": cap})
    existing_user = find_user_by_email(email)
    queue_email(recipient=email, recipient_user=existing_user, kind="panel_invitation", template="panel_invitation",
                subject=f"Invitation to review for “{call.title}”", call=call, member=member, inviter=invited_by,
                has_account=existing_user is not None,
                link=external_url("reviews.accept_panel_invitation", token=token),
                register_link=external_url("accounts.register"))
    return member


def find_panel_invitation(token: str) -> PanelMember | None:
    """The open invitation the token belongs to; None once used, declined or withdrawn."""
    member = db.session.scalar(select(PanelMember).where(PanelMember.token_hash == _token_digest(token)))
    if member is None or member.status is not PanelMemberStatus.INVITED:
        return None
    return member


def check_panel_invitation_acceptable(member: PanelMember, *, user) -> None:
    """Only the invited address may answer; the invitation page asks before it offers buttons."""
    if user.email != member.email:
        raise PermissionDenied(f"This invitation is for {member.email}. Log in with that account to answer it "
                               "(register first if you have no account).")


def open_panel_invitations_for(user) -> list[PanelMember]:
    """The panel invitations addressed to ``user`` and not answered yet, newest first: listed on
    their home page, so the e-mailed link is not the only way in."""
    return list(db.session.scalars(
        select(PanelMember).where(PanelMember.email == normalise_email(user.email),
                                  PanelMember.status == PanelMemberStatus.INVITED)
        .options(joinedload(PanelMember.call)).order_by(PanelMember.invited_at.desc(), PanelMember.id.desc())))


def find_open_panel_invitation_of(member_id: int, *, user) -> PanelMember | None:
    """The open invitation ``member_id`` if it is addressed to ``user``; None otherwise
    (answered, withdrawn, someone else's or never issued: the same answer)."""
    member = db.session.get(PanelMember, member_id)
    if member is None or member.status is not PanelMemberStatus.INVITED or member.email != normalise_email(user.email):
        return None
    return member


def _answer_invitation(member: PanelMember | None, user) -> PanelMember:
    if member is None or member.status is not PanelMemberStatus.INVITED:
        raise DomainError("This invitation has expired, was already answered, or was withdrawn. Ask the program "
                          "officer for a new one.")
    check_panel_invitation_acceptable(member, user=user)
    return member


def accept_panel_invitation(token: str, *, user) -> PanelMember:
    """Accept the invitation of the e-mailed link ``token`` (accept_panel_membership)."""
    return accept_panel_membership(find_panel_invitation(token), user=user)


def decline_panel_invitation(token: str, *, user) -> PanelMember:
    """Decline the invitation of the e-mailed link ``token`` (decline_panel_membership)."""
    return decline_panel_membership(find_panel_invitation(token), user=user)


def accept_panel_membership(member: PanelMember | None, *, user) -> PanelMember:
    """Join the panel: the member becomes active, the link stops working, and the user gains
    the Reviewer role if they lacked it (both audited)."""
    member = _answer_invitation(member, user)
    member.user_id = user.id
    apply_transition(member, PanelMemberStatus.ACTIVE, PANEL_MEMBER_TRANSITIONS, actor=user,
                     action="panel.member_joined", details={"call_id": member.call_id, "email": user.email})
    if not user.has_role(Role.REVIEWER):
        old = sorted(r.value for r in user.roles)
        user.role_rows.append(UserRole(role=Role.REVIEWER))
        record_event("user.roles_changed", actor=user, target=user,
                     details={"from": old, "to": sorted(old + [Role.REVIEWER.value]),
                              "reason": f"accepted the invitation to the review panel of call {member.call_id}"})
    return member


def decline_panel_membership(member: PanelMember | None, *, user) -> PanelMember:
    member = _answer_invitation(member, user)
    apply_transition(member, PanelMemberStatus.DECLINED, PANEL_MEMBER_TRANSITIONS, actor=user,
                     action="panel.member_declined", details={"call_id": member.call_id, "email": user.email})
    return member


def update_panel_member(member: PanelMember, *, changed_by, sub_panel: str, workload_cap: int,
                        stipend_eligible: bool) -> None:
    """Move a member to another sub-panel, change their cap, or tick or untick them for a
    stipend. A cap below what they already have is refused: lowering it would not take any
    assignment away. Ticking funder staff is refused: they are never paid a stipend. The tick is
    kept only where it differs from the rule (stipends.eligible_by_rule)."""
    if member.status in (PanelMemberStatus.REMOVED, PanelMemberStatus.DECLINED):
        raise DomainError(f"{member.email} is not on the panel; invite them again instead.")
    sub_panel = (sub_panel or "").strip()
    if workload_cap < 0:
        raise DomainError("The workload cap cannot be negative.")
    load = reviewer_loads(member.call).get(member.user_id, 0) if member.user_id else 0
    if workload_cap < load:
        raise DomainError(f"{member.email} already has {load} assignments on this call; the cap cannot be lower "
                          "than that. Withdraw assignments first.")
    funder_ids = stipends.funder_organisation_ids()
    if stipend_eligible and member.user is not None and stipends.is_funder_staff(member.user, funder_ids):
        raise DomainError(f"{member.email} works for the funder; funder staff are never paid a stipend. Untick them.")
    changes = {}
    if member.sub_panel != sub_panel:
        changes["sub_panel"] = {"from": member.sub_panel, "to": sub_panel}
    if member.workload_cap != workload_cap:
        changes["workload_cap"] = {"from": member.workload_cap, "to": workload_cap}
    was_eligible = stipends.is_eligible(member, funder_ids)
    if was_eligible != stipend_eligible:
        changes["stipend_eligible"] = {"from": was_eligible, "to": stipend_eligible}
    if changes:
        member.sub_panel, member.workload_cap = sub_panel, workload_cap
        by_rule = stipends.eligible_by_rule(member.user, funder_ids)
        member.stipend_eligible = None if stipend_eligible == by_rule else stipend_eligible
        record_event("panel.member_changed", actor=changed_by, target=member, details=changes)


def remove_panel_member(member: PanelMember, *, removed_by) -> None:
    """Take someone off the panel (or withdraw their invitation; its link stops working).

    Refused while they hold open assignments on the call: withdraw or reassign those first,
    so no reviewer's work disappears with a click on their name.
    """
    if member.user_id is not None:
        open_count = db.session.scalar(select(func.count()).select_from(ReviewAssignment).where(
            ReviewAssignment.call_id == member.call_id, ReviewAssignment.reviewer_id == member.user_id,
            ReviewAssignment.status.in_(OPEN_STATUSES)))
        if open_count:
            raise DomainError(f"{member.email} still has {open_count} open assignment"
                              f"{'s' if open_count != 1 else ''} on this call. Withdraw "
                              f"{'them' if open_count != 1 else 'it'} on the assignments page first.")
    apply_transition(member, PanelMemberStatus.REMOVED, PANEL_MEMBER_TRANSITIONS, actor=removed_by,
                     action="panel.member_removed", details={"call_id": member.call_id, "email": member.email})


def membership(call, user) -> PanelMember | None:
    return db.session.scalar(select(PanelMember).where(PanelMember.call_id == call.id,
                                                       PanelMember.user_id == user.id))


# --- assigning --------------------------------------------------------------------------

def applications_in_review(call) -> list[Application]:
    return list(db.session.scalars(
        select(Application).where(Application.call_id == call.id, Application.status == ApplicationStatus.IN_REVIEW)
        .order_by(Application.reference_number, Application.id)))


def applications_in_review_query(call):
    """The call's applications in review, by reference: the assignments page lists them."""
    return (select(Application).where(Application.call_id == call.id, Application.status == ApplicationStatus.IN_REVIEW)
            .order_by(Application.reference_number, Application.id))


def assignments_of(call, application_ids: list[int]) -> list[ReviewAssignment]:
    """The assignments of those of the call's applications, with their reviewers: one query."""
    return list(db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.call_id == call.id,
                                       ReviewAssignment.application_id.in_(application_ids))
        .options(joinedload(ReviewAssignment.reviewer), lazyload(ReviewAssignment.application))
        .order_by(ReviewAssignment.application_id, ReviewAssignment.id)))


def assignments_out_of_review_query(call):
    """Assignments of the call's applications that are no longer in review (kept on record)."""
    return (select(ReviewAssignment).join(Application, Application.id == ReviewAssignment.application_id)
            .where(ReviewAssignment.call_id == call.id, Application.status != ApplicationStatus.IN_REVIEW)
            .order_by(Application.reference_number, ReviewAssignment.id))


def assignments_of_call(call) -> list[ReviewAssignment]:
    return list(db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.call_id == call.id)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .order_by(Application.reference_number, ReviewAssignment.id)))


def _check_due_on(call, due_on: date | None, now: datetime | None) -> None:
    if due_on is None:
        raise DomainError("Give the date the review is due.")
    if due_on < local_today(call, now):
        raise DomainError(f"The due date {format_date(due_on)} has passed already; choose a later one.")
    settings = db.session.get(ReviewSettings, call.id)
    if settings is not None and settings.review_closes_at is not None:
        closes_on = in_zone(settings.review_closes_at, call.time_zone).date()
        if due_on > closes_on:
            raise DomainError(f"The due date {format_date(due_on)} is after the review closes "
                              f"({format_instant(settings.review_closes_at, call.time_zone)}); choose an earlier one.")


def assignment_problem(application: Application, member: PanelMember, *, load: int) -> str | None:
    """Why ``member`` cannot be given ``application`` (None: they can); ``load`` is what they
    already have on the call."""
    user = member.user
    who = user.full_name if user is not None else member.email
    if member.call_id != application.call_id:
        return f"{who} is not on the panel of this application's call."
    if application.status is not ApplicationStatus.IN_REVIEW:
        return (f"{_reference(application)} is {application.status.label.lower()}; only applications in review "
                "get reviewers.")
    if member.status is not PanelMemberStatus.ACTIVE or user is None:
        return (f"{who} has not accepted the invitation to the panel yet." if member.status is PanelMemberStatus.INVITED
                else f"{who} is not on the panel.")
    reasons = conflict_reasons(user, application)
    if reasons:
        return f"{who} cannot review {_reference(application)}: conflicted, {who} " + " and ".join(reasons) + "."
    existing = db.session.scalar(select(ReviewAssignment).where(ReviewAssignment.application_id == application.id,
                                                                 ReviewAssignment.reviewer_id == user.id))
    if existing is not None:
        return f"{who} is already assigned to {_reference(application)} ({existing.status.label.lower()})."
    if load >= member.workload_cap:
        return f"{who} has reached their workload cap of {member.workload_cap} applications on this call."
    return None


def _create_assignment(application: Application, member: PanelMember, *, due_on: date, assigned_by,
                       how: str) -> ReviewAssignment:
    assignment = ReviewAssignment(call_id=application.call_id, application_id=application.id,
                                  reviewer_id=member.user_id, due_on=due_on, assigned_by_id=assigned_by.id,
                                  status=AssignmentStatus.ASSIGNED)
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
    except IntegrityError:
        # Another officer assigned the same pair a moment ago.
        raise DomainError(f"{member.user.full_name} was assigned to {_reference(application)} a moment ago by "
                          "someone else. Reload the page.") from None
    record_event("review.assigned", actor=assigned_by, target=assignment,
                 details={"application_id": application.id, "reference": application.reference_number,
                          "reviewer_id": member.user_id, "reviewer": member.user.email,
                          "due_on": due_on.isoformat(), "how": how})
    return assignment


def _lock_member(member: PanelMember) -> PanelMember:
    """Lock the member's row and re-read what the checks use: two officers assigning the same
    reviewer at once cannot both pass the cap check (PostgreSQL; SQLite serialises writers).
    Only its own columns are read: FOR UPDATE refuses the outer join to the user."""
    db.session.refresh(member, attribute_names=["status", "workload_cap", "user_id"], with_for_update=True)
    return member


def _tell_reviewer(user, assignments: list[ReviewAssignment], call) -> None:
    queue_email(recipient=user.email, recipient_user=user, kind="review_assigned", template="review_assigned",
                subject=f"{len(assignments)} application{'s' if len(assignments) != 1 else ''} to review for "
                        f"“{call.title}”",
                user=user, call=call, assignments=assignments,
                links={a.id: external_url("reviews.assignment_detail", assignment_id=a.id) for a in assignments},
                list_link=external_url("reviews.my_reviews"))


def assign_reviewer(application: Application, member: PanelMember, *, due_on: date | None, assigned_by,
                    now: datetime | None = None) -> ReviewAssignment:
    """Assign one panel member to one application in review, by hand.

    Refused for a conflicted reviewer (with the reason), one not (yet) on the panel, one
    already on the application, one at their cap, a due date in the past or after the
    review closes. Side effects: the assignment, an audit event, an e-mail to the reviewer.
    """
    call = application.call
    _require_reviews_open(call, now)
    _check_due_on(call, due_on, now)
    member = _lock_member(member)
    problem = assignment_problem(application, member, load=reviewer_loads(call).get(member.user_id, 0))
    if problem:
        raise DomainError(problem)
    assignment = _create_assignment(application, member, due_on=due_on, assigned_by=assigned_by, how="manual")
    _tell_reviewer(member.user, [assignment], call)
    return assignment


def propose(call, *, per_application: int, mix_sub_panels: bool) -> Proposal:
    """The automatic assigner's proposal for the call's applications in review (nothing saved)."""
    if per_application < 1:
        raise DomainError("Ask for at least one reviewer per application.")
    applications = applications_in_review(call)
    members = active_members(call)
    loads = reviewer_loads(call)
    candidates = [Candidate(reviewer_id=m.user_id, cap=m.workload_cap, load=loads.get(m.user_id, 0),
                            sub_panel=m.sub_panel) for m in members]
    existing = [Existing(a.application_id, a.reviewer_id, a.status in COUNTING_STATUSES)
                for a in assignments_of_call(call)]
    conflicts = [(application.id, member.user_id) for application in applications for member in members
                 if conflict_reasons(member.user, application)]
    return propose_assignments([a.id for a in applications], candidates, per_application=per_application,
                               existing=existing, conflicts=conflicts, mix_sub_panels=mix_sub_panels)


def confirm_assignments(call, pairs: list[tuple[int, int]], *, due_on: date | None, assigned_by,
                        now: datetime | None = None) -> list[ReviewAssignment]:
    """Create the (application id, panel member id) pairs the officer kept, all or none.

    Every pair is checked again as if assigned by hand (a proposal travels through the
    officer's browser and may be stale): any refusal refuses the lot, listing each reason.
    Each reviewer gets one e-mail listing their new applications.
    """
    _require_reviews_open(call, now)
    _check_due_on(call, due_on, now)
    if not pairs:
        raise DomainError("Tick at least one reviewer to assign.")
    applications = {a.id: a for a in applications_in_review(call)}
    members = {m.id: m for m in panel_members(call)}
    loads = reviewer_loads(call)
    problems, accepted = [], []
    for application_id, member_id in sorted(set(pairs)):
        application, member = applications.get(application_id), members.get(member_id)
        if application is None or member is None:
            problems.append("One of the ticked pairs is no longer possible (the application left review or the "
                            "reviewer left the panel).")
            continue
        member = _lock_member(member)
        problem = assignment_problem(application, member, load=loads.get(member.user_id, 0))
        if problem:
            problems.append(problem)
            continue
        loads[member.user_id] = loads.get(member.user_id, 0) + 1
        accepted.append((application, member))
    if problems:
        raise DomainError("Nothing was assigned. " + " ".join(dict.fromkeys(problems)))
    created = [_create_assignment(application, member, due_on=due_on, assigned_by=assigned_by, how="automatic")
               for application, member in accepted]
    by_reviewer: dict[int, list[ReviewAssignment]] = defaultdict(list)
    for assignment in created:
        by_reviewer[assignment.reviewer_id].append(assignment)
    for reviewer_id, assignments in sorted(by_reviewer.items()):
        _tell_reviewer(db.session.get(User, reviewer_id), assignments, call)
    return created


def withdraw_assignment(assignment: ReviewAssignment, *, withdrawn_by) -> None:
    """Take an open assignment back from its reviewer (the row goes; the audit log keeps it).

    Only an assignment still open: a submitted review, a declaration of conflict and a
    decline stay on record. A draft review, if the reviewer started one, goes with it.
    """
    if assignment.status not in OPEN_STATUSES:
        raise DomainError(f"This assignment is {assignment.status.label.lower()}; it stays on record and cannot be "
                          "withdrawn.")
    application, reviewer = assignment.application, assignment.reviewer
    record_event("review.assignment_withdrawn", actor=withdrawn_by, target=assignment,
                 details={"application_id": application.id, "reference": application.reference_number,
                          "reviewer": reviewer.email, "status": assignment.status.value,
                          "draft_review_discarded": assignment.review is not None})
    db.session.delete(assignment)
    queue_email(recipient=reviewer.email, recipient_user=reviewer, kind="review_withdrawn",
                template="review_withdrawn", subject=f"Review no longer needed: {_reference(application)}",
                user=reviewer, application=application, list_link=external_url("reviews.my_reviews"))


# --- the reviewer's answers ---------------------------------------------------------------

def _require_reviewer(assignment: ReviewAssignment, user) -> None:
    if assignment.reviewer_id != user.id:
        raise PermissionDenied("Only the reviewer this application is assigned to can answer for it.")


def _require_not_conflicted(assignment: ReviewAssignment, user) -> None:
    reasons = conflict_reasons(user, assignment.application)
    if reasons:
        raise PermissionDenied("You cannot review this application: you " + " and ".join(reasons)
                               + ". The program officer will assign someone else.")


def attest_no_conflict(assignment: ReviewAssignment, *, reviewer) -> None:
    """The reviewer attests they have no conflict: the assignment is in progress and they may
    read the application. Refused to anyone conflicted automatically."""
    _require_reviewer(assignment, reviewer)
    _require_not_conflicted(assignment, reviewer)
    assignment.attested_at = utcnow()
    apply_transition(assignment, AssignmentStatus.IN_PROGRESS, ASSIGNMENT_TRANSITIONS, actor=reviewer,
                     action="review.no_conflict_attested",
                     details={"application_id": assignment.application_id,
                              "after_waiver": assignment.waived_at is not None})


def declare_conflict(assignment: ReviewAssignment, *, reviewer, reason: str) -> None:
    """The reviewer declares a conflict, with what it is; the program officer sees it and may
    waive it or assign someone else."""
    _require_reviewer(assignment, reviewer)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say what the conflict is; the program officer reads it to decide.")
    if assignment.status is not AssignmentStatus.ASSIGNED:
        raise DomainError(f"This assignment is {assignment.status.label.lower()}; a conflict is declared before "
                          "attesting, instead of it.")
    assignment.conflict_declared_at = utcnow()
    assignment.conflict_reason = reason
    apply_transition(assignment, AssignmentStatus.CONFLICTED, ASSIGNMENT_TRANSITIONS, actor=reviewer,
                     action="review.conflict_declared",
                     details={"application_id": assignment.application_id, "reason": reason})


def decline_assignment(assignment: ReviewAssignment, *, reviewer, reason: str) -> None:
    _require_reviewer(assignment, reviewer)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason for declining; the program officer reads it.")
    if assignment.status is not AssignmentStatus.ASSIGNED:
        raise DomainError(f"This assignment is {assignment.status.label.lower()}; only an assignment you have not "
                          "started can be declined.")
    assignment.decline_reason = reason
    apply_transition(assignment, AssignmentStatus.DECLINED, ASSIGNMENT_TRANSITIONS, actor=reviewer,
                     action="review.assignment_declined",
                     details={"application_id": assignment.application_id, "reason": reason})


def waive_conflict(assignment: ReviewAssignment, *, officer, reason: str) -> None:
    """The program officer waives a declared conflict, with a reason: the assignment is
    assigned again and the reviewer must attest before they see anything. A conflict the
    rules find by themselves (lead, partner, collaborator) can never be waived."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for waiving this conflict; it is kept in the audit log and the reviewer "
                          "sees it.")
    if assignment.status is not AssignmentStatus.CONFLICTED:
        raise DomainError(f"This assignment is {assignment.status.label.lower()}; only a declared conflict can be "
                          "waived.")
    automatic = conflict_reasons(assignment.reviewer, assignment.application)
    if automatic:
        raise DomainError(f"{assignment.reviewer.full_name} " + " and ".join(automatic)
                          + ": that conflict cannot be waived. Assign another reviewer.")
    assignment.waived_at = utcnow()
    assignment.waived_by_id = officer.id
    assignment.waiver_reason = reason
    # The declaration stays (conflict_reason, conflicted_at); it is no longer the current one.
    assignment.conflict_declared_at = None
    assignment.attested_at = None
    apply_transition(assignment, AssignmentStatus.ASSIGNED, ASSIGNMENT_TRANSITIONS, actor=officer,
                     action="review.conflict_waived",
                     details={"application_id": assignment.application_id, "reviewer": assignment.reviewer.email,
                              "declared_reason": assignment.conflict_reason, "reason": reason})
    reviewer = assignment.reviewer
    queue_email(recipient=reviewer.email, recipient_user=reviewer, kind="review_conflict_waived",
                template="review_conflict_waived",
                subject=f"Conflict waived: {_reference(assignment.application)}", user=reviewer,
                assignment=assignment, reason=reason,
                link=external_url("reviews.assignment_detail", assignment_id=assignment.id))


# --- reminders --------------------------------------------------------------------------

@dataclass
class ReminderCounts:
    due_soon: int = 0
    overdue: int = 0


def queue_review_reminders(*, due_soon_days: int = 3, now: datetime | None = None) -> ReminderCounts:
    """E-mail each reviewer whose open assignment is due within ``due_soon_days`` days, and
    each whose assignment is overdue: each kind at most once per assignment, however often
    this runs (the outbox's dedupe key). An assignment first seen already overdue gets only
    the overdue e-mail. Only assigned and in-progress assignments are reminded."""
    counts = ReminderCounts()
    assignments = db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.status.in_(OPEN_STATUSES),
                                       ReviewAssignment.due_on.is_not(None))
        .order_by(ReviewAssignment.id))
    for assignment in assignments:
        call = assignment.call
        today = local_today(call, now)
        if today > assignment.due_on:
            kind = "overdue"
        elif (assignment.due_on - today) <= timedelta(days=due_soon_days):
            kind = "due-soon"
        else:
            continue
        reviewer = assignment.reviewer
        message = queue_email(
            recipient=reviewer.email, recipient_user=reviewer, kind=f"review_reminder_{kind.replace('-', '_')}",
            dedupe_key=f"review-reminder:{assignment.id}:{kind}", template="review_reminder",
            subject=(f"Overdue review: {_reference(assignment.application)}" if kind == "overdue"
                     else f"Review due {format_date(assignment.due_on, with_year=False)}: {_reference(assignment.application)}"),
            user=reviewer, assignment=assignment, overdue=kind == "overdue",
            days_left=(assignment.due_on - today).days,
            link=external_url("reviews.assignment_detail", assignment_id=assignment.id))
        if message is not None:
            if kind == "overdue":
                counts.overdue += 1
            else:
                counts.due_soon += 1
    return counts
