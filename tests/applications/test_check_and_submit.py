"""Check your answers, submission's confirmation page and the printable record."""

from __future__ import annotations

import re
from html import unescape

import pytest

from grants.accounts.enums import OrganisationKind
from grants.applications.enums import ApplicationStatus
from grants.extensions import db
from tests.applications.fixtures import complete_application, make_applicant, make_application, make_call
from tests.conftest import fresh


@pytest.fixture
def people(make_user, make_organisation):
    return (make_applicant(make_user, make_organisation, name="Riverside Medical"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name="Eastside Alliance"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                           name="Lake County Health"))


@pytest.fixture
def ready(people):
    lead, nonprofit, health = people
    application = make_application(make_call(), lead, title="Heart health together")
    complete_application(application, [nonprofit, health])
    db.session.commit()
    return application


def _page(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_check_your_answers_shows_everything_with_change_links(client, login, ready):
    login(ready.owner)
    page = _page(client.get(f"/applications/{ready.id}/check"))
    assert "Heart health together" in page and "Community health workers and clinicians co-design outreach." in page
    assert "Eastside Alliance" in page and "Project coordinator: $40,000" in page and "letter.pdf" in page
    # Each Change link names what it changes for screen readers and comes back here.
    assert re.search(r'href="/applications/\d+/overview\?return_to=check">Change<span class="visually-hidden"> '
                     r'the summary</span>', page)
    partner, line = ready.partners[0], ready.budget_lines[0]
    assert f'href="/applications/{ready.id}/partners/{partner.id}/edit?return_to=check"' in page
    assert f'href="/applications/{ready.id}/budget/{line.id}/edit?return_to=check"' in page
    assert "Submit the application" in page


def test_a_change_from_check_your_answers_returns_to_it(client, login, ready):
    login(ready.owner)
    response = client.post(f"/applications/{ready.id}/overview?return_to=check",
                           data={"title": "Heart health together", "summary": "A sharper summary.",
                                 "version": str(ready.version)})
    assert response.status_code == 302 and response.location == f"/applications/{ready.id}/check"
    assert "A sharper summary." in _page(client.get(response.location))


def test_check_your_answers_says_what_is_missing_and_offers_no_submit(client, login, people):
    lead, nonprofit, _ = people
    application = make_application(make_call(), lead)
    db.session.commit()
    login(lead)
    page = _page(client.get(f"/applications/{application.id}/check"))
    assert "cannot be submitted until" in page and "Project title and summary" in page
    assert 'action="/applications/%d/submit"' % application.id not in page


def test_submitting_leads_to_the_confirmation_with_the_reference_and_next_steps(client, login, ready):
    login(ready.owner)
    response = client.post(f"/applications/{ready.id}/submit", data={"version": str(ready.version)})
    assert response.status_code == 302 and response.location == f"/applications/{ready.id}/submitted"
    application = fresh(ready)
    assert application.status is ApplicationStatus.SUBMITTED
    page = _page(client.get(response.location))
    assert "Application submitted" in page and application.reference_number in page
    assert "What happens next" in page and "After the call closes on" in page
    assert "grants@grants.example" in page


def test_the_record_shows_the_submission_as_it_was_sent(client, login, ready, people):
    _, nonprofit, _ = people
    login(ready.owner)
    client.post(f"/applications/{ready.id}/submit", data={"version": str(ready.version)})
    application = fresh(ready)
    page = _page(client.get(f"/applications/{application.id}/record"))
    assert application.reference_number in page and "Submitted" in page
    assert "Community health workers" in page and "Eastside Alliance" in page and "$100,000" in page
    # Listed from My applications, and a partner on the team may read it too.
    assert f'/applications/{application.id}/record' in _page(client.get("/applications"))
    client.post("/logout")
    login(nonprofit)
    assert client.get(f"/applications/{application.id}/record").status_code == 200


def test_a_draft_has_no_record_and_others_find_nothing(client, login, ready, make_user, make_organisation):
    login(ready.owner)
    assert client.get(f"/applications/{ready.id}/record").location == f"/applications/{ready.id}/check"
    client.post("/logout")
    outsider = make_applicant(make_user, make_organisation, name="Elsewhere")
    login(outsider)
    for page in ("check", "submitted", "record"):
        assert client.get(f"/applications/{ready.id}/{page}").status_code == 404, page
