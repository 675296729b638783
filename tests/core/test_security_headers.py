"""Security headers on every kind of response, error pages, files and downloads included;
HSTS only over HTTPS; signed-in pages never stored by a browser or proxy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from grants.accounts.enums import Role
from grants.extensions import db, limiter
from tests.calls.factories import build_call

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def assert_security_headers(response, *, private: bool) -> None:
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers, "HSTS over plain HTTP"
    if private:
        assert "no-store" in headers["Cache-Control"], f"{response.request.path} may be stored"


@pytest.fixture
def staff_client(client, make_user, login):
    login(make_user(Role.PROGRAM_OFFICER))
    return client


@pytest.mark.parametrize(("path", "status"), [
    ("/", 200), ("/calls", 200), ("/login", 200), ("/no/such/page", 404), ("/static/css/grants.css", 200),
    ("/logout", 405), ("/account", 302),
])
def test_public_responses_carry_the_headers(client, path, status):
    with client.get(path) as response:  # a static file stays open until closed
        assert response.status_code == status
        assert_security_headers(response, private=False)


@pytest.mark.parametrize(("path", "status"), [
    ("/account", 200), ("/manage/calls", 200), ("/admin/users", 403), ("/no/such/page", 404),
    ("/manage/portfolio.csv", 200), ("/logout", 405),
])
def test_signed_in_responses_carry_the_headers_and_are_not_stored(staff_client, path, status):
    response = staff_client.get(path)
    assert response.status_code == status
    assert_security_headers(response, private=True)


def test_csv_downloads_are_not_stored(staff_client, make_user):
    call = build_call(make_user(Role.PROGRAM_OFFICER), publish=True)
    db.session.commit()
    for path in (f"/manage/calls/{call.id}/applications.csv", f"/manage/calls/{call.id}/partners.csv",
                 f"/manage/calls/{call.id}/ranking.csv"):
        response = staff_client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/csv", path
        assert_security_headers(response, private=True)


def test_static_files_may_be_cached_even_for_signed_in_users(staff_client):
    with staff_client.get("/static/css/grants.css") as response:
        assert_security_headers(response, private=False)
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_throttled_login_carries_the_headers(app, client, monkeypatch):
    limiter.reset()
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1 per minute")
    client.post("/login", data={"email": "ghost@example.org", "password": "x"})
    response = client.post("/login", data={"email": "ghost@example.org", "password": "x"})
    assert response.status_code == 429
    assert_security_headers(response, private=False)
    limiter.reset()


def test_hsts_only_when_the_request_came_over_https(app, client, monkeypatch):
    # Without a trusted proxy, a forged X-Forwarded-Proto changes nothing.
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Proto": "https"}).headers
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1, x_proto=1))
    over_https = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Proto": "http"}).headers
    assert "Strict-Transport-Security" in client.get("/no/such/page", headers={"X-Forwarded-Proto": "https"}).headers


def test_trusted_proxy_hops_turn_on_proxy_fix(storage_root):
    from grants import create_test_app

    app = create_test_app(STORAGE_LOCAL_PATH=str(storage_root), TRUSTED_PROXY_HOPS=1)
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_templates_hold_no_inline_script():
    """The policy forbids inline script; a page that relied on it would silently break."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, flags=re.IGNORECASE):
            if "src=" not in tag:
                offenders.append(f"{template.name}: {tag}")
        offenders += [f"{template.name}: {handler}" for handler in
                      re.findall(r"\son[a-z]+\s*=", text, flags=re.IGNORECASE)]
        offenders += [f"{template.name}: javascript: URL" for _ in re.findall(r"javascript:", text, flags=re.I)]
    assert offenders == []
