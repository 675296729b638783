"""What every thin view needs: load-or-404, permission checks that audit refusals."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, request
from flask_login import current_user

from grants.extensions import db


def load_or_404(model, object_id):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def deny(status: int = 403, *, target=None, reason: str = "") -> None:
    """Record the refusal in the audit log, then answer ``status`` (403, or 404 to hide)."""
    from grants.audit.services import record_security_event

    record_security_event(
        "access.denied",
        target=target,
        details={"endpoint": request.endpoint or "", "method": request.method, "path": request.path,
                 "status": status, "reason": reason},
    )
    abort(status)


def require(allowed: bool, *, target=None, hide: bool = False, reason: str = "") -> None:
    """Continue if ``allowed``; otherwise refuse with 403, or 404 when ``hide`` (the object's
    existence is itself private to its organisation)."""
    if not allowed:
        deny(404 if hide else 403, target=target, reason=reason)


def role_required(predicate: Callable[[object], bool]):
    """For pages that belong to a role, not to an object (lists, admin pages)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from grants.extensions import login_manager

                return login_manager.unauthorized()
            require(predicate(current_user))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def keeps_input_on_csrf_error(view):
    """Marks a view whose FlaskForm re-validates CSRF itself and re-renders what was typed.

    When the global CSRF check rejects a POST to such a view, the view runs anyway: its own
    form validation fails on the token and shows the form again, filled in, with a message.
    """
    view.keeps_input_on_csrf_error = True
    return view


def enum_arg(name: str, enum_cls):
    """The query-string filter ``name`` as a member of ``enum_cls``, or None if absent or unknown."""
    raw = request.args.get(name, "")
    try:
        return enum_cls(raw) if raw else None
    except ValueError:
        return None
