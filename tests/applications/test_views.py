"""Applicant pages: every refusal shows its message, keeps what was typed, changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grants.accounts.enums import OrganisationKind, Role
from grants.applications.enums import ApplicationStatus
from grants.applications.models import Application
from grants.extensions import db
from tests.applications.fixtures import complete_application, make_applicant, make_application, make_call
from tests.conftest import fresh


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def partners(make_user, make_organisation):
    return [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name="Eastside Alliance"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                           name="Lake County Health")]


def test_start_application_from_an_open_call(client, login, lead):
    call = make_call()
    login(lead)
    response = client.post(f"/calls/{call.id}/apply", data={"title": "Heart health together"})
    assert response.status_code == 302
    application = db.session.scalar(db.select(Application))
    assert response.location == f"/applications/{application.id}"
    assert application.owner_id == lead.id
    page = client.get(response.location).get_data(as_text=True)
    assert "Heart health together" in page and "Task list" in page and "Not yet started" in page


def test_start_application_is_refused_to_an_ineligible_organisation(client, login, partners):
    call = make_call()
    login(partners[0])
    assert client.post(f"/calls/{call.id}/apply", data={"title": "X"}).status_code == 403
    assert db.session.scalar(db.select(Application)) is None


def test_answers_over_the_limit_keep_the_text_and_save_nothing(client, login, lead):
    application = make_application(make_call(word_limit=3), lead)
    question = application.call.questions[0]
    login(lead)
    response = client.post(f"/applications/{application.id}/answers", data={
        "version": application.version, f"answer_{question.id}": "far too many words here"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This answer has 5 words; the limit is 3. Shorten it by 2." in page
    assert "far too many words here" in page
    assert fresh(application).answer_to(question.id) is None


def test_stale_edit_is_refused_and_keeps_the_typed_text(app, client, login, lead):
    application = make_application(make_call(), lead)
    login(lead)
    opened_version = application.version
    other_editor = app.test_client()
    login(lead, the_client=other_editor)
    assert other_editor.post(f"/applications/{application.id}/overview", data={
        "version": opened_version, "title": "Their title", "summary": "Their summary"}).status_code == 302
    response = client.post(f"/applications/{application.id}/overview", data={
        "version": opened_version, "title": "My title", "summary": "My careful summary"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else saved this application after you opened this page" in page
    assert "My careful summary" in page
    assert fresh(application).title == "Their title"


def test_budget_line_with_a_bad_amount_keeps_input(client, login, lead):
    application = make_application(make_call(), lead)
    login(lead)
    response = client.post(f"/applications/{application.id}/budget", data={
        "version": application.version, "category": "travel", "description": "Mileage", "amount": "12,34.5x",
        "partner_id": 0})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter an amount in dollars" in page and 'value="12,34.5x"' in page
    assert fresh(application).budget_lines == []


def test_budget_page_shows_totals_and_community_share(client, login, lead, partners):
    application = make_application(make_call(), lead)
    complete_application(application, partners)
    db.session.commit()
    login(lead)
    page = client.get(f"/applications/{application.id}/budget").get_data(as_text=True)
    assert "$100,000" in page and "60.0%" in page


def test_add_partner_through_the_page(client, login, lead, partners):
    application = make_application(make_call(), lead)
    login(lead)
    response = client.post(f"/applications/{application.id}/partners", data={
        "version": application.version, "organisation_choice": "existing",
        "organisation_id": partners[0].organisation_id, "contact_name": "Jo Partner",
        "contact_email": "jo@eastside.example", "role_in_project": "Outreach", "kind": "community_nonprofit"})
    assert response.status_code == 302
    assert [p.organisation_id for p in fresh(application).partners] == [partners[0].organisation_id]


def test_someone_elses_application_is_not_found(client, login, lead, make_user, make_organisation):
    application = make_application(make_call(), lead)
    stranger = make_applicant(make_user, make_organisation, name="Northgate")
    login(stranger)
    for path in ("", "/overview", "/answers", "/partners", "/budget"):
        response = client.get(f"/applications/{application.id}{path}")
        assert response.status_code == 404
        assert application.title not in response.get_data(as_text=True)
    assert client.post(f"/applications/{application.id}/overview", data={
        "version": application.version, "title": "Hijacked", "summary": ""}).status_code == 404
    assert fresh(application).title != "Hijacked"


def test_officer_cannot_see_a_draft(client, login, lead, make_user):
    application = make_application(make_call(), lead)
    login(make_user(Role.PROGRAM_OFFICER))
    assert client.get(f"/applications/{application.id}").status_code == 404


def test_submit_through_the_page_then_content_is_frozen(client, login, lead, partners, outbox):
    application = make_application(make_call(), lead)
    complete_application(application, partners)
    db.session.commit()
    login(lead)
    response = client.post(f"/applications/{application.id}/submit", data={"version": fresh(application).version})
    assert response.status_code == 302
    application = fresh(application)
    assert application.status is ApplicationStatus.SUBMITTED
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert application.reference_number in page
    assert client.get(f"/applications/{application.id}/overview").status_code == 403
    assert outbox(kind="application_submitted")


def test_submit_of_incomplete_application_shows_what_is_missing(client, login, lead):
    application = make_application(make_call(), lead)
    login(lead)
    response = client.post(f"/applications/{application.id}/submit", data={"version": application.version},
                           follow_redirects=True)
    assert "cannot be submitted yet" in response.get_data(as_text=True)
    assert fresh(application).status is ApplicationStatus.DRAFT


def test_late_submission_is_refused_with_the_closing_time(client, login, lead, partners):
    application = make_application(make_call(), lead)
    complete_application(application, partners)
    application.call.closes_at = application.call.opens_at + timedelta(seconds=1)
    db.session.commit()
    login(lead)
    response = client.post(f"/applications/{application.id}/submit", data={"version": fresh(application).version},
                           follow_redirects=True)
    assert "The call closed on" in response.get_data(as_text=True)
    assert fresh(application).status is ApplicationStatus.DRAFT


def test_my_applications_lists_own_and_not_others(client, login, lead, make_user, make_organisation):
    call = make_call()
    mine = make_application(call, lead, title="Mine")
    other_lead = make_applicant(make_user, make_organisation, name="Northgate")
    make_application(call, other_lead, title="Theirs")
    login(lead)
    page = client.get("/applications").get_data(as_text=True)
    assert mine.title in page and "Theirs" not in page
