"""Home page, health check and error pages."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user
from sqlalchemy import text

from grants.attachments.storage import get_storage
from grants.core.errors import StorageMisconfigured, StorageUnavailable
from grants.core.i18n import LANGUAGES, SESSION_KEY
from grants.core.todo import staff_todo
from grants.core.waiting import waiting_for
from grants.core.web import safe_next
from grants.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/")
def home():
    # Two lists: what awaits a person as applicant, partner or reviewer, and funder staff's to-do.
    waiting = waiting_for(current_user) if current_user.is_authenticated else None
    return render_template("core/home.html", waiting=waiting, todo=staff_todo(current_user))


@bp.route("/language", methods=["POST"])
def set_language():
    """The language switch in the header: remembered on this browser, and on the account of
    whoever is logged in (their e-mails follow it). Back to the page it was pressed on."""
    language = request.form.get("language", "")
    if language in LANGUAGES:
        session[SESSION_KEY] = language
        if current_user.is_authenticated and current_user.language != language:
            current_user.language = language
            db.session.commit()
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.route("/favicon.ico")
def favicon():
    # Browsers ask for it at the root whatever the page says; a 404 there fills the logs.
    return current_app.send_static_file("favicon.ico")


@bp.route("/healthz")
def healthz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        current_app.logger.warning("health check: database: %s", exc)
        checks["database"] = "unavailable"
        db.session.rollback()
    try:
        get_storage().check()
        checks["storage"] = "ok"
    except StorageMisconfigured as exc:
        # Reachable but refusing uploads as configured (credentials, bucket, encryption).
        current_app.logger.error("health check: storage: %s", exc)
        checks["storage"] = "misconfigured"
    except StorageUnavailable as exc:
        current_app.logger.warning("health check: storage: %s", exc)
        checks["storage"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
