"""The error pattern on every refused form (GOV.UK): the page title starts with "Error: ", one
summary at the top links to each field, the fields keep what was typed; no asterisks."""

from __future__ import annotations

import re

from tests.applications.fixtures import make_applicant, make_application, make_call
from grants.extensions import db


def test_a_refused_form_says_error_in_its_title_and_links_each_problem(client, login, make_user, make_organisation):
    lead = make_applicant(make_user, make_organisation, name="Riverside Medical")
    application = make_application(make_call(), lead)
    db.session.commit()
    login(lead)
    response = client.post(f"/applications/{application.id}/overview",
                           data={"title": "", "summary": "Kept as typed.", "version": str(application.version)})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r"<title>Error: ", page)
    summary = re.search(r'<div class="alert alert-danger error-summary" role="alert" tabindex="-1".*?</div>', page, re.S)
    assert summary and 'href="#title"' in summary.group(0) and "There is a problem" in summary.group(0)
    assert "Kept as typed." in page
    assert 'aria-hidden="true"> *</span>' not in page


def test_a_page_without_a_refusal_has_a_plain_title(client, login, make_user, make_organisation):
    lead = make_applicant(make_user, make_organisation, name="Riverside Medical")
    application = make_application(make_call(), lead)
    db.session.commit()
    login(lead)
    page = client.get(f"/applications/{application.id}/overview").get_data(as_text=True)
    assert "<title>Error" not in page and "error-summary" not in page
    assert "js/forms.js" in page and "data-warn-unsaved" in page
