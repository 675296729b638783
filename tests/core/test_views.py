"""Health check and error pages."""

from __future__ import annotations

import pytest

from grants.core.errors import StorageUnavailable
from tests.core.test_security_headers import assert_security_headers


def test_healthz_reports_database_and_storage(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


def test_healthz_fails_when_storage_is_down(app, client, monkeypatch):
    def down():
        raise StorageUnavailable("bucket unreachable")

    monkeypatch.setattr(app.extensions["grants_storage"], "check", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "storage": "unavailable"}


def test_favicon_is_served_where_browsers_ask_for_it(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an icon file, not an HTML page


def test_missing_page_is_friendly(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("row_id", [2**31, 2**63, 10**30])
def test_an_id_larger_than_any_row_is_not_found(client, login, make_user, row_id):
    # 2**63 overflowed SQLite's driver (500); above 2**31 - 1 PostgreSQL refused the query (503).
    login(make_user())
    response = client.get(f"/applications/{row_id}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_server_error_page_is_friendly(storage_root):
    from grants import create_test_app
    from tests.conftest import FreshContextClient

    # A separate app, so the failing route never joins the real app's route table.
    app = create_test_app(STORAGE_LOCAL_PATH=str(storage_root), PROPAGATE_EXCEPTIONS=False)
    app.test_client_class = FreshContextClient

    @app.get("/__boom__")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/__boom__")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert_security_headers(response, private=False)


def test_pages_send_security_headers(client):
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_form_fields_carry_no_empty_aria_attributes(client):
    page = client.get("/register").get_data(as_text=True)
    assert 'aria-describedby="None"' not in page and 'aria-invalid="None"' not in page
    assert 'aria-describedby="password-help"' in page
