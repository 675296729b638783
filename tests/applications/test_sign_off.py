"""Partner sign-off through the pages: the partner's contact confirms the partnership and its
budget share; nobody else can; a later change to that partner's section or share clears it
(an unrelated change does not); submission waits for every sign-off the call requires."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.enums import ApplicationStatus, BudgetCategory, CollaboratorRole
from grants.audit.models import AuditEvent
from grants.core.errors import DomainError
from grants.extensions import db
from tests.applications.fixtures import (
    complete_application,
    invite_and_accept,
    make_applicant,
    make_application,
    make_call,
)
from tests.conftest import fresh

# As the page shows it (HTML-escaped).
ONLY_THE_CONTACT = str(escape("Only the partner's named contact, from the partner organisation, can sign off."))


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def contacts(make_user, make_organisation):
    """The contact people of two partner organisations."""
    return [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name="Eastside Alliance"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                           name="Lake County Health")]


@pytest.fixture
def contact(contacts):
    return contacts[0]


@pytest.fixture
def application(lead, contacts):
    """A draft with two partners, each with a subaward, and a line of the lead's own; both
    contacts were invited as viewers and accepted."""
    application = make_application(make_call(), lead)
    for user in contacts:
        partner = services.add_partner(application, editor=lead, expected_version=None,
                                       organisation=user.organisation, contact_name=user.full_name,
                                       contact_email=user.email, role_in_project="Leads community listening sessions")
        services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.CONTRACTUAL,
                                 description=f"Subaward to {user.organisation.name}", amount_cents=3_000_000,
                                 partner_id=partner.id)
        invite_and_accept(application, user, CollaboratorRole.VIEWER)
    services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.PERSONNEL,
                             description="Project coordinator", amount_cents=4_000_000)
    db.session.commit()
    return application


@pytest.fixture
def partner(application):
    return application.partners[0]


@pytest.fixture
def browser(app, login):
    def open_for(user):
        the_client = app.test_client()
        login(user, the_client=the_client)
        return the_client

    return open_for


def sign_off_url(application, partner) -> str:
    return f"/applications/{application.id}/partners/{partner.id}/sign-off"


def sign_off(client, application, partner, version: int | None = None):
    return client.post(sign_off_url(application, partner),
                       data={"version": fresh(application).version if version is None else version})


def sign_off_state(partner) -> tuple:
    partner = fresh(partner)
    return partner.signed_off_at, partner.signed_off_by_id, partner.signed_off_share_cents


@pytest.fixture
def signed_off(browser, contact, application, partner):
    """The first partner's contact signed off; returns the owner's browser."""
    assert sign_off(browser(contact), application, partner).status_code == 302
    assert fresh(partner).is_signed_off
    return browser(application.owner)


def test_partner_sign_off_page_shows_the_partnership_and_its_share_to_the_contact(
        browser, contact, application, partner):
    page = browser(contact).get(sign_off_url(application, partner)).get_data(as_text=True)

    assert "Eastside Alliance" in page and contact.email in page and "Leads community listening sessions" in page
    assert "Subaward to Eastside Alliance" in page and "Subaward to Lake County Health" not in page
    assert "$30,000" in page and "$100,000" in page  # its share, and the total requested
    assert "Confirm the partnership and budget share" in page


def test_partner_sign_off_by_the_contact_records_it(browser, contact, application, partner):
    response = sign_off(browser(contact), application, partner)

    assert response.status_code == 302
    signed_at, signed_by, share = sign_off_state(partner)
    assert signed_at is not None and signed_by == contact.id and share == 3_000_000
    assert not fresh(application.partners[1]).is_signed_off
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "application.partner_signed_off")).one()
    assert event.actor_id == contact.id and event.details["partner_id"] == partner.id


def test_partner_sign_off_page_is_read_only_to_others(browser, application, partner):
    page = browser(application.owner).get(sign_off_url(application, partner)).get_data(as_text=True)

    assert "Not signed off" in page
    assert "Confirm the partnership" not in page
    assert f"Only {partner.contact_name} ({partner.contact_email}) can sign off" in page


def test_partner_sign_off_by_someone_else_is_refused_and_changes_nothing(
        browser, application, partner, contacts, make_user, lead):
    # The owner; the other partner's contact; a colleague of the contact who also has access.
    colleague_of_contact = make_user(Role.APPLICANT, organisation=partner.organisation)
    invite_and_accept(application, colleague_of_contact, CollaboratorRole.EDITOR)
    db.session.commit()
    version = fresh(application).version

    for user in (lead, contacts[1], colleague_of_contact):
        response = sign_off(browser(user), application, partner)
        assert response.status_code == 403, user.email
        assert ONLY_THE_CONTACT in response.get_data(as_text=True)

    assert sign_off_state(partner) == (None, None, None)
    assert fresh(application).version == version


def test_partner_sign_off_by_the_contact_without_access_is_not_found(browser, application, partner, contact):
    [access] = [c for c in application.collaborators if c.user_id == contact.id]
    access.revoked_at = access.invited_at
    db.session.commit()

    response = sign_off(browser(contact), application, partner)

    assert response.status_code == 404
    assert application.title not in response.get_data(as_text=True)
    assert sign_off_state(partner) == (None, None, None)


def test_partner_sign_off_from_a_stale_page_is_refused(browser, contact, application, partner, lead):
    opened = fresh(application).version
    services.add_budget_line(fresh(application), editor=lead, expected_version=None, category=BudgetCategory.TRAVEL,
                             description="Mileage", amount_cents=50_000, partner_id=partner.id)
    db.session.commit()

    response = sign_off(browser(contact), application, partner, version=opened)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The application changed after you opened this page, so nothing was signed off." in page
    assert "$30,500" in page  # the share as it is now
    assert sign_off_state(partner) == (None, None, None)


def test_partner_sign_off_of_a_submitted_application_is_refused(browser, contact, application, partner):
    row = fresh(application)
    row.status, row.reference_number, row.submitted_at = ApplicationStatus.SUBMITTED, "PG-TEST-1", row.created_at
    db.session.commit()
    contact_browser = browser(contact)

    page = contact_browser.get(sign_off_url(application, partner)).get_data(as_text=True)
    response = sign_off(contact_browser, application, partner)

    assert "Confirm the partnership" not in page
    assert response.status_code == 400
    assert "This application is submitted; its content can no longer change." in response.get_data(as_text=True)
    assert sign_off_state(partner) == (None, None, None)


@pytest.mark.parametrize("change", [
    pytest.param({"contact_name": "Someone Else"}, id="contact-name"),
    pytest.param({"contact_email": "someone.else@eastside.example"}, id="contact-email"),
    pytest.param({"role_in_project": "Hosts the clinic days"}, id="role"),
])
def test_partner_sign_off_is_cleared_by_a_change_to_the_partners_section(
        signed_off, application, partner, change):
    current = fresh(partner)
    data = {"version": fresh(application).version, "contact_name": current.contact_name,
            "contact_email": current.contact_email, "role_in_project": current.role_in_project, **change}

    response = signed_off.post(f"/applications/{application.id}/partners/{partner.id}/edit", data=data)

    assert response.status_code == 302
    assert sign_off_state(partner) == (None, None, None)
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "application.partner_sign_off_cleared")).one().details["partner_id"] == partner.id


def test_partner_sign_off_survives_saving_the_partners_section_unchanged(signed_off, application, partner):
    current = fresh(partner)

    signed_off.post(f"/applications/{application.id}/partners/{partner.id}/edit", data={
        "version": fresh(application).version, "contact_name": current.contact_name,
        "contact_email": current.contact_email, "role_in_project": current.role_in_project})

    assert fresh(partner).is_signed_off


def test_partner_sign_off_is_cleared_by_a_new_budget_line_to_the_partner(signed_off, application, partner):
    response = signed_off.post(f"/applications/{application.id}/budget", data={
        "version": fresh(application).version, "category": "travel", "description": "Mileage",
        "amount": "500", "partner_id": partner.id})

    assert response.status_code == 302
    assert sign_off_state(partner) == (None, None, None)


def test_partner_sign_off_is_cleared_by_a_change_to_its_budget_line(signed_off, application, partner):
    [line] = [line for line in application.budget_lines if line.partner_id == partner.id]

    response = signed_off.post(f"/applications/{application.id}/budget/{line.id}/edit", data={
        "version": fresh(application).version, "category": "contractual", "description": line.description,
        "amount": "29,000", "partner_id": partner.id})

    assert response.status_code == 302
    assert sign_off_state(partner) == (None, None, None)


@pytest.mark.parametrize("change", ["overview", "lead_budget_line", "other_partners_budget_line"])
def test_partner_sign_off_survives_an_unrelated_change(signed_off, application, partner, change):
    base, version = f"/applications/{application.id}", fresh(application).version
    other = application.partners[1]
    path, data = {
        "overview": ("/overview", {"title": "A new title", "summary": "More detail"}),
        "lead_budget_line": ("/budget", {"category": "supplies", "description": "Printing", "amount": "800",
                                         "partner_id": 0}),
        "other_partners_budget_line": ("/budget", {"category": "travel", "description": "Bus passes",
                                                   "amount": "900", "partner_id": other.id}),
    }[change]

    response = signed_off.post(base + path, data={"version": version, **data})

    assert response.status_code == 302
    signed_at, _, share = sign_off_state(partner)
    assert signed_at is not None and share == 3_000_000


def test_submit_application_is_refused_while_a_sign_off_is_missing(make_user, make_organisation, lead):
    partner_users = [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                                    name="Westside Food Bank"),
                     make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                                    name="Harbor Health Department")]
    application = make_application(make_call(), lead)
    partners = complete_application(application, partner_users, sign_off=False)
    invite_and_accept(application, partner_users[0])
    services.sign_off_partner(partners[0], user=partner_users[0])
    db.session.commit()

    with pytest.raises(DomainError) as refusal:
        services.submit_application(application, submitted_by=lead, expected_version=None)

    db.session.rollback()
    message = refusal.value.message
    assert "Sign-off by Harbor Health Department" in message
    assert f"Waiting for {partner_users[1].full_name} ({partner_users[1].email})" in message
    assert "Westside Food Bank" not in message
    application = fresh(application)
    assert application.status is ApplicationStatus.DRAFT and application.reference_number is None


def test_submit_application_page_names_the_partner_whose_sign_off_is_missing(
        client, login, make_user, make_organisation, lead):
    partner_users = [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                                    name="Westside Food Bank"),
                     make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                                    name="Harbor Health Department")]
    application = make_application(make_call(), lead)
    complete_application(application, partner_users, sign_off=False)
    db.session.commit()
    login(lead)

    response = client.post(f"/applications/{application.id}/submit", data={"version": fresh(application).version},
                           follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "cannot be submitted yet" in page
    assert "Sign-off by Westside Food Bank" in page and "Sign-off by Harbor Health Department" in page
    assert fresh(application).status is ApplicationStatus.DRAFT


def test_partner_sign_off_of_someone_elses_application_is_not_found(
        browser, application, partner, make_user, make_organisation):
    stranger = browser(make_applicant(make_user, make_organisation, name="Northgate University Hospital"))

    for response in (stranger.get(sign_off_url(application, partner)), sign_off(stranger, application, partner)):
        assert response.status_code == 404
        assert application.title not in response.get_data(as_text=True)
        assert "Eastside Alliance" not in response.get_data(as_text=True)
    assert sign_off_state(partner) == (None, None, None)


def test_partner_sign_off_of_a_partner_of_another_application_is_not_found(browser, application, lead, contact):
    other = make_application(application.call, lead, title="Another project")
    foreign = services.add_partner(other, editor=lead, expected_version=None, organisation=contact.organisation,
                                   contact_name=contact.full_name, contact_email=contact.email, role_in_project="")
    db.session.commit()

    response = sign_off(browser(contact), application, foreign)

    assert response.status_code == 404
    assert sign_off_state(foreign) == (None, None, None)
