"""Fixtures of the calls tests: an officer and a call factory (see factories.py)."""

from __future__ import annotations

import pytest

from grants.accounts.enums import OrganisationKind, Role
from tests.calls.factories import build_call


@pytest.fixture
def officer(make_user, make_organisation):
    return make_user(Role.PROGRAM_OFFICER, organisation=make_organisation(kind=OrganisationKind.OTHER))


@pytest.fixture
def make_call(officer):
    """``make_call(publish=False, items=True, **fields)``: see factories.build_call."""

    def make(**kwargs):
        return build_call(officer, **kwargs)

    return make
