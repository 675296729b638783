"""The main navigation, by role: each user sees the sections their roles open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str

    @property
    def url(self) -> str:
        return url_for(self.endpoint)

    @property
    def is_current(self) -> bool:
        return request.endpoint == self.endpoint


def navigation_for(user) -> list[NavItem]:
    from grants.accounts.permissions import can_list_organisations, can_manage_users, can_view_audit_log
    from grants.accounts.enums import Role
    from grants.awards.permissions import can_decide
    from grants.awards.services import has_awards
    from grants.calls.permissions import can_manage_calls
    from grants.reviews.permissions import is_reviewer

    items = [NavItem(_l("Home"), "core.home"), NavItem(_l("Funding calls"), "calls.list_calls")]
    if not user.is_authenticated:
        return items
    if user.has_role(Role.APPLICANT):
        items.append(NavItem(_l("My applications"), "applications.my_applications"))
    if user.has_role(Role.APPLICANT) and has_awards(user):
        items.append(NavItem(_l("My awards"), "awards.my_awards"))
    if is_reviewer(user):
        items.append(NavItem(_l("My reviews"), "reviews.my_reviews"))
    items.append(NavItem(_l("My organisation"), "accounts.my_organisation"))
    if can_manage_calls(user):
        items.append(NavItem(_l("Manage calls"), "calls.manage_calls"))
    if can_decide(user):
        items.append(NavItem(_l("Portfolio"), "awards.portfolio"))
    if can_list_organisations(user):
        items.append(NavItem(_l("Organisations"), "accounts.organisations"))
    if can_manage_users(user):
        items.append(NavItem(_l("Users"), "accounts.users"))
        items.append(NavItem(_l("Registrations"), "accounts.pending_registrations"))
    if can_view_audit_log(user):
        items.append(NavItem(_l("Audit log"), "audit.log"))
    return items
