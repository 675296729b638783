"""Who may see and manage calls: predicates on (user, call)."""

from __future__ import annotations

from grants.accounts.permissions import is_staff


def can_manage_calls(user) -> bool:
    """Write, publish and archive calls: program officers and admins."""
    return is_staff(user)


def can_view_call(user, call) -> bool:
    """A published call is public; drafts and archived calls only funder staff see."""
    return call.is_published or can_manage_calls(user)
