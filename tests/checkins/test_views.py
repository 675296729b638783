"""The check-in pages: each organisation's own page (never another's answers), refusals that
keep what was chosen, the report's pages, the staff's award and portfolio pages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.audit.models import AuditEvent
from grants.checkins import services
from grants.checkins.enums import CheckInResponse
from grants.checkins.models import FollowUpNote
from grants.extensions import db
from tests.reports.factories import officer_for, submit
from tests.checkins.factories import STATEMENTS, answer, check_in_award, people

CANDID = "The lead decides and tells us afterwards."


@pytest.fixture
def award(make_user, make_organisation):
    award = check_in_award(make_user, make_organisation)
    db.session.commit()
    return award


@pytest.fixture
def officer(make_user, make_organisation):
    return officer_for(make_user, make_organisation)


def _page(response) -> str:
    return unescape(response.get_data(as_text=True))


def _url(award, milestone=None):
    milestone = milestone or award.milestones[0]
    return f"/awards/{award.id}/milestones/{milestone.id}/check-in"


def _form(award, *ratings, action="answer", version=0, **extra):
    statements = services.statements(award)
    data = {action: "1", "version": str(version)}
    for statement, rating in zip(statements, ratings):
        data[f"rating_{statement.id}"] = str(rating)
    data.update(extra)
    return data


def test_a_partner_answers_in_confidence(client, login, award):
    _, community, _ = people(award)
    login(community)
    page = _page(client.get(_url(award)))
    assert f"{award.application.lead_organisation.name} does not see them" in page
    assert all(text in page for text in STATEMENTS)
    assert "Funds your organisation has received" in page
    statement = services.statements(award)[0]
    response = client.post(_url(award), data=_form(award, 2, 3, 4, **{f"comment_{statement.id}": CANDID,
                                                                        "funds_received": "$12,500"}))
    assert response.status_code == 302
    check_in = services.check_ins_of(award.milestones[0])[community.organisation_id]
    assert [r.rating for r in check_in.ratings] == [2, 3, 4] and check_in.funds_received_cents == 1_250_000
    page = _page(client.get(_url(award)))
    assert "Answered" in page and CANDID in page  # their own answers come back to them


def test_the_lead_never_sees_a_partners_answers(client, login, award):
    lead, community, _ = people(award)
    answer(award.milestones[0], community, 1, 1, 1, comment=CANDID)
    db.session.commit()
    login(lead)
    for url in (_url(award), f"/awards/{award.id}/milestones/{award.milestones[0].id}/report"):
        page = _page(client.get(url))
        assert CANDID not in page, url
    page = _page(client.get(_url(award)))
    assert "Each partner answers separately" in page and "Not answered yet" in page
    # Staff pages are refused to the lead.
    assert client.get(f"/manage/awards/{award.id}/partnership").status_code == 403


def test_an_incomplete_answer_is_refused_and_keeps_what_was_chosen(client, login, award):
    lead = people(award)[0]
    login(lead)
    statements = services.statements(award)
    response = client.post(_url(award), data=_form(award, 5))
    assert response.status_code == 400
    page = _page(response)
    assert "Rate every statement" in page and STATEMENTS[1] in page
    assert f'id="rating_{statements[1].id}-error"' in page and f'id="rating_{statements[0].id}-error"' not in page
    # The rating given stays chosen.
    assert re.search(rf'<input checked [^>]*id="rating_{statements[0].id}-4"[^>]*value="5"', page)
    assert services.check_ins_of(award.milestones[0]) == {}


def test_declining_is_an_answer(client, login, award):
    health = people(award)[2]
    login(health)
    response = client.post(_url(award), data=_form(award, action="decline"))
    assert response.status_code == 302
    assert services.check_ins_of(award.milestones[0])[health.organisation_id].response is CheckInResponse.DECLINED


def test_a_stale_form_does_not_overwrite_a_colleagues_answer(client, login, award, make_user):
    lead = people(award)[0]
    answer(award.milestones[0], lead, 5, 5, 5)
    db.session.commit()
    login(lead)
    response = client.post(_url(award), data=_form(award, 1, 1, 1, version=0))
    assert response.status_code == 409
    assert "Someone else from your organisation" in _page(response)
    check_in = services.check_ins_of(award.milestones[0])[lead.organisation_id]
    assert [r.rating for r in check_in.ratings] == [5, 5, 5]


def test_a_refused_csrf_token_saves_nothing(app, client, login, award, monkeypatch):
    lead = people(award)[0]
    login(lead)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(_url(award), data=_form(award, 4, 4, 4))
    assert response.status_code == 400
    assert services.check_ins_of(award.milestones[0]) == {}


def test_other_organisations_do_not_find_the_check_in(client, login, award, make_user, make_organisation):
    outsider = make_user(Role.APPLICANT, organisation=make_organisation(
        "Unrelated Neighbours", kind=OrganisationKind.COMMUNITY_NONPROFIT))
    login(outsider)
    assert client.get(_url(award)).status_code == 404
    assert client.post(_url(award), data=_form(award, 4, 4, 4)).status_code == 404


def test_the_officer_sees_who_is_missing_and_cannot_accept_before(client, login, award, officer):
    lead, community, health = people(award)
    milestone = award.milestones[0]
    submit(milestone, lead)
    answer(milestone, lead)
    db.session.commit()
    login(officer)
    page = _page(client.get(f"/manage/milestones/{milestone.id}"))
    assert "The partnership check-in is not complete" in page
    assert community.organisation.name in page and health.organisation.name in page
    response = client.post(f"/manage/milestones/{milestone.id}/accept", data={})
    assert response.status_code == 400
    assert "still waiting for" in _page(response)


def test_the_staff_page_shows_every_answer_the_flags_and_follow_ups(client, login, award, officer):
    lead, community, _ = people(award)
    answer(award.milestones[0], lead, 5, 5, 5)
    answer(award.milestones[0], community, 2, 4, 4, comment=CANDID, funds_cents=900_000)
    db.session.commit()
    login(officer)
    page = _page(client.get(f"/manage/awards/{award.id}/partnership"))
    assert CANDID in page and "rated 2 of 5" in page and "$9,000" in page
    response = client.post(f"/manage/awards/{award.id}/partnership/follow-up", data={"note": ""})
    assert response.status_code == 400 and "Write the follow-up" in _page(response)
    response = client.post(f"/manage/awards/{award.id}/partnership/follow-up",
                           data={"note": "Met both directors; decisions now at the monthly meeting."})
    assert response.status_code == 302
    assert db.session.scalar(select(FollowUpNote.note).where(FollowUpNote.award_id == award.id)).startswith("Met both")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "award.check_in_follow_up")) is not None
    page = _page(client.get(f"/manage/portfolio/partnership?call={award.call.id}"))
    assert award.application.reference_number in page and STATEMENTS[0] in page
    assert client.get("/manage/portfolio/partnership?call=abc").status_code == 200


def test_the_call_page_defines_the_statements(client, login, officer, award):
    login(officer)
    page = _page(client.get(f"/manage/calls/{award.call.id}"))
    assert "Partnership check-in" in page and STATEMENTS[0] in page
