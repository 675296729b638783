"""Home page, health check and error pages."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from sqlalchemy import text

from grants.attachments.storage import get_storage
from grants.core.errors import StorageUnavailable
from grants.extensions import db

bp = Blueprint("core", __name__)


@bp.route("/")
def home():
    return render_template("core/home.html")


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
    except StorageUnavailable as exc:
        current_app.logger.warning("health check: storage: %s", exc)
        checks["storage"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", checks=checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
