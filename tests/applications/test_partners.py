"""A partner's contact through the pages: picked from the organisation's people (whose account
then signs off) or typed for an organisation without accounts; refusals change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from grants.accounts.enums import OrganisationKind, Role, UserStatus
from grants.applications import services
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_application, make_call
from tests.conftest import fresh


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def eastside(make_user, make_organisation):
    """A partner organisation with two people, and one whose registration is still pending."""
    organisation = make_organisation("Eastside Alliance", kind=OrganisationKind.COMMUNITY_NONPROFIT)
    people = [make_user(Role.APPLICANT, organisation=organisation, full_name=name, email=email)
              for name, email in (("Jordan Williams", "jordan@eastside.example"),
                                  ("Avery Stone", "avery@eastside.example"))]
    make_user(Role.APPLICANT, organisation=organisation, full_name="Pat Pending", status=UserStatus.PENDING)
    return organisation, people


@pytest.fixture
def application(lead):
    application = make_application(make_call(), lead)
    db.session.commit()
    return application


def add(client, application, **data):
    return client.post(f"/applications/{fresh(application).id}/partners", data={
        "version": fresh(application).version, "organisation_choice": "existing", "kind": "community_nonprofit",
        "role_in_project": "Outreach", **data})


def test_partners_page_offers_each_organisations_active_people(client, login, lead, eastside, application):
    login(lead)
    page = client.get(f"/applications/{application.id}/partners").get_data(as_text=True)
    group = re.search(r'<optgroup label="Eastside Alliance">(.*?)</optgroup>', page, re.S).group(1)
    assert "Avery Stone" in group and "Jordan Williams" in group and "Pat Pending" not in page
    # Their addresses are not on the page: the pick fills them in.
    assert "jordan@eastside.example" not in page
    # The lead's own people are not offered: the lead is no partner.
    assert '<optgroup label="Riverside Medical">' not in page


def test_add_partner_with_a_contact_picked_from_its_people(client, login, lead, eastside, application):
    organisation, (jordan, _avery) = eastside
    login(lead)
    response = add(client, application, organisation_id=organisation.id, contact_user_id=jordan.id)
    assert response.status_code == 302
    [partner] = fresh(application).partners
    assert (partner.contact_name, partner.contact_email) == ("Jordan Williams", "jordan@eastside.example")


def test_add_partner_with_a_typed_contact_still_works(client, login, lead, eastside, application):
    organisation, _people = eastside
    login(lead)
    response = add(client, application, organisation_id=organisation.id, contact_user_id=0,
                   contact_name="Sam New", contact_email="Sam@Eastside.example")
    assert response.status_code == 302
    assert fresh(application).partners[0].contact_email == "sam@eastside.example"


def test_add_partner_with_someone_of_another_organisation_is_refused(client, login, lead, eastside, application,
                                                                     make_organisation, make_user):
    organisation, _people = eastside
    outsider = make_user(Role.APPLICANT, organisation=make_organisation("Northgate"), full_name="Olly Outsider")
    login(lead)
    response = add(client, application, organisation_id=organisation.id, contact_user_id=outsider.id)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Olly Outsider is not among the people of Eastside Alliance" in page
    assert fresh(application).partners == []


def test_add_partner_picked_and_typed_differently_is_refused(client, login, lead, eastside, application):
    organisation, (jordan, _avery) = eastside
    login(lead)
    response = add(client, application, organisation_id=organisation.id, contact_user_id=jordan.id,
                   contact_name="Sam New", contact_email="sam@eastside.example")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "keep one of the two" in page
    assert 'value="sam@eastside.example"' in page
    assert fresh(application).partners == []


def test_add_partner_without_any_contact_marks_the_fields(client, login, lead, eastside, application):
    organisation, _people = eastside
    login(lead)
    response = add(client, application, organisation_id=organisation.id, contact_user_id=0)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the partner&#39;s contact from the list, or type their name." in page
    assert 'id="contact_email-error"' in page
    assert fresh(application).partners == []


def test_edit_partner_shows_the_picked_person_and_changes_to_another(client, login, lead, eastside, application):
    organisation, (jordan, avery) = eastside
    partner = services.add_partner(application, editor=lead, expected_version=None, organisation=organisation,
                                   contact_user=jordan, role_in_project="Outreach")
    db.session.commit()
    login(lead)
    url = f"/applications/{application.id}/partners/{partner.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert f'<option selected value="{jordan.id}">Jordan Williams</option>' in page
    assert f'<option value="{avery.id}">Avery Stone</option>' in page

    response = client.post(url, data={"version": fresh(application).version, "contact_user_id": avery.id,
                                      "role_in_project": "Outreach"})
    assert response.status_code == 302
    assert fresh(partner).contact_email == "avery@eastside.example"


def test_picked_contact_signs_off(client, login, lead, eastside, application):
    from tests.applications.fixtures import invite_and_accept

    organisation, (jordan, _avery) = eastside
    partner = services.add_partner(application, editor=lead, expected_version=None, organisation=organisation,
                                   contact_user=jordan, role_in_project="Outreach")
    invite_and_accept(application, jordan)
    services.sign_off_partner(partner, user=jordan)
    db.session.commit()
    assert fresh(partner).signed_off_by_id == jordan.id


def test_partners_page_offers_people_in_constant_statements(app, client, login, lead, application, make_user,
                                                            make_organisation):
    login(lead)
    counts = []
    for batch in range(2):
        for n in range(1 + batch * 4):
            organisation = make_organisation(f"Partner {batch}-{n}", kind=OrganisationKind.COMMUNITY_NONPROFIT)
            make_user(Role.APPLICANT, organisation=organisation)
        db.session.commit()
        client.get(f"/applications/{application.id}/partners")
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(f"/applications/{application.id}/partners").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        counts.append(count)
    assert counts[0] == counts[1], f"partners page: {counts[0]} statements, then {counts[1]} with more people"
