"""NUL characters in what a browser sends never reach the database (PostgreSQL refuses text
holding one, so they would be a server error there): they are dropped from query and form."""

from __future__ import annotations

from sqlalchemy import select

from grants.accounts.enums import Role
from grants.accounts.models import User
from grants.extensions import db


def test_a_nul_in_the_login_form_is_an_ordinary_failed_login(client):
    response = client.post("/login", data={"email": "gho\x00st@example.org", "password": "x\x00y"})
    assert response.status_code == 401
    assert 'value="ghost@example.org"' in response.get_data(as_text=True)


def test_a_nul_in_a_search_is_dropped(client, make_user, login):
    login(make_user(Role.ADMIN, full_name="Rita Reviewer"))
    response = client.get("/admin/users", query_string={"q": "ri\x00ta"})
    assert response.status_code == 200 and "Rita Reviewer" in response.get_data(as_text=True)


def test_registered_text_is_stored_without_nul(client, make_organisation):
    organisation = make_organisation("Eastside Alliance")
    db.session.commit()
    response = client.post("/register", data={
        "full_name": "Jo\x00 Partner", "email": "jo@eastside.example", "password": "long enough passphrase",
        "confirm": "long enough passphrase", "organisation_choice": "existing", "organisation_id": organisation.id,
    })
    assert response.status_code == 200
    assert db.session.scalar(select(User.full_name).where(User.email == "jo@eastside.example")) == "Jo Partner"
