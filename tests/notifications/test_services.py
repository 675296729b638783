"""The outbox: written with the change, sent after commit, retried, never sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grants.core.types import utcnow
from grants.extensions import db
from grants.notifications.models import OutboxMessage, OutboxStatus
from grants.notifications.services import deliver_due_messages, queue_email
from tests.conftest import fresh


def _queue(**overrides) -> OutboxMessage:
    values = dict(recipient="pi@riverside.example", subject="Hello", template="registration_rejected",
                  kind="test", user=type("U", (), {"full_name": "Dr. Lopez"})(), reason="Because")
    values.update(overrides)
    return queue_email(**values)


def test_queue_email_is_part_of_the_callers_transaction(database):
    _queue()
    database.rollback()
    assert db.session.query(OutboxMessage).count() == 0


def test_queue_email_renders_the_template(database):
    message = _queue()
    db.session.flush()
    assert "Dr. Lopez" in message.body and "Because" in message.body
    assert message.status is OutboxStatus.PENDING


def test_queue_email_with_dedupe_key_queues_once():
    assert _queue(dedupe_key="reminder:assignment:7:due") is not None
    assert _queue(dedupe_key="reminder:assignment:7:due") is None
    assert db.session.query(OutboxMessage).count() == 1


def test_deliver_due_messages_sends_each_once():
    message = _queue()
    db.session.commit()
    sent = []
    assert deliver_due_messages(transmit=sent.append)["sent"] == 1
    assert deliver_due_messages(transmit=sent.append)["sent"] == 0
    assert [m.id for m in sent] == [message.id]
    message = fresh(message)
    assert message.status is OutboxStatus.SENT and message.sent_at is not None and message.attempts == 1


def test_deliver_due_messages_retries_later_after_a_failure():
    message = _queue()
    db.session.commit()

    def broken(_message):
        raise ConnectionRefusedError("SMTP server down")

    assert deliver_due_messages(transmit=broken) == {"sent": 0, "retry": 1, "failed": 0, "skipped": 0}
    message = fresh(message)
    assert message.status is OutboxStatus.PENDING
    assert "SMTP server down" in message.last_error
    assert message.next_attempt_at > utcnow()
    # Not due yet: nothing is attempted.
    assert deliver_due_messages(transmit=broken)["retry"] == 0
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sent = []
    assert deliver_due_messages(transmit=sent.append)["sent"] == 1
    assert fresh(message).attempts == 2


def test_deliver_due_messages_gives_up_after_max_attempts(app):
    message = _queue()
    message.attempts = app.config["OUTBOX_MAX_ATTEMPTS"] - 1
    db.session.commit()

    def broken(_message):
        raise TimeoutError("no answer")

    assert deliver_due_messages(transmit=broken)["failed"] == 1
    assert fresh(message).status is OutboxStatus.FAILED


def test_deliver_due_messages_skips_a_message_another_sender_claimed():
    message = _queue()
    db.session.commit()
    sent = []

    def claim_first(_message):
        sent.append(_message.id)

    # Another sender took it between our listing and our claim.
    message.status = OutboxStatus.SENDING
    db.session.commit()
    assert deliver_due_messages(transmit=claim_first)["sent"] == 0
    assert sent == []


def test_deliver_due_messages_uses_smtp_when_configured(app, monkeypatch):
    delivered = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            delivered.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            delivered.append(("starttls",))

        def login(self, user, password):
            delivered.append(("login", user))

        def send_message(self, email):
            delivered.append(("send", email["To"], email["Subject"], email["Message-ID"]))

    monkeypatch.setattr("grants.notifications.services.smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example")
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
    message = _queue()
    db.session.commit()
    deliver_due_messages()
    assert delivered == [("connect", "smtp.example", 587), ("starttls",), ("login", "mailer"),
                         ("send", "pi@riverside.example", "Hello", f"<outbox-{message.id}@partnership-grants>")]


def test_without_a_mail_server_each_e_mail_goes_to_the_log_with_its_full_link(app, caplog):
    """The embedded default: a new user finds their only way in (the link) in the log, whole."""
    from grants.core.urls import external_url

    link = external_url("accounts.login", next="/applications/7")
    user = type("U", (), {"full_name": "Dr. Lopez", "organisation": type("O", (), {"name": "Riverside"})()})()
    _queue(template="registration_approved", user=user, link=link)
    db.session.commit()
    with caplog.at_level("INFO", logger="grants.mail"):
        assert deliver_due_messages()["sent"] == 1
    [record] = [r for r in caplog.records if r.name == "grants.mail"]
    logged = record.getMessage()
    assert "pi@riverside.example" in logged and "Hello" in logged
    assert f"\n{link}" in logged and link.startswith(app.config["BASE_URL"] + "/login?next=")


def test_send_command_reports_counts(app):
    _queue()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 0
    assert "sent: 1" in result.output


@pytest.mark.parametrize("attempts, minutes", [(1, 2), (3, 8), (20, 240)])
def test_retry_delay_grows_and_is_capped(attempts, minutes):
    from grants.notifications.services import retry_delay

    assert retry_delay(attempts) == timedelta(minutes=minutes)


def _queue_several(count: int, **overrides) -> list[int]:
    messages = [_queue(**overrides) for _ in range(count)]
    db.session.commit()
    return [message.id for message in messages]


def test_a_sender_killed_mid_run_leaves_its_claimed_messages_to_be_retried_after_the_lease(app):
    ids = _queue_several(3)
    sent = []

    def killed_at_the_second(message):
        if message.id == ids[1]:
            raise KeyboardInterrupt  # the process stops here, as under `kill`
        sent.append(message.id)

    with pytest.raises(KeyboardInterrupt):
        deliver_due_messages(transmit=killed_at_the_second)
    assert [fresh(db.session.get(OutboxMessage, i)).status for i in ids] == [
        OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.SENDING]
    # While the lease runs, no other sender touches them.
    assert deliver_due_messages(transmit=sent.append)["sent"] == 0
    for message_id in ids[1:]:
        db.session.get(OutboxMessage, message_id).lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert deliver_due_messages(transmit=sent.append)["sent"] == 2
    assert sorted(m if isinstance(m, int) else m.id for m in sent) == ids
    assert all(fresh(db.session.get(OutboxMessage, i)).status is OutboxStatus.SENT for i in ids)


def test_a_slow_sender_whose_lease_was_taken_over_does_not_send_again(app):
    """The first sender claims a batch, then hangs on its first message until the lease on the
    rest has run out; a second sender takes the rest over and sends them; when the first
    wakes up, it skips them."""
    ids = _queue_several(3)
    sent = []
    took_over = []

    def first_hangs(message):
        if not took_over:
            for message_id in ids[1:]:
                db.session.get(OutboxMessage, message_id).lease_expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            took_over.append(deliver_due_messages(transmit=lambda m: sent.append(("second", m.id))))
        sent.append(("first", message.id))

    outcome = deliver_due_messages(transmit=first_hangs)
    assert took_over == [{"sent": 2, "retry": 0, "failed": 0, "skipped": 0}]
    assert outcome == {"sent": 1, "retry": 0, "failed": 0, "skipped": 2}
    assert sorted(message_id for _, message_id in sent) == ids
    assert all(fresh(db.session.get(OutboxMessage, i)).status is OutboxStatus.SENT for i in ids)


def test_a_message_whose_senders_always_die_is_given_up(app):
    message = _queue()
    message.status = OutboxStatus.SENDING
    message.attempts = app.config["OUTBOX_MAX_ATTEMPTS"]
    message.lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sent = []
    assert deliver_due_messages(transmit=sent.append)["failed"] == 1
    assert sent == [] and fresh(message).status is OutboxStatus.FAILED
