"""The home page's "Waiting for you": invitations and sign-offs of the logged-in person, listed
with as many statements whatever their number (grants.core.waiting)."""

from __future__ import annotations

from sqlalchemy import event

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.enums import CollaboratorRole
from grants.extensions import db
from grants.reviews.services import invite_panel_member
from tests.applications.fixtures import invite_and_accept, make_application, make_call


def _home_statements(client) -> tuple[int, str]:
    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        response = client.get("/")
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return count, response.get_data(as_text=True)


def _waiting_items(how_many: int, invitee, lead, officer):
    for n in range(how_many):
        call = make_call(title=f"Call {invitee.id}-{n}")
        call.requires_partner_signoff = True
        invited = make_application(call, lead, title=f"Invited {invitee.id}-{n}")
        services.add_partner(invited, editor=lead, expected_version=None, organisation=invitee.organisation,
                             contact_name="Someone Else", contact_email="else@example.org", role_in_project="")
        services.invite_collaborator(invited, email=invitee.email, role=CollaboratorRole.EDITOR, invited_by=lead)
        signing = make_application(call, lead, title=f"To sign {invitee.id}-{n}")
        services.add_partner(signing, editor=lead, expected_version=None, organisation=invitee.organisation,
                             contact_name=invitee.full_name, contact_email=invitee.email, role_in_project="Outreach")
        invite_and_accept(signing, invitee)
        invite_panel_member(call, email=invitee.email, invited_by=officer)
    db.session.commit()


def test_waiting_for_lists_each_kind_in_constant_statements(app, make_user, make_organisation, login):
    officer = make_user(Role.PROGRAM_OFFICER)
    lead = make_user(Role.APPLICANT, organisation=make_organisation("Riverside Medical"))
    counts = []
    for how_many in (1, 4):
        invitee = make_user(Role.APPLICANT, organisation=make_organisation(
            f"Eastside Alliance {how_many}", kind=OrganisationKind.COMMUNITY_NONPROFIT))
        _waiting_items(how_many, invitee, lead, officer)
        client = app.test_client()
        login(invitee, the_client=client)
        client.get("/")  # the first request fills per-process caches
        count, page = _home_statements(client)
        assert page.count("/my/invitations/") == how_many and page.count("/my/panel-invitations/") == how_many
        assert page.count("/sign-off\"") == how_many
        counts.append(count)
    assert counts[0] == counts[1], f"home page: {counts[0]} statements for 1 of each, {counts[1]} for 4"


def test_home_page_without_anything_waiting_has_no_waiting_section(client, make_user, login):
    login(make_user(Role.APPLICANT))
    assert "Waiting for you" not in client.get("/").get_data(as_text=True)
