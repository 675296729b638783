"""One app server worker making failed login attempts, for tests/accounts/test_throttling.py.

    python -m tests.accounts.login_worker STORAGE_URI KEY_PREFIX '[[address, email, count], ...]'

Builds its own app (own process, own in-memory SQLite) behind one trusted proxy, posts
``count`` wrong passwords for ``email`` from each client ``address`` (as the proxy's
X-Forwarded-For) and prints the statuses, one list per triple, as JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile


def main(storage_uri: str, key_prefix: str, attempts: list) -> list[list[int]]:
    from grants import create_test_app
    from grants.extensions import db

    app = create_test_app(SQLALCHEMY_DATABASE_URI="sqlite://", STORAGE_LOCAL_PATH=tempfile.mkdtemp(),
                          RATELIMIT_STORAGE_URI=storage_uri, RATELIMIT_KEY_PREFIX=key_prefix,
                          LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXY_HOPS=1)
    with app.app_context():
        db.create_all()
    client = app.test_client()
    return [[client.post("/login", data={"email": email, "password": "not the password"},
                         headers={"X-Forwarded-For": address}).status_code for _ in range(count)]
            for address, email, count in attempts]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))
