"""The account's API tokens page: a token is shown once, listed by its first characters only,
revoked by its owner alone; the forms refuse bad input and need their CSRF token."""

from __future__ import annotations

import re

from sqlalchemy import select

from grants.accounts.enums import Role
from grants.api import services
from grants.api.models import ApiToken
from grants.extensions import db


def _make(client, **data):
    return client.post("/account/api-tokens", data={"name": "Power BI", "scopes": ["calls", "awards"],
                                                    "lifetime_days": "90", **data})


def test_a_token_is_shown_once_and_then_only_by_its_start(client, login, make_user):
    user = make_user(Role.APPLICANT)
    login(user)
    response = _make(client)
    assert response.status_code == 200
    secret = re.search(r'id="new-token">(pgt_[\w-]+)<', response.get_data(as_text=True)).group(1)
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == services._hash(secret) and secret not in (token.token_hash, token.prefix)
    assert token.scopes == ["awards", "calls"]
    page = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in page and token.prefix in page and "Power BI" in page
    assert client.get("/api/v1/calls", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_bad_input_makes_no_token(client, login, make_user):
    login(make_user(Role.APPLICANT))
    for data in ({"name": ""}, {"scopes": []}, {"scopes": ["everything"]}, {"lifetime_days": "7"},
                 {"name": "x" * 101}):
        response = _make(client, **data)
        assert response.status_code == 400, data
        assert "There is a problem" in response.get_data(as_text=True), data
    assert db.session.scalar(select(ApiToken)) is None


def test_only_the_owner_revokes_a_token(client, login, make_user):
    owner, other = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    token, secret = services.create_token(owner, name="R script", scopes=["calls"], lifetime_days=30)
    db.session.commit()
    login(other)
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    client.post("/logout")
    login(owner)
    assert client.post(f"/account/api-tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/calls", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_forms_need_their_csrf_token(app, client, login, make_user, monkeypatch):
    login(make_user(Role.APPLICANT))
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert _make(client).status_code == 400
    assert db.session.scalar(select(ApiToken)) is None
