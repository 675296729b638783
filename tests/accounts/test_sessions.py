"""Login sessions as a person meets them: a fresh session at login, every session ended on
the server by logout, password change or reset, deactivation and suspension, idle and
absolute timeouts, no redirect to another site, and a Secure cookie over HTTPS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts import services
from grants.accounts.enums import OrganisationStatus, Role, UserStatus
from grants.accounts.sessions import SEEN_AT, SIGNED_IN_AT
from grants.audit.models import AuditEvent
from grants.core.errors import DomainError
from grants.core.types import utcnow
from grants.extensions import db
from tests.conftest import PASSWORD, fresh

NEW_PASSWORD = "a whole new passphrase"


def _cookie(client, app) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def _copy_session(app, client):
    """Another browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], _cookie(client, app))
    return thief


def _is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


# --- a fresh session at login -------------------------------------------------------------

def test_login_starts_a_new_session_and_drops_what_was_in_the_old_one(app, client, make_user, login):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before login"
    before = _cookie(client, app)
    login(user)
    assert _cookie(client, app) != before
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session[SIGNED_IN_AT] == session[SEEN_AT]


# --- every session ends on the server -----------------------------------------------------

def test_password_change_ends_a_copied_cookie(app, client, make_user, login):
    login(make_user())
    thief = _copy_session(app, client)
    assert _is_signed_in(thief)
    client.post("/account", data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert not _is_signed_in(thief)
    assert _is_signed_in(client)


def test_password_reset_ends_every_session(app, client, make_user, login, outbox):
    user = make_user()
    login(user)
    client.post("/password/forgot", data={"email": user.email})
    link = outbox(kind="password_reset")[-1].body.split("http://127.0.0.1:5000")[1].split()[0]
    app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert not _is_signed_in(client)


def test_login_elsewhere_keeps_the_other_session(app, client, make_user, login):
    user = make_user()
    login(user)
    login(user, the_client=app.test_client())
    assert _is_signed_in(client)


def test_suspending_an_organisation_ends_its_members_sessions_and_logins(app, client, make_user,
                                                                         make_organisation, login):
    organisation = make_organisation("Harbor Food Bank")
    member = make_user(organisation=organisation)
    member_client = app.test_client()
    login(member, the_client=member_client)
    login(make_user(Role.ADMIN))
    response = client.post(f"/organisations/{organisation.id}/suspend", data={"reason": "Registration lapsed"})
    assert response.status_code == 302
    assert "is suspended" in client.get(response.location).get_data(as_text=True)
    assert fresh(organisation).status is OrganisationStatus.SUSPENDED
    assert not _is_signed_in(member_client)
    refused = member_client.post("/login", data={"email": member.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "access is suspended" in refused.get_data(as_text=True)
    failure = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()[-1]
    assert failure.details == {"reason": "organisation_suspended"}


def test_reinstating_an_organisation_lets_its_members_log_in_again(app, client, make_user, make_organisation, login):
    organisation = make_organisation()
    member = make_user(organisation=organisation)
    admin = make_user(Role.ADMIN)
    services.suspend_organisation(organisation, suspended_by=admin, reason="Audit")
    login(admin)
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert "Reinstate" in page
    assert client.post(f"/organisations/{organisation.id}/approve").status_code == 302
    assert fresh(organisation).status is OrganisationStatus.APPROVED
    login(member, the_client=app.test_client())


def test_suspension_needs_a_reason_and_changes_nothing_without_one(client, make_user, make_organisation, login):
    organisation = make_organisation()
    login(make_user(Role.ADMIN))
    response = client.post(f"/organisations/{organisation.id}/suspend", data={"reason": " "}, follow_redirects=True)
    assert "Give a reason for the suspension." in response.get_data(as_text=True)
    assert fresh(organisation).status is OrganisationStatus.APPROVED


def test_an_admin_cannot_suspend_their_own_organisation(make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(DomainError, match="your own organisation"):
        services.suspend_organisation(admin.organisation, suspended_by=admin, reason="Oops")
    assert admin.organisation.status is OrganisationStatus.APPROVED


def test_only_an_approved_organisation_can_be_suspended(make_user, make_organisation):
    proposed = make_organisation(status=OrganisationStatus.PROPOSED)
    with pytest.raises(DomainError):
        services.suspend_organisation(proposed, suspended_by=make_user(Role.ADMIN), reason="Audit")


def test_deactivated_user_is_refused_even_with_the_old_token(app, client, make_user, login):
    # The token is rotated on deactivation; the status check stands on its own as well.
    user = make_user()
    login(user)
    user.status = UserStatus.DEACTIVATED
    db.session.commit()
    assert not _is_signed_in(client)


# --- idle and absolute timeouts -----------------------------------------------------------

def _age_session(client, *, signed_in_ago: timedelta, seen_ago: timedelta) -> None:
    # The clock moves by rewriting the instants the signed cookie carries, as the server
    # would have stored them that long ago.
    now = utcnow().timestamp()
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = now - signed_in_ago.total_seconds()
        session[SEEN_AT] = now - seen_ago.total_seconds()


def test_idle_session_ends_with_a_clear_message(app, client, make_user, login):
    login(make_user())
    idle = app.config["SESSION_IDLE_MINUTES"]
    _age_session(client, signed_in_ago=timedelta(minutes=idle + 1), seen_ago=timedelta(minutes=idle + 1))
    response = client.get("/account")
    assert response.status_code == 302 and response.location.startswith("/login")
    page = client.get(response.location).get_data(as_text=True)
    assert f"You were signed out after {idle} minutes without activity" in page
    assert not _is_signed_in(client)


def test_activity_keeps_the_session_alive(app, client, make_user, login):
    login(make_user())
    idle = app.config["SESSION_IDLE_MINUTES"]
    _age_session(client, signed_in_ago=timedelta(minutes=idle * 3), seen_ago=timedelta(minutes=idle - 1))
    assert _is_signed_in(client)
    with client.session_transaction() as session:
        assert utcnow().timestamp() - session[SEEN_AT] < 60


def test_absolute_limit_ends_even_an_active_session(app, client, make_user, login):
    login(make_user())
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    _age_session(client, signed_in_ago=timedelta(hours=hours, minutes=1), seen_ago=timedelta(seconds=5))
    response = client.get("/", follow_redirects=True)
    assert f"a session lasts at most {hours} hours" in response.get_data(as_text=True)
    assert not _is_signed_in(client)


def test_a_session_without_its_instants_is_ended(app, client, make_user, login):
    login(make_user())
    with client.session_transaction() as session:
        del session[SIGNED_IN_AT]
    assert not _is_signed_in(client)


def test_timeouts_follow_the_settings(app, client, make_user, login, monkeypatch):
    login(make_user())
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    _age_session(client, signed_in_ago=timedelta(minutes=6), seen_ago=timedelta(minutes=6))
    assert not _is_signed_in(client)


def test_expired_post_changes_nothing(app, client, make_user, login):
    user = make_user()
    login(user)
    idle = app.config["SESSION_IDLE_MINUTES"]
    _age_session(client, signed_in_ago=timedelta(minutes=idle + 1), seen_ago=timedelta(minutes=idle + 1))
    hash_before = user.password_hash
    response = client.post("/account", data={"current_password": PASSWORD, "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert fresh(user).password_hash == hash_before


# --- where login sends you ----------------------------------------------------------------

@pytest.mark.parametrize("next_url", [
    "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "javascript:alert(1)",
    "https://evil.example", "HTTPS://evil.example/path", "http:/evil.example", " //evil.example",
])
def test_login_never_redirects_to_another_site(client, make_user, next_url):
    user = make_user()
    db.session.commit()
    response = client.post("/login", query_string={"next": next_url}, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"


def test_login_keeps_a_path_with_its_query(client, make_user):
    user = make_user()
    db.session.commit()
    response = client.post("/login", query_string={"next": "/applications?page=2"},
                           data={"email": user.email, "password": PASSWORD})
    assert response.location == "/applications?page=2"


# --- the cookie ---------------------------------------------------------------------------

def _session_set_cookie(response) -> str:
    return next(header for header in response.headers.getlist("Set-Cookie") if header.startswith("session="))


def test_session_cookie_is_secure_over_https_behind_a_proxy(app, client, make_user, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    user = make_user()
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https"})
    cookie = _session_set_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_over_plain_http_follows_the_setting(app, client, make_user, monkeypatch):
    user = make_user()
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Secure" not in _session_set_cookie(response)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Secure" in _session_set_cookie(response)
