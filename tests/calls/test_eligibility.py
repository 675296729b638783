"""Check before you start: the verdict and its reasons from the call's rules, on a page anyone
can use without an account, in English and Spanish."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest

from grants.accounts.enums import OrganisationKind
from grants.calls import eligibility
from grants.core.types import utcnow
from grants.extensions import db
from tests.applications.fixtures import make_call

MEMBER = OrganisationKind.MEMBER_INSTITUTION
NONPROFIT = OrganisationKind.COMMUNITY_NONPROFIT
HEALTH = OrganisationKind.PUBLIC_HEALTH_AGENCY


@pytest.fixture
def call(app):
    with app.test_request_context():
        yield make_call()  # a member institution leads, two community partners, $50,000 to $250,000


def _check(call, lead=MEMBER, partners=None, amount=None):
    return eligibility.check(call, eligibility.Plan(lead_kind=lead, partners=partners or {}, amount_cents=amount))


def test_a_plan_within_the_rules_can_apply_with_reminders(call):
    verdict = _check(call, partners={NONPROFIT: 1, HEALTH: 1}, amount=10_000_000)
    assert verdict.can_apply and verdict.reasons == []
    assert any("community partners" in reminder for reminder in verdict.reminders)


@pytest.mark.parametrize("plan, reason", [
    (dict(lead=NONPROFIT, partners={NONPROFIT: 2}), "The lead organisation must be one of: member institution"),
    (dict(lead=None, partners={NONPROFIT: 2}), "Say what kind of organisation would lead"),
    (dict(partners={NONPROFIT: 1}), "at least 2 partner organisations"),
    # A member institution is not a partner kind this call counts.
    (dict(partners={NONPROFIT: 1, MEMBER: 3}), "you named 1"),
    (dict(partners={NONPROFIT: 2}, amount=1_000_000), "Awards run from $50,000 to $250,000"),
    (dict(partners={NONPROFIT: 2}, amount=30_000_000), "you plan to ask for $300,000"),
])
def test_each_rule_the_plan_breaks_is_a_reason(call, plan, reason):
    verdict = _check(call, **plan)
    assert not verdict.can_apply
    assert any(reason in text for text in verdict.reasons), verdict.reasons


def test_a_closed_or_upcoming_call_says_when(call):
    call.closes_at = utcnow() - timedelta(days=1)
    call.opens_at = utcnow() - timedelta(days=30)
    assert "The call is closed" in _check(call, partners={NONPROFIT: 2}).reasons[0]
    call.opens_at, call.closes_at = utcnow() + timedelta(days=3), utcnow() + timedelta(days=30)
    assert _check(call, partners={NONPROFIT: 2}).reasons[0].startswith("The call opens on")


def test_the_page_works_without_an_account_and_keeps_nothing(client, call):
    db.session.commit()
    page = unescape(client.get(f"/calls/{call.id}").get_data(as_text=True))
    assert f'/calls/{call.id}/can-we-apply' in page
    page = unescape(client.get(f"/calls/{call.id}/can-we-apply").get_data(as_text=True))
    assert "Can we apply?" in page and "Not as things stand" not in page
    response = client.get(f"/calls/{call.id}/can-we-apply?checked=1&lead_kind=member_institution"
                          "&partners_community_nonprofit=1&partners_public_health_agency=1&amount=100000")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Yes: from what you told us, you can apply" in page
    page = unescape(client.get(f"/calls/{call.id}/can-we-apply?checked=1&lead_kind=community_nonprofit").get_data(
        as_text=True))
    assert "Not as things stand" in page and "can join an application as a partner" in page


def test_hostile_answers_get_a_message_not_an_error(client, call):
    db.session.commit()
    for query in ("lead_kind=spaceship", "partners_community_nonprofit=-4", "partners_community_nonprofit=lots",
                  "amount=$$$", "amount=1e99", "partners_other=999999999999"):
        response = client.get(f"/calls/{call.id}/can-we-apply?checked=1&{query}")
        assert response.status_code == 200, query
        page = response.get_data(as_text=True)
        assert "There is a problem" in page and "<title>Error: " in page, query


def test_the_check_in_spanish(client, call):
    db.session.commit()
    client.post("/language", data={"language": "es", "next": "/"})
    page = unescape(client.get(f"/calls/{call.id}/can-we-apply?checked=1&lead_kind=community_nonprofit").get_data(
        as_text=True))
    assert "¿Podemos presentar una solicitud?" in page and "Por ahora, no" in page
