"""Personal API tokens: making, revoking and checking them.

Rules:
- A token belongs to one user and never sees more than that user may see on the pages
  (the same permission predicates); its scopes narrow it further.
- It is a random 32-byte secret shown once; only its SHA-256 is stored, with its first
  characters for recognition. It expires (30, 90 or 365 days) and can be revoked at once.
- A token stops working when its user can no longer log in (deactivated, organisation
  suspended).

Every function changes objects and records audit events; none commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from grants.api.models import ApiToken
from grants.audit.services import record_event
from grants.core.errors import DomainError, PermissionDenied
from grants.core.types import utcnow
from grants.extensions import db

# What a token may read; each endpoint names the scope it needs.
SCOPES = {
    "calls": "Calls for proposals",
    "applications": "Applications you may see",
    "reviews": "Review figures (funder staff only)",
    "awards": "Awards, milestones, payments and reported outcomes",
    "portfolio": "Portfolio figures (funder staff only)",
}
LIFETIMES_DAYS = (30, 90, 365)
MAX_TOKENS_PER_USER = 10
PREFIX = "pgt_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_of(user) -> list[ApiToken]:
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                              .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def create_token(user, *, name: str, scopes: list[str], lifetime_days: int,
                 now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: (the row, the secret to show once). Audited."""
    now = now or utcnow()
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the token after what will use it (for example: Power BI dashboard).")
    if len(name) > 100:
        raise DomainError("A token's name may be at most 100 characters long.")
    unknown = set(scopes) - set(SCOPES)
    if not scopes or unknown:
        raise DomainError("Choose what the token may read.")
    if lifetime_days not in LIFETIMES_DAYS:
        raise DomainError("Choose how long the token lasts: 30, 90 or 365 days.")
    live = [t for t in tokens_of(user) if t.is_usable(now)]
    if len(live) >= MAX_TOKENS_PER_USER:
        raise DomainError(f"You have {len(live)} tokens in use, the most there may be. Revoke one first.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash(secret), prefix=secret[:10],
                     scopes=sorted(scopes), created_at=now, expires_at=now + timedelta(days=lifetime_days))
    db.session.add(token)
    db.session.flush()
    record_event("api_token.created", actor=user, target=token,
                 details={"name": name, "scopes": token.scopes, "expires_at": token.expires_at.isoformat()})
    return token, secret


def revoke_token(token: ApiToken, *, user, now: datetime | None = None) -> None:
    """Revoke ``token`` (its owner only); a revoked token is refused from the next request."""
    if token.user_id != user.id:
        raise PermissionDenied("Only the token's owner revokes it.")
    if token.revoked_at is not None:
        raise DomainError("This token is already revoked.")
    token.revoked_at = now or utcnow()
    record_event("api_token.revoked", actor=user, target=token, details={"name": token.name})


def authenticate(secret: str | None, now: datetime | None = None) -> tuple[ApiToken | None, str]:
    """The usable token for ``secret``, or (None, why not)."""
    now = now or utcnow()
    if not secret:
        return None, "Send your API token as: Authorization: Bearer <token>."
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None:
        return None, "This API token is not valid."
    if token.revoked_at is not None:
        return None, "This API token was revoked."
    if now >= token.expires_at:
        return None, "This API token has expired. Make a new one on your account page."
    if not token.user.is_active:
        return None, "The account this API token belongs to cannot log in."
    return token, ""
