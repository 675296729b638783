"""The audit log page for admins and program officers."""

from __future__ import annotations

from datetime import datetime, time, timezone

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from grants.accounts.permissions import can_view_audit_log
from grants.audit.models import AuditEvent
from grants.core.web import role_required
from grants.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50


def _date_arg(name: str, *, end: bool = False) -> datetime | None:
    raw = request.args.get(name, "")
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


@bp.route("/")
@role_required(can_view_audit_log)
def log():
    filters = {key: request.args.get(key, "").strip() for key in ("action", "actor", "object_type", "object_id", "ip")}
    query = select(AuditEvent)
    if filters["action"]:
        query = query.where(AuditEvent.action.like(f"{filters['action']}%"))
    if filters["actor"]:
        query = query.where(AuditEvent.actor_email.like(f"%{filters['actor'].lower()}%"))
    if filters["object_type"]:
        query = query.where(AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        query = query.where(AuditEvent.object_id == filters["object_id"])
    if filters["ip"]:
        query = query.where(AuditEvent.ip_address == filters["ip"])
    since, until = _date_arg("since"), _date_arg("until", end=True)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at <= until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(request.args.get("page", 1, type=int), 1)
    events = db.session.scalars(
        query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    object_types = db.session.scalars(select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)).all()
    return render_template("audit/log.html", events=events, filters=filters, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), object_types=object_types,
                           since=request.args.get("since", ""), until=request.args.get("until", ""))
