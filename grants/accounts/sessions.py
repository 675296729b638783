"""Login sessions: when they start, when they time out, and how their cookie is sent.

A session is Flask's signed cookie carrying the user's rotating session token (see
User.session_token) plus two instants: when the user logged in and when they were last seen.
Both are signed with the secret key, so a client cannot push them forward; an older copy of
the cookie only carries older instants, which time out sooner.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, flash, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, logout_user

from grants.core.types import utcnow

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"


def _now() -> float:
    return utcnow().timestamp()


def start_session() -> None:
    """Call right after login_user: the idle and absolute clocks start now."""
    session[SIGNED_IN_AT] = session[SEEN_AT] = _now()


def _expiry_message() -> str | None:
    """Why the current session is over, or None while it lives."""
    now = _now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]).total_seconds()
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, (int, float)) or not isinstance(seen_at, (int, float)):
        # A cookie from before these clocks existed: it cannot prove its age.
        return "You were signed out. Log in again to continue."
    if now - signed_in_at > absolute:
        return (f"You were signed out: a session lasts at most {current_app.config['SESSION_ABSOLUTE_HOURS']} "
                "hours. Log in again to continue.")
    if now - seen_at > idle:
        return (f"You were signed out after {current_app.config['SESSION_IDLE_MINUTES']} minutes without "
                "activity. Log in again to continue.")
    return None


def enforce_timeouts() -> None:
    """Before every request: end a session past its idle or absolute limit, with a message;
    otherwise note the user as seen now. The request then goes on as anonymous, so a
    private page sends them to the login form and a public one still shows."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    message = _expiry_message()
    if message is None:
        session[SEEN_AT] = _now()
        return
    logout_user()
    session.clear()
    flash(message, "warning")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the cookie marked Secure whenever the request came
    over HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto) even if
    SESSION_COOKIE_SECURE was left off."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def init_sessions(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(enforce_timeouts)
