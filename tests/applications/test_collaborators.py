"""Collaborators through the pages: the owner invites by e-mail, the link works once and only
for the invited person of the lead or a partner organisation; viewers read, editors edit;
removing someone takes their access away; other people's applications answer 404."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.enums import CollaboratorRole
from grants.applications.models import Collaborator
from grants.extensions import db
from tests.applications.fixtures import invite_and_accept, make_applicant, make_application, make_call
from tests.conftest import PASSWORD, fresh


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def colleague(make_user, lead):
    """Someone else at the lead organisation."""
    return make_user(Role.APPLICANT, organisation=lead.organisation, full_name="Casey Colleague")


@pytest.fixture
def partner_user(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                          name="Eastside Alliance")


@pytest.fixture
def stranger(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Northgate University Hospital")


@pytest.fixture
def application(lead, partner_user):
    application = make_application(make_call(), lead)
    services.add_partner(application, editor=lead, expected_version=None, organisation=partner_user.organisation,
                         contact_name=partner_user.full_name, contact_email=partner_user.email,
                         role_in_project="Outreach")
    db.session.commit()
    return application


@pytest.fixture
def browser(app, login):
    """A browser of its own, logged in as ``user``."""

    def open_for(user):
        the_client = app.test_client()
        login(user, the_client=the_client)
        return the_client

    return open_for


def invite(client, application, email: str, role: str = "editor"):
    return client.post(f"/applications/{application.id}/collaborators", data={"email": email, "role": role})


def invitation_link(outbox, email: str) -> str:
    [message] = outbox(kind="application_invitation", recipient=email)
    return re.search(r"(/invitations/\S+)", message.body).group(1)


def collaborators_of(application) -> list[Collaborator]:
    db.session.expire_all()
    return db.session.scalars(select(Collaborator).where(Collaborator.application_id == application.id)
                              .order_by(Collaborator.id)).all()


def state_of(application) -> list[tuple]:
    return [(c.email, c.role, c.user_id, c.accepted_at, c.revoked_at) for c in collaborators_of(application)]


@pytest.fixture
def invited(client, login, lead, colleague, application, outbox):
    """The owner invited the colleague as editor; returns the link from the e-mail."""
    login(lead)
    assert invite(client, application, colleague.email).status_code == 302
    return invitation_link(outbox, colleague.email)


def test_invite_collaborator_sends_a_single_use_link(browser, lead, colleague, application, invited):
    invitee = browser(colleague)
    page = invitee.get(invited)
    assert page.status_code == 200
    assert application.title in page.get_data(as_text=True) and "Accept the invitation" in page.get_data(as_text=True)

    response = invitee.post(invited)

    assert response.status_code == 302
    assert response.location == f"/applications/{application.id}"
    [collaborator] = collaborators_of(application)
    assert (collaborator.user_id, collaborator.role) == (colleague.id, CollaboratorRole.EDITOR)
    assert collaborator.accepted_at is not None
    assert invitee.get(f"/applications/{application.id}").status_code == 200
    again = invitee.post(invited)
    assert again.status_code == 404
    assert "This invitation has expired" in again.get_data(as_text=True)
    assert application.title not in again.get_data(as_text=True)
    assert invitee.get(invited).status_code == 404


def test_accept_invitation_sends_an_anonymous_visitor_to_log_in_and_back(client, invited, colleague, application):
    anonymous = client.application.test_client()

    response = anonymous.get(invited)

    assert response.status_code == 302
    login_url = response.location
    assert urlsplit(login_url).path == "/login"
    assert parse_qs(urlsplit(login_url).query)["next"] == [invited]
    assert collaborators_of(application)[0].accepted_at is None
    db.session.commit()
    back = anonymous.post(login_url, data={"email": colleague.email, "password": PASSWORD})
    assert back.status_code == 302 and back.location == invited


def test_accept_invitation_by_another_account_is_refused_and_changes_nothing(
        browser, invited, application, make_user, lead, colleague):
    # Someone at the lead organisation, but not the person the link was sent to.
    other = browser(make_user(Role.APPLICANT, organisation=lead.organisation))
    before = state_of(application)

    page = other.get(invited)
    response = other.post(invited)

    for answer in (page, response):
        assert answer.status_code == 403
        text = answer.get_data(as_text=True)
        assert f"This invitation is for {colleague.email}. Log in with that account to accept it." in text
        assert application.title not in text
        assert "Accept the invitation" not in text
    assert state_of(application) == before
    # The link still works for the person it was sent to.
    assert browser(colleague).post(invited).status_code == 302


def test_invite_collaborator_who_could_never_accept_is_refused_and_sends_nothing(
        client, login, lead, application, stranger, outbox):
    login(lead)

    response = invite(client, application, stranger.email, "viewer")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "which is neither the lead nor a partner of this application" in page
    assert f'value="{stranger.email}"' in page
    assert collaborators_of(application) == []
    assert outbox(kind="application_invitation") == []


def test_invite_collaborator_offers_viewer_access_by_default(client, login, lead, application):
    login(lead)
    page = client.get(f"/applications/{application.id}/collaborators").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="viewer"|<input[^>]*value="viewer"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="editor"[^>]*checked', page)


def test_accept_invitation_from_outside_the_lead_and_partners_is_refused(
        client, login, lead, application, browser, make_user, outbox):
    # Invited before they had an account; they then registered with another organisation.
    login(lead)
    invite(client, application, "newcomer@elsewhere.example", "viewer")
    link = invitation_link(outbox, "newcomer@elsewhere.example")
    before = state_of(application)
    outsider = browser(make_user(email="newcomer@elsewhere.example"))

    response = outsider.post(link)

    assert response.status_code == 403
    assert ("Only people of the lead organisation or of a partner organisation can work on this application."
            in response.get_data(as_text=True))
    assert state_of(application) == before
    assert outsider.get(f"/applications/{application.id}").status_code == 404


def test_accept_invitation_by_a_partner_organisation_member(client, login, lead, application, browser,
                                                            partner_user, outbox):
    login(lead)
    invite(client, application, partner_user.email, "viewer")
    partner = browser(partner_user)

    response = partner.post(invitation_link(outbox, partner_user.email))

    assert response.status_code == 302
    assert partner.get(f"/applications/{application.id}").status_code == 200


def test_accept_invitation_of_an_unknown_link_is_not_found(browser, colleague):
    response = browser(colleague).get("/invitations/not-a-real-token")

    assert response.status_code == 404
    assert "This invitation has expired" in response.get_data(as_text=True)


def test_invite_collaborator_twice_is_refused_with_the_reason(client, invited, colleague, application, outbox):
    response = invite(client, application, colleague.email, "viewer")

    assert response.status_code == 400
    assert f"{colleague.email} is already invited to this application." in response.get_data(as_text=True)
    assert len(collaborators_of(application)) == 1
    assert len(outbox(kind="application_invitation")) == 1


def test_invite_collaborator_with_a_bad_address_keeps_it_and_sends_nothing(client, login, lead, application, outbox):
    login(lead)

    response = invite(client, application, "not-an-address")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give a valid e-mail address." in page and 'value="not-an-address"' in page
    assert collaborators_of(application) == []
    assert outbox(kind="application_invitation") == []


def test_invite_collaborator_by_an_editor_is_forbidden(browser, application, colleague, outbox):
    invite_and_accept(application, colleague, CollaboratorRole.EDITOR)
    db.session.commit()
    before = state_of(application)
    editor = browser(colleague)

    page = editor.get(f"/applications/{application.id}/collaborators").get_data(as_text=True)
    response = invite(editor, application, "someone@riverside.example")

    assert "Send the invitation" not in page and application.owner.full_name in page
    assert response.status_code == 403
    assert state_of(application) == before
    assert outbox(kind="application_invitation") == []


def test_collaborators_lists_owner_people_and_partner_contacts(client, invited, lead, application, partner_user):
    page = client.get(f"/applications/{application.id}/collaborators").get_data(as_text=True)

    assert lead.full_name in page and "Owner" in page
    collaborator = collaborators_of(application)[0]
    assert collaborator.email in page and "Invited" in page
    assert partner_user.full_name in page and "Not invited" in page and "Invite as viewer" in page
    assert f"/applications/{application.id}/collaborators/{collaborator.id}/revoke" in page


def test_viewer_can_view_but_not_edit(browser, application, colleague):
    invite_and_accept(application, colleague, CollaboratorRole.VIEWER)
    db.session.commit()
    viewer = browser(colleague)
    version = fresh(application).version
    base = f"/applications/{application.id}"

    for path in ("", "/partners", "/budget", "/documents", "/collaborators"):
        assert viewer.get(base + path).status_code == 200, path
    posts = {
        "/overview": {"version": version, "title": "Viewer's title", "summary": ""},
        "/answers": {"version": version},
        "/partners": {"version": version, "organisation_choice": "new", "name": "Viewer's partner",
                      "kind": "community_nonprofit", "contact_name": "V", "contact_email": "v@example.org"},
        "/budget": {"version": version, "category": "travel", "description": "Trip", "amount": "100",
                    "partner_id": 0},
        f"/documents/{application.call.documents[0].id}": {"version": version},
    }
    for path, data in posts.items():
        assert viewer.post(base + path, data=data).status_code == 403, path
    assert viewer.get(base + "/overview").status_code == 403
    application = fresh(application)
    assert application.version == version
    assert application.title != "Viewer's title"
    assert len(application.partners) == 1 and application.budget_lines == [] and application.documents == []


def test_editor_can_edit(browser, application, colleague):
    invite_and_accept(application, colleague, CollaboratorRole.EDITOR)
    db.session.commit()
    editor = browser(colleague)

    response = editor.post(f"/applications/{application.id}/overview",
                           data={"version": fresh(application).version, "title": "Edited together", "summary": ""})

    assert response.status_code == 302
    assert fresh(application).title == "Edited together"


def test_revoke_collaborator_removes_access(client, login, lead, browser, application, colleague):
    collaborator = invite_and_accept(application, colleague, CollaboratorRole.EDITOR)
    db.session.commit()
    editor = browser(colleague)
    assert editor.get(f"/applications/{application.id}").status_code == 200
    login(lead)

    response = client.post(f"/applications/{application.id}/collaborators/{collaborator.id}/revoke")

    assert response.status_code == 302
    assert fresh(collaborator).revoked_at is not None
    assert editor.get(f"/applications/{application.id}").status_code == 404
    assert editor.post(f"/applications/{application.id}/overview", data={
        "version": fresh(application).version, "title": "After removal", "summary": ""}).status_code == 404
    assert fresh(application).title != "After removal"
    page = client.get(f"/applications/{application.id}/collaborators").get_data(as_text=True)
    assert "Removed" in page


def test_revoke_collaborator_of_a_pending_invitation_makes_its_link_expire(client, invited, browser, colleague,
                                                                           application):
    [collaborator] = collaborators_of(application)

    assert client.post(f"/applications/{application.id}/collaborators/{collaborator.id}/revoke").status_code == 302

    response = browser(colleague).post(invited)
    assert response.status_code == 404
    assert "This invitation has expired" in response.get_data(as_text=True)
    assert fresh(collaborator).user_id is None


def test_revoke_collaborator_by_an_editor_is_forbidden(browser, application, colleague, make_user, lead):
    invite_and_accept(application, colleague, CollaboratorRole.EDITOR)
    other = make_user(Role.APPLICANT, organisation=lead.organisation)
    target = invite_and_accept(application, other, CollaboratorRole.VIEWER)
    db.session.commit()
    before = state_of(application)

    response = browser(colleague).post(f"/applications/{application.id}/collaborators/{target.id}/revoke")

    assert response.status_code == 403
    assert state_of(application) == before


def test_revoke_collaborator_of_another_application_is_not_found(client, login, lead, application, colleague):
    other = make_application(application.call, lead, title="Another project")
    foreign = invite_and_accept(other, colleague, CollaboratorRole.EDITOR)
    db.session.commit()
    login(lead)

    response = client.post(f"/applications/{application.id}/collaborators/{foreign.id}/revoke")

    assert response.status_code == 404
    assert fresh(foreign).revoked_at is None


def test_collaborators_of_someone_elses_application_are_not_found(invited, browser, stranger, application, outbox):
    [collaborator] = collaborators_of(application)
    before = state_of(application)
    outsider = browser(stranger)

    answers = [outsider.get(f"/applications/{application.id}/collaborators"),
               invite(outsider, application, stranger.email),
               outsider.post(f"/applications/{application.id}/collaborators/{collaborator.id}/revoke")]

    for response in answers:
        assert response.status_code == 404
        assert application.title not in response.get_data(as_text=True)
        assert collaborator.email not in response.get_data(as_text=True)
    assert state_of(application) == before
    assert len(outbox(kind="application_invitation")) == 1


# --- the invitation listed on the invited person's home page -----------------------------------

def listed_invitation_link(page: str) -> str:
    return re.search(r'href="(/my/invitations/\d+)"', page).group(1)


def test_open_invitation_is_listed_on_the_home_page_and_accepted_there(client, invited, colleague, application):
    client.post("/logout")
    client.post("/login", data={"email": colleague.email, "password": PASSWORD})

    home = client.get("/").get_data(as_text=True)
    assert "Waiting for you" in home and application.title in home and "Answer the invitation" in home
    link = listed_invitation_link(home)
    page = client.get(link)
    assert page.status_code == 200 and "Accept the invitation" in page.get_data(as_text=True)
    response = client.post(link)

    assert response.status_code == 302 and response.location == f"/applications/{application.id}"
    [collaborator] = collaborators_of(application)
    assert collaborator.user_id == colleague.id and collaborator.accepted_at is not None
    # Answered: off the home page, and neither its listed link nor the e-mailed one works again.
    assert "Waiting for you" not in client.get("/").get_data(as_text=True)
    assert client.get(link).status_code == 404 and client.get(invited).status_code == 404


def test_open_invitation_of_someone_else_is_not_found_and_changes_nothing(client, invited, colleague, application,
                                                                          stranger, browser):
    [collaborator] = collaborators_of(application)
    other = browser(stranger)
    assert application.title not in other.get("/").get_data(as_text=True)
    assert other.get(f"/my/invitations/{collaborator.id}").status_code == 404
    assert other.post(f"/my/invitations/{collaborator.id}").status_code == 404
    assert collaborators_of(application)[0].accepted_at is None


def test_open_invitation_withdrawn_leaves_the_home_page(client, invited, colleague, application, browser):
    [collaborator] = collaborators_of(application)
    assert client.post(f"/applications/{application.id}/collaborators/{collaborator.id}/revoke").status_code == 302
    invitee = browser(colleague)
    assert "Waiting for you" not in invitee.get("/").get_data(as_text=True)
    assert invitee.get(f"/my/invitations/{collaborator.id}").status_code == 404


def test_open_invitation_without_csrf_token_changes_nothing(app, invited, colleague, application, browser,
                                                           monkeypatch):
    [collaborator] = collaborators_of(application)
    invitee = browser(colleague)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert invitee.post(f"/my/invitations/{collaborator.id}").status_code == 400
    assert collaborators_of(application)[0].accepted_at is None


def test_sign_off_waiting_is_listed_on_the_partner_contacts_home_page(client, login, lead, application,
                                                                      partner_user, browser):
    application.call.requires_partner_signoff = True
    invite_and_accept(application, partner_user)
    db.session.commit()
    partner = application.partners[0]
    home = browser(partner_user).get("/").get_data(as_text=True)
    assert "Waiting for you" in home
    assert f'href="/applications/{application.id}/partners/{partner.id}/sign-off"' in home
    # The lead owner is not the contact: nothing waits for them.
    login(lead)
    assert "Waiting for you" not in client.get("/").get_data(as_text=True)

    services.sign_off_partner(partner, user=partner_user)
    db.session.commit()
    assert "Waiting for you" not in browser(partner_user).get("/").get_data(as_text=True)
