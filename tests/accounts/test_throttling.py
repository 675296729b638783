"""Login throttling behind a reverse proxy and across workers: users are told apart by the
address the trusted proxy saw, and with Redis every worker counts against the same limit."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from werkzeug.middleware.proxy_fix import ProxyFix

from grants.extensions import limiter

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def three_per_minute(app, monkeypatch):
    limiter.reset()
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    yield
    limiter.reset()


def _attempt(client, email: str, forwarded_for: str) -> int:
    return client.post("/login", data={"email": email, "password": "not the password"},
                       headers={"X-Forwarded-For": forwarded_for}).status_code


def test_behind_a_proxy_users_are_told_apart_by_their_address(app, client, monkeypatch, three_per_minute):
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    assert [_attempt(client, f"guess{n}@example.org", "203.0.113.5") for n in range(4)] == [401, 401, 401, 429]
    # Someone else behind the same proxy is not throttled for it.
    assert _attempt(client, "colleague@example.org", "198.51.100.7") == 401


def test_a_forged_forwarded_address_does_not_escape_the_limit(app, client, monkeypatch, three_per_minute):
    # The proxy appends the address it saw; only that last one is trusted.
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    statuses = [_attempt(client, f"guess{n}@example.org", f"10.0.0.{n}, 203.0.113.5") for n in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(client, three_per_minute):
    statuses = [_attempt(client, f"guess{n}@example.org", f"203.0.113.{n}") for n in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the shared Redis, removed afterwards."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}: the shared limiter storage cannot be checked")
    prefix = f"grants-test-{uuid.uuid4().hex}"
    yield prefix, connection
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def _worker(storage_uri: str, prefix: str, attempts: list) -> list[list[int]]:
    result = subprocess.run([sys.executable, "-m", "tests.accounts.login_worker", storage_uri, prefix,
                             json.dumps(attempts)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_workers_share_the_limit_through_redis(redis_prefix):
    prefix, connection = redis_prefix
    address = "203.0.113.5"
    assert _worker(REDIS_URL, prefix, [[address, "a@example.org", 2]]) == [[401, 401]]
    # The second worker process counts the first one's attempts: the third passes, the fourth is refused,
    # while another user behind the same proxy still gets through.
    assert _worker(REDIS_URL, prefix, [[address, "b@example.org", 2], ["198.51.100.7", "c@example.org", 1]]) == [
        [401, 429], [401]]
    assert list(connection.scan_iter(f"*{prefix}*")), "the counts should live in Redis under this test's prefix"

