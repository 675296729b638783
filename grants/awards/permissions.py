"""Who may do what with decisions, awards, milestones, payments and reports."""

from __future__ import annotations

from grants.accounts.permissions import is_staff
from grants.awards.enums import AwardStatus


def can_decide(user) -> bool:
    """Record and release decisions, manage awards, milestones and payments."""
    return is_staff(user)


def _grantee_collaboration(user, award):
    application = award.application
    if not user.is_authenticated:
        return None
    if application.owner_id == user.id:
        return "owner"
    return next(("collaborator" for c in application.collaborators if c.user_id == user.id and c.is_active), None)


def is_grantee(user, award) -> bool:
    """The application's owner and its active collaborators (lead and partner staff)."""
    return _grantee_collaboration(user, award) is not None


def can_view_award(user, award) -> bool:
    return is_grantee(user, award) or is_staff(user)


def can_respond_to_offer(user, award) -> bool:
    """Accept or decline: the application's owner, while the award is offered."""
    return award.status is AwardStatus.OFFERED and _grantee_collaboration(user, award) == "owner"


def can_file_report(user, award) -> bool:
    """Lead and partner collaborators file milestone reports on an active award."""
    return award.status is AwardStatus.ACTIVE and is_grantee(user, award)


def can_sign_off_report(user, partner) -> bool:
    """A partner's named contact, from the partner organisation, invited to the application:
    the identity rule of application sign-off (grants.applications.permissions)."""
    application = partner.application
    return (user.is_authenticated
            and any(c.user_id == user.id and c.is_active for c in application.collaborators)
            and user.email == partner.contact_email.lower() and user.organisation_id == partner.organisation_id)
