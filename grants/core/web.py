"""What every thin view needs: load-or-404, permission checks that audit refusals."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

import flask
from flask import abort, request, url_for
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property
from flask_login import current_user

from grants.core.errors import DomainError
from grants.extensions import db


# The largest id a row can have: the ids are PostgreSQL integers (SQLite's are 64-bit).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number above MAX_ROW_ID names no row, so the URL is not
    found (404), instead of reaching the database, where it overflows the driver (a 500)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ROW_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def load_or_404(model, object_id):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect).

    Browsers read "/\\evil.example" and "/<tab>/evil.example" as "//evil.example", another
    site: a backslash, whitespace or a control character anywhere refuses the target.
    """
    if target and target.startswith("/") and "\\" not in target and all(
            char.isprintable() and not char.isspace() for char in target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and not target.startswith("//"):
            return target
    return url_for("core.home")


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


def int_arg(name: str, *, low: int, high: int) -> int | None:
    """The query-string number ``name`` within [low, high], or None if absent, not a whole
    number or out of range (a bookmarked or hand-typed URL never answers 500)."""
    raw = request.args.get(name, "").strip()
    # isascii: str.isdigit also accepts "１" and "²", which are not numbers anyone typed here.
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def _without_nul(values):
    if not any("\x00" in value for value in values.values()):
        return values
    return type(values)([(key, value.replace("\x00", "")) for key, value in values.items(multi=True)])


class Request(flask.Request):
    """Query and form values without NUL characters: nobody types one, PostgreSQL refuses to
    store or even compare text holding one (a server error), and SQLite would keep it."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = _without_nul(self.__dict__["form"])

    @cached_property
    def args(self):
        return _without_nul(super().args)


def commit_or_refuse(form, change: Callable[[], object], *, stale_message: str,
                     mark: Callable[[DomainError], None] | None = None) -> int | None:
    """Run ``change`` and commit once; None when it went through.

    On a refusal roll back, put the reason above the form (``mark`` may put it on the fields
    too) and return the answer's status (400, 403, 409). A lost race, another request's write
    landing between our check and ours (a stale version, a second first row), answers 409
    with ``stale_message``.
    """
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    try:
        change()
        db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        form.form_errors.append(stale_message)
        return 409
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        if mark is not None:
            mark(exc)
        return exc.status_code
    return None
