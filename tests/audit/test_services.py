"""The audit log: every change and security event, append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.accounts.enums import Role
from grants.audit.models import AuditEvent, AuditLogIsAppendOnly
from grants.audit.services import record_event
from grants.extensions import db


def test_record_event_names_actor_object_and_address(app, make_user):
    user = make_user()
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        event = record_event("organisation.updated", actor=user, target=user.organisation, details={"city": "x"})
    db.session.flush()
    assert (event.actor_email, event.object_type, event.object_id, event.ip_address) == (
        user.email, "Organisation", str(user.organisation_id), "203.0.113.9")


def test_audit_events_cannot_be_changed_or_deleted(make_user):
    event = record_event("user.created", target=make_user())
    db.session.commit()
    event.action = "user.forged"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).action == "user.created"


def test_audit_page_filters_by_action_and_actor(client, make_user, login):
    officer = make_user(Role.PROGRAM_OFFICER, email="officer@funder.example")
    other = make_user(email="someone@else.example")
    record_event("user.created", actor=other, target=other)
    login(officer)
    page = client.get("/audit/", query_string={"action": "auth.login"}).get_data(as_text=True)
    assert "auth.login" in page and "user.created" not in page
    page = client.get("/audit/", query_string={"actor": "someone@"}).get_data(as_text=True)
    assert "user.created" in page and "auth.login<" not in page


def test_audit_page_filters_by_object_and_date(client, make_user, login):
    admin = make_user(Role.ADMIN)
    target = make_user()
    record_event("user.roles_changed", actor=admin, target=target)
    login(admin)
    page = client.get("/audit/", query_string={"object_type": "User", "object_id": target.id}).get_data(as_text=True)
    assert "user.roles_changed" in page
    page = client.get("/audit/", query_string={"until": "2000-01-01"}).get_data(as_text=True)
    assert "No event matches these filters." in page


def test_permission_refusal_is_audited(client, make_user, login):
    applicant = make_user()
    login(applicant)
    assert client.get("/audit/").status_code == 403
    db.session.expire_all()
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert refusal.actor_id == applicant.id and refusal.details["path"] == "/audit/"
