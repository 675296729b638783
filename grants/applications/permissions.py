"""Who may see and change an application: predicates on (user, application) and its state."""

from __future__ import annotations

from grants.accounts.enums import Role
from grants.accounts.permissions import is_staff
from grants.applications.enums import ApplicationStatus, CollaboratorRole


def _collaboration(user, application):
    if not user.is_authenticated:
        return None
    return next((c for c in application.collaborators if c.user_id == user.id and c.is_active), None)


def is_owner(user, application) -> bool:
    return user.is_authenticated and application.owner_id == user.id


def is_editor(user, application) -> bool:
    collaboration = _collaboration(user, application)
    return is_owner(user, application) or (
        collaboration is not None and collaboration.role is CollaboratorRole.EDITOR)


def can_start_application(user, call, now=None) -> bool:
    """An active applicant of an approved organisation of a kind the call accepts as lead,
    while the call is open (at ``now``, default the server clock)."""
    is_taking = call.is_loi_open(now) if call.is_two_stage else call.is_open(now)
    return (user.is_authenticated and user.has_role(Role.APPLICANT) and user.organisation.is_approved
            and call.is_published and is_taking
            and (not call.lead_kinds or user.organisation.kind.value in call.lead_kinds))


def can_start_full_proposal(user, loi, now=None) -> bool:
    """The lead (owner) of an invited letter of intent, once, while the call takes full proposals."""
    return (loi.is_loi and loi.status is ApplicationStatus.INVITED and is_owner(user, loi)
            and loi.full_proposal is None and loi.call.is_open(now))


def can_screen_loi(user, loi) -> bool:
    """Staff, on a submitted letter of intent not yet released."""
    return is_staff(user) and loi.is_loi and loi.status is ApplicationStatus.SUBMITTED


def can_view_application(user, application) -> bool:
    """Its owner and collaborators; funder staff once it is submitted (drafts are private)."""
    if is_owner(user, application) or _collaboration(user, application) is not None:
        return True
    return is_staff(user) and not application.is_draft


def can_edit_application(user, application) -> bool:
    return application.is_draft and is_editor(user, application)


def can_submit_application(user, application) -> bool:
    return can_edit_application(user, application)


def can_withdraw_application(user, application) -> bool:
    return application.status is ApplicationStatus.SUBMITTED and is_owner(user, application)


def can_discard_application(user, application) -> bool:
    """The owner (who leads it) while it is a draft; nothing submitted is ever discarded."""
    return application.is_draft and is_owner(user, application)


def can_manage_collaborators(user, application) -> bool:
    return is_owner(user, application)


def can_sign_off_partner(user, partner) -> bool:
    """The partner's named contact, from the partner organisation, invited to the application."""
    application = partner.application
    return (application.is_draft and _collaboration(user, application) is not None
            and user.email == partner.contact_email.lower() and user.organisation_id == partner.organisation_id)


def can_screen_application(user, application) -> bool:
    return is_staff(user) and application.status is ApplicationStatus.SUBMITTED and not application.is_loi


def can_view_intake(user) -> bool:
    return is_staff(user)
