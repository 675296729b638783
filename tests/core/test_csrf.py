"""CSRF: every form is protected; a rejected form comes back with what the user typed."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from grants.accounts.models import User
from grants.audit.models import AuditEvent
from grants.core.forms import CSRF_MESSAGE
from grants.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def _token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


REGISTRATION = {"full_name": "Typed Name", "email": "typed@example.org", "password": "long enough passphrase",
                "confirm": "long enough passphrase", "organisation_choice": "new", "name": "Typed Org",
                "kind": "community_nonprofit", "country": "US"}


def test_rejected_form_comes_back_with_what_was_typed(client, csrf_on):
    response = client.post("/register", data={**REGISTRATION, "csrf_token": "stale-or-forged"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form had expired, so nothing was saved." in page
    assert 'value="Typed Name"' in page and 'value="typed@example.org"' in page and 'value="Typed Org"' in page
    assert db.session.scalar(select(User).where(User.email == "typed@example.org")) is None
    db.session.expire_all()
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "security.csrf_rejected")) is not None
    # The re-rendered form carries a fresh token: submitting again works.
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/register", data={**REGISTRATION, "csrf_token": token}).status_code == 200
    assert db.session.scalar(select(User).where(User.email == "typed@example.org")) is not None


def test_action_without_token_changes_nothing(client, make_user, login, csrf_on):
    user = make_user()
    db.session.commit()
    token = _token(client, "/login")
    assert client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    response = client.post("/logout")
    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 200


def test_csrf_token_does_not_expire_while_the_session_lives(app, client, monkeypatch, csrf_on):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    real_time = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real_time() - 8 * 3600)
    token = _token(client, "/register")
    monkeypatch.setattr("itsdangerous.timed.time.time", real_time)
    response = client.post("/register", data={**REGISTRATION, "csrf_token": token})
    assert response.status_code == 200 and "Registration received" in response.get_data(as_text=True)


def _post_rules(app):
    return sorted((rule.rule, rule.endpoint) for rule in app.url_map.iter_rules() if "POST" in rule.methods)


def test_every_post_route_refuses_a_missing_token(app, client, make_user, login, csrf_on):
    rules = _post_rules(app)
    assert rules, "no POST routes found"
    for rule, endpoint in rules:
        url = re.sub(r"<(?:\w+:)?\w+>", "1", rule)
        response = client.post(url, data={"full_name": "x"})
        assert response.status_code == 400, f"{endpoint} accepted a POST without a CSRF token"
