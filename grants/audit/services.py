"""Recording audit events, inside the caller's transaction or on their own."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from grants.audit.models import AuditEvent
from grants.extensions import db


def _describe(target) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, tuple):
        return str(target[0]), str(target[1])
    return type(target).__name__, str(getattr(target, "id", "") or "")


def _request_actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def record_event(action: str, *, actor=None, target=None, details: dict | None = None,
                 actor_email: str | None = None) -> AuditEvent:
    """Add an audit event to the current transaction (it lands or vanishes with the change).

    ``target`` is a model instance (flushed, so it has an id) or an (object_type, object_id)
    pair. ``actor`` defaults to the logged-in user of the current request.
    """
    actor = actor if actor is not None else _request_actor()
    if target is not None and not isinstance(target, tuple) and getattr(target, "id", None) is None:
        db.session.flush()
    object_type, object_id = _describe(target)
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor_email or (actor.email if actor is not None else ""),
        object_type=object_type,
        object_id=object_id,
        ip_address=(request.remote_addr or "") if has_request_context() else "",
        details=details or {},
    )
    db.session.add(event)
    return event


def record_security_event(action: str, **kwargs) -> None:
    """Record an event that must persist even though the request's own change is refused.

    Used for failed logins and permission refusals: the request's transaction is rolled
    back, then the event is committed on its own.
    """
    db.session.rollback()
    record_event(action, **kwargs)
    db.session.commit()
