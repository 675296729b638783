"""The database refusing a request's commit: everything rolls back, the user is told in plain
words, and no e-mail goes out for the change that did not happen."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from grants.applications.models import Collaborator
from grants.audit.models import AuditEvent
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_application, make_call


@pytest.fixture
def refuse_next_commit():
    """Once called, the next commit fails, as when the disk is full or the connection drops
    at that moment; later commits work again. Returns the list of refusals made."""
    session_class = type(db.session())
    refused = []

    def refuse(_session):
        if not refused:
            refused.append(True)
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))

    def arm() -> list:
        event.listen(session_class, "before_commit", refuse)
        return refused

    yield arm
    if event.contains(session_class, "before_commit", refuse):
        event.remove(session_class, "before_commit", refuse)


def test_a_refused_commit_rolls_back_the_invitation_and_its_e_mail(client, login, make_user, make_organisation,
                                                                  outbox, refuse_next_commit):
    lead = make_applicant(make_user, make_organisation)
    application = make_application(make_call(), lead)
    login(lead)
    events_before = db.session.scalar(select(db.func.count(AuditEvent.id)))
    refused = refuse_next_commit()

    response = client.post(f"/applications/{application.id}/collaborators",
                           data={"email": "colleague@riverside.example", "role": "editor"})

    assert refused == [True]
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "nothing was saved and no e-mail was sent" in page and "Traceback" not in page
    assert db.session.scalars(select(Collaborator).where(Collaborator.application_id == application.id)).all() == []
    assert outbox() == []
    assert db.session.scalar(select(db.func.count(AuditEvent.id))) == events_before
    # Nothing is left half-done: the same request now goes through.
    again = client.post(f"/applications/{application.id}/collaborators",
                        data={"email": "colleague@riverside.example", "role": "editor"})
    assert again.status_code == 302
    assert [m.recipient for m in outbox(kind="application_invitation")] == ["colleague@riverside.example"]
