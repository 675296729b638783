"""Queueing e-mails in the outbox and delivering them after the transaction commits."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, render_template
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from grants.core.types import utcnow
from grants.extensions import db
from grants.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger("grants.mail")


def queue_email(*, recipient: str, subject: str, template: str, kind: str,
                recipient_user=None, dedupe_key: str | None = None, **context) -> OutboxMessage | None:
    """Write one e-mail to the outbox, in the caller's transaction.

    The body is rendered from ``templates/email/<template>.txt``. With a ``dedupe_key``
    the message is queued at most once ever (reminders); returns None when it already was.
    """
    body = render_template(f"email/{template}.txt", base_url=current_app.config["BASE_URL"], **context)
    message = OutboxMessage(
        recipient=recipient,
        recipient_user_id=recipient_user.id if recipient_user is not None else None,
        subject=subject,
        body=body,
        kind=kind,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        db.session.add(message)
        return message
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return None
    return message


def _transmit(message: OutboxMessage) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        log.info("e-mail to %s: %s\n%s", message.recipient, message.subject, message.body)
        return
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    # Lets the receiving side drop a duplicate if a crash ever causes a resend.
    email["Message-ID"] = f"<outbox-{message.id}@partnership-grants>"
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def _claim(message_id: int) -> bool:
    """Atomically move one due message to SENDING; only one sender can win it."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def deliver_due_messages(limit: int = 100, transmit=None) -> dict[str, int]:
    """Send every due PENDING message, each at most once.

    Each message is claimed in its own committed transaction before it is sent, so two
    senders never both send it, and a crash after sending leaves it SENDING (never resent
    automatically) rather than PENDING. A failure puts it back to PENDING with a growing
    delay, and after OUTBOX_MAX_ATTEMPTS to FAILED. Returns counts per outcome.
    """
    transmit = transmit or _transmit
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    due_ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    outcome = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for message_id in due_ids:
        if not _claim(message_id):
            outcome["skipped"] += 1
            continue
        message = db.session.get(OutboxMessage, message_id)
        try:
            transmit(message)
        except Exception as exc:  # noqa: BLE001 - any transport error means "try later"
            log.warning("sending outbox message %s failed: %s", message_id, exc)
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED
                outcome["failed"] += 1
            else:
                message.status = OutboxStatus.PENDING
                message.next_attempt_at = utcnow() + retry_delay(message.attempts)
                outcome["retry"] += 1
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            outcome["sent"] += 1
        db.session.commit()
    return outcome
