"""The main navigation, by role: each user sees the sections their roles open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for


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

    items = [NavItem("Home", "core.home")]
    if not user.is_authenticated:
        return items
    items.append(NavItem("My organisation", "accounts.my_organisation"))
    if can_list_organisations(user):
        items.append(NavItem("Organisations", "accounts.organisations"))
    if can_manage_users(user):
        items.append(NavItem("Users", "accounts.users"))
        items.append(NavItem("Registrations", "accounts.pending_registrations"))
    if can_view_audit_log(user):
        items.append(NavItem("Audit log", "audit.log"))
    return items
