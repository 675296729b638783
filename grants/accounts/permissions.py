"""Who may do what with accounts and organisations: predicates on (user, object)."""

from __future__ import annotations

from grants.accounts.enums import Role


def is_admin(user) -> bool:
    return user.is_authenticated and user.has_role(Role.ADMIN)


def is_staff(user) -> bool:
    """Funder staff: program officers and admins."""
    return user.is_authenticated and user.has_role(Role.ADMIN, Role.PROGRAM_OFFICER)


def can_manage_users(user) -> bool:
    return is_admin(user)


def can_view_audit_log(user) -> bool:
    return is_staff(user)


def can_list_organisations(user) -> bool:
    return is_staff(user)


def can_view_organisation(user, organisation) -> bool:
    return user.is_authenticated and (is_staff(user) or user.organisation_id == organisation.id)


def can_edit_organisation(user, organisation) -> bool:
    return is_admin(user)


def can_add_organisation_document(user, organisation) -> bool:
    return user.is_authenticated and (is_admin(user) or user.organisation_id == organisation.id)


def can_download_organisation_document(user, organisation) -> bool:
    return can_view_organisation(user, organisation)
