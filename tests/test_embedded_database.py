"""The embedded default (a SQLite file) holds up under its own parts: the app's requests and
the outbox sender's loop writing at the same time, each on its own connection."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.applications.enums import ApplicationStatus
from grants.applications.models import Application
from grants.extensions import db
from grants.notifications.models import OutboxMessage, OutboxStatus
from grants.notifications.services import deliver_due_messages
from tests.applications.fixtures import complete_application, make_applicant, make_call
from tests.concurrency import committed_app, form_version, run_in_threads
from tests.conftest import PASSWORD

APPLICANTS = 4
ROUNDS = 3


@pytest.fixture
def database():
    """Overrides tests/conftest.py's rolled-back transaction: requests, the sender and the
    test each commit for real on their own connection to one SQLite file."""
    yield None


@pytest.fixture
def sqlite_app(tmp_path):
    with committed_app(f"sqlite:///{tmp_path / 'grants.sqlite3'}", tmp_path / "attachments") as app:
        yield app


def test_sqlite_connections_use_wal_a_busy_timeout_and_immediate_transactions(sqlite_app):
    with sqlite_app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        # The write lock is held from BEGIN: a second connection cannot start writing meanwhile.
        other = db.engine.raw_connection()
        try:
            other.execute("PRAGMA busy_timeout=0")
            with pytest.raises(Exception, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        db.session.rollback()


@pytest.fixture
def ready_applications(sqlite_app, make_user, make_organisation):
    """Committed: APPLICANTS drafts, each complete and ready to submit, with their owners."""
    with sqlite_app.app_context():
        call = make_call()
        partners = [make_applicant(make_user, make_organisation, kind=kind)
                    for kind in (OrganisationKind.COMMUNITY_NONPROFIT, OrganisationKind.PUBLIC_HEALTH_AGENCY)]
        ready = []
        for number in range(APPLICANTS):
            owner = make_applicant(make_user, make_organisation)
            application = services.start_application(call, owner=owner, title=f"Partnership {number}")
            complete_application(application, partners)
            ready.append((application.id, owner.email, call.questions[0].id))
        db.session.commit()
        db.session.remove()
    return ready


def test_logins_saves_and_submissions_never_fail_while_the_sender_loops(sqlite_app, ready_applications):
    """The reviewer's report: a login answered 500 ("database is locked" on UPDATE user SET
    last_login_at) while `notifications send --loop` ran beside the app."""
    stop = threading.Event()
    sender_errors: list[BaseException] = []
    delivered: list[int] = []
    passes = [0]

    def sender_loop() -> None:
        try:
            with sqlite_app.app_context():
                while not stop.is_set():
                    deliver_due_messages(transmit=lambda message: delivered.append(message.id))
                    passes[0] += 1
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - asserted below
            sender_errors.append(exc)

    def applicant(application_id: int, email: str, question_id: int) -> None:
        client = sqlite_app.test_client()
        for round_number in range(ROUNDS):
            response = client.post("/login", data={"email": email, "password": PASSWORD})
            assert response.status_code == 302, response.get_data(as_text=True)
            page = client.get(f"/applications/{application_id}/answers").get_data(as_text=True)
            answer = f"We meet residents monthly, round {round_number}."
            response = client.post(f"/applications/{application_id}/answers",
                                   data={"version": form_version(page), f"answer_{question_id}": answer})
            assert response.status_code == 302, response.get_data(as_text=True)
            if round_number < ROUNDS - 1:
                assert client.post("/logout").status_code == 302
        page = client.get(f"/applications/{application_id}/check").get_data(as_text=True)
        response = client.post(f"/applications/{application_id}/submit", data={"version": form_version(page)},
                               follow_redirects=True)
        assert "Application submitted" in response.get_data(as_text=True)

    sender = threading.Thread(target=sender_loop)
    sender.start()
    started = time.monotonic()
    try:
        errors = run_in_threads(sqlite_app, applicant, ready_applications)
    finally:
        stop.set()
        sender.join(timeout=60)
    elapsed = time.monotonic() - started

    assert errors == [] and sender_errors == []
    assert passes[0] > 0
    with sqlite_app.app_context():
        deliver_due_messages(transmit=lambda message: delivered.append(message.id))
        statuses = db.session.scalars(select(Application.status)).all()
        assert statuses == [ApplicationStatus.SUBMITTED] * APPLICANTS
        outbox = db.session.scalars(select(OutboxMessage)).all()
        assert outbox and all(message.status is OutboxStatus.SENT for message in outbox)
        assert sorted(delivered) == sorted(message.id for message in outbox)
    print(f"{APPLICANTS} applicants x {ROUNDS} rounds beside {passes[0]} sender passes: {elapsed:.1f} s")
