"""Who may do what in review: predicates on (user, call / application / assignment)."""

from __future__ import annotations

from grants.accounts.enums import Role
from grants.accounts.permissions import is_staff
from grants.reviews.enums import AssignmentStatus


def can_manage_review(user) -> bool:
    """Invite reviewers, assign, waive conflicts, see results: program officers and admins."""
    return is_staff(user)


def can_manage_stipends(user) -> bool:
    """See a call's stipends, record and undo payments, export them: funder staff. Everyone
    else sees only their own stipends, on their list of reviews."""
    return is_staff(user)


def is_reviewer(user) -> bool:
    return user.is_authenticated and user.has_role(Role.REVIEWER)


def conflict_reasons(user, application) -> list[str]:
    """Why ``user`` is conflicted on ``application`` automatically (empty: not automatically).

    A reviewer of the lead or of any partner organisation, and anyone working on the
    application (its owner or a collaborator), can never review it.
    """
    reasons = []
    if user.organisation_id == application.lead_organisation_id:
        reasons.append(f"works at the lead organisation, {application.lead_organisation.name}")
    for partner in application.partners:
        if user.organisation_id == partner.organisation_id:
            reasons.append(f"works at a partner organisation, {partner.organisation.name}")
    if application.owner_id == user.id or any(
            c.user_id == user.id or c.email == user.email for c in application.collaborators):
        reasons.append("works on the application")
    return reasons


def is_conflicted(user, application) -> bool:
    return bool(conflict_reasons(user, application))


def can_respond_to_assignment(user, assignment) -> bool:
    """The assigned reviewer: attest, declare a conflict, or decline."""
    return user.is_authenticated and assignment.reviewer_id == user.id


def can_read_application_for_review(user, assignment) -> bool:
    """The assigned reviewer, after attesting no conflict (or a waiver and then attesting),
    never when conflicted automatically."""
    return (can_respond_to_assignment(user, assignment)
            and assignment.status in (AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED)
            and not is_conflicted(user, assignment.application))
