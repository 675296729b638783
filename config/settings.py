"""Settings for every environment; values come from the environment where set."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("GRANTS_INSTANCE_DIR", BASE_DIR / "instance"))


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))  # type: ignore[arg-type]


def _env_bool(name: str, default: bool) -> bool:
    return (_env(name, "1" if default else "0") or "").lower() in {"1", "true", "yes", "on"}


def _server_side_encryption() -> str | None:
    # Unlike other settings an empty value is a choice here: "ask for no encryption".
    value = os.environ.get("S3_SERVER_SIDE_ENCRYPTION")
    if value is None:
        return "AES256"
    return None if value.strip().lower() in {"", "none", "off"} else value.strip()


class Config:
    """Embedded defaults: SQLite file, local attachment directory, mail to the log."""

    SECRET_KEY = _env("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'grants.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Flask-WTF tokens expire after an hour by default; long grant forms then fail on save.
    # None ties the token to the session instead (DESIGN.md, pitfalls).
    WTF_CSRF_TIME_LIMIT = None

    # A session ends after this long without a request, and this long after login whatever
    # happens. Idle is generous because grant narratives take a while to write: a POST after
    # the limit is refused, and what was typed in it is lost.
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 60)
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)

    # ASVS 5.0 asks scrypt N >= 2^17; Werkzeug's default is 2^15.
    PASSWORD_HASH_METHOD = _env("PASSWORD_HASH_METHOD", "scrypt:131072:8:1")
    PASSWORD_RESET_TTL_MINUTES = _env_int("PASSWORD_RESET_TTL_MINUTES", 30)

    # Per-IP and per-account limits on login attempts. Use redis:// in production:
    # memory:// is per worker, so N workers would allow N times the limit.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    # Per API token (grants/api/views.py): enough for a dashboard's refresh, not for scraping.
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "120 per minute;2000 per hour")
    # Number of reverse proxies in front of the app; without ProxyFix every user behind
    # the proxy would share one address for throttling and the audit log.
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)

    # Attachment storage: "local" (embedded default) or "s3" (any S3-compatible endpoint).
    STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
    STORAGE_LOCAL_PATH = _env("STORAGE_LOCAL_PATH", str(INSTANCE_DIR / "attachments"))
    S3_BUCKET = _env("S3_BUCKET", "grants-attachments")
    S3_REGION = _env("S3_REGION", "us-east-1")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")
    S3_ACCESS_KEY_ID = _env("S3_ACCESS_KEY_ID")
    S3_SECRET_ACCESS_KEY = _env("S3_SECRET_ACCESS_KEY")
    # "AES256" (the default when unset) or "aws:kms"; empty or "none" to not request it (some
    # S3-compatible stores refuse it). The store's answer must confirm it, or the upload is refused.
    S3_SERVER_SIDE_ENCRYPTION = _server_side_encryption()
    S3_KMS_KEY_ID = _env("S3_KMS_KEY_ID")
    # A PEM file of certificates to trust for S3_ENDPOINT_URL (a store with its own CA).
    S3_CA_BUNDLE = _env("S3_CA_BUNDLE")
    S3_PRESIGNED_TTL_SECONDS = min(_env_int("S3_PRESIGNED_TTL_SECONDS", 300), 300)
    ATTACHMENT_MAX_BYTES = _env_int("ATTACHMENT_MAX_BYTES", 250 * 1024 * 1024)
    # Request bodies may carry a little form data beside the largest file.
    MAX_CONTENT_LENGTH = ATTACHMENT_MAX_BYTES + 1024 * 1024
    # Objects younger than this are never swept: their upload may still be committing.
    ORPHAN_SWEEP_GRACE_MINUTES = _env_int("ORPHAN_SWEEP_GRACE_MINUTES", 60)

    # Mail: SMTP when MAIL_SERVER is set, otherwise messages are written to the log.
    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Partnership Grants <no-reply@grants.example>")
    # Whom applicants write to with questions (the confirmation page and the record name it).
    PROGRAMME_CONTACT_EMAIL = _env("PROGRAMME_CONTACT_EMAIL", "grants@grants.example")
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 5)
    # A sender that holds a claimed e-mail longer than this is taken to be dead and another
    # sends it; keep it well above the SMTP timeout (30 s).
    OUTBOX_LEASE_SECONDS = _env_int("OUTBOX_LEASE_SECONDS", 600)
    # Links in e-mails are built against this origin (the outbox is sent outside a request).
    BASE_URL = _env("BASE_URL", "http://127.0.0.1:5000")
    SERVER_NAME = None

    LOAD_DEMO_DATA = _env_bool("LOAD_DEMO_DATA", False)

    # The time zone a new call starts in (an IANA name); each call may choose its own.
    CALL_DEFAULT_TIME_ZONE = _env("CALL_DEFAULT_TIME_ZONE", "America/Chicago")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    # Hashing at production strength would make every login in the suite take 0.3 s;
    # a test checks that the production setting meets ASVS.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # The limiter stays on (its code runs in every test) with a limit no test reaches;
    # the throttling tests lower it.
    LOGIN_RATE_LIMIT = "100000 per minute"
    API_RATE_LIMIT = "100000 per minute"
    STORAGE_BACKEND = "local"
    MAIL_SERVER = None
