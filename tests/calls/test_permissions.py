"""Who may manage calls, and who may see a call in each of its states."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from grants.accounts.enums import Role
from grants.calls.enums import CallStatus
from grants.calls.models import Call
from grants.calls.permissions import can_manage_calls, can_view_call


@pytest.mark.parametrize("role, allowed", [
    (Role.APPLICANT, False), (Role.REVIEWER, False), (Role.PROGRAM_OFFICER, True), (Role.ADMIN, True),
])
def test_can_manage_calls_is_for_program_officers_and_admins(make_user, role, allowed):
    assert can_manage_calls(make_user(role)) is allowed


def test_can_manage_calls_refuses_anonymous_visitors():
    assert not can_manage_calls(AnonymousUserMixin())


@pytest.mark.parametrize("status, public", [
    (CallStatus.DRAFT, False), (CallStatus.PUBLISHED, True), (CallStatus.ARCHIVED, False),
])
def test_can_view_call_shows_only_published_calls_to_the_public(make_user, status, public):
    call = Call(title="A call", time_zone="UTC", status=status)
    assert can_view_call(AnonymousUserMixin(), call) is public
    assert can_view_call(make_user(Role.APPLICANT), call) is public
    assert can_view_call(make_user(Role.REVIEWER), call) is public
    assert can_view_call(make_user(Role.PROGRAM_OFFICER), call)
    assert can_view_call(make_user(Role.ADMIN), call)
