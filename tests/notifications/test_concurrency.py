"""Senders at once and a sender killed mid-run, on PostgreSQL: each e-mail goes out exactly once.

Two senders run in real threads (each its own session and connection); the killed one is a
real process, stopped with SIGKILL while it holds claimed messages. Both on a database of
their own whose data is really committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.notifications.models import OutboxMessage, OutboxStatus
from grants.notifications.services import deliver_due_messages, queue_email
from tests.concurrency import committed_app, run_in_threads, separate_postgresql_database

ROOT = Path(__file__).resolve().parents[2]
WHY = "senders racing for the outbox need PostgreSQL's row locks"


@pytest.fixture
def database():
    """Overrides tests/conftest.py's rolled-back transaction (see tests/concurrency.py)."""
    yield None


@pytest.fixture
def outbox_database():
    with separate_postgresql_database("outbox", WHY) as uri:
        yield uri


@pytest.fixture
def racing_app(outbox_database, tmp_path):
    with committed_app(outbox_database, tmp_path) as app:
        yield app


def _queue(app, count: int, *, subject: str = "Hello") -> list[int]:
    with app.app_context():
        messages = [queue_email(recipient=f"person{n}@example.org", subject=subject, template="registration_rejected",
                                kind="test", user=type("U", (), {"full_name": "Dr. Lopez"})(), reason="Because")
                    for n in range(count)]
        db.session.commit()
        ids = [message.id for message in messages]
        db.session.remove()
    return ids


def _statuses(app) -> Counter:
    with app.app_context():
        try:
            return Counter(db.session.scalars(select(OutboxMessage.status)).all())
        finally:
            db.session.remove()


def test_two_senders_at_once_send_each_message_exactly_once(racing_app):
    ids = _queue(racing_app, 60)
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    def sender(name: str) -> None:
        def transmit(message) -> None:
            time.sleep(0.002)  # long enough for the other sender to be at work meanwhile
            with lock:
                sent.append((name, message.id))

        # Small batches, so both senders keep coming back for more while the other works.
        while deliver_due_messages(limit=5, transmit=transmit)["sent"]:
            pass

    assert run_in_threads(racing_app, sender, [("first",), ("second",)]) == []
    assert sorted(message_id for _, message_id in sent) == ids
    assert {name for name, _ in sent} == {"first", "second"}, "one sender did all the work: no race took place"
    assert _statuses(racing_app) == Counter({OutboxStatus.SENT: 60})


def test_a_sender_killed_mid_run_loses_nothing_and_sends_nothing_twice(racing_app, outbox_database, tmp_path):
    """The killed sender had sent two messages, was stuck on the third and held the last two
    claimed; after its lease runs out, the next sender sends the last three, once each."""
    first = _queue(racing_app, 2)
    hung = _queue(racing_app, 1, subject="hang")
    rest = _queue(racing_app, 2)
    sent_log = tmp_path / "sent.log"
    environment = dict(os.environ, TEST_DATABASE_URL=outbox_database, OUTBOX_LEASE_SECONDS="2")
    process = subprocess.Popen([sys.executable, "-m", "tests.notifications.sender_process", str(sent_log),
                                str(tmp_path / "storage")], cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout.readline().strip() == "hanging"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()
    assert sent_log.read_text().split() == [str(i) for i in first]
    assert _statuses(racing_app) == Counter({OutboxStatus.SENT: 2, OutboxStatus.SENDING: 3})

    sent: list[int] = []
    with racing_app.app_context():
        # Within the lease nobody takes the dead sender's messages over.
        assert deliver_due_messages(transmit=lambda message: sent.append(message.id))["sent"] == 0
        time.sleep(2.1)
        assert deliver_due_messages(transmit=lambda message: sent.append(message.id))["sent"] == 3
        db.session.remove()
    assert sorted(sent) == hung + rest
    assert _statuses(racing_app) == Counter({OutboxStatus.SENT: 5})


def test_two_reminder_runs_at_once_queue_each_reminder_once(racing_app):
    """`reviews remind` started twice (cron overlapping a manual run): each queues the same
    reminders, keyed once per kind. On a key the other run has just written, a run waits for
    it to commit, then drops its own."""
    keys = [f"reminder:assignment:{n}:due" for n in range(20)]
    queued: list[int] = []

    def reminder_run() -> None:
        mine = [queue_email(recipient="reviewer@example.org", subject="Due soon", template="registration_rejected",
                            kind="review_due", dedupe_key=key, user=type("U", (), {"full_name": "R"})(), reason="-")
                for key in keys]
        db.session.commit()
        queued.append(sum(message is not None for message in mine))

    assert run_in_threads(racing_app, reminder_run, [(), ()]) == []
    assert sum(queued) == 20
    assert _statuses(racing_app) == Counter({OutboxStatus.PENDING: 20})
