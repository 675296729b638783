"""Queueing e-mails in the outbox and delivering them after the transaction commits."""

from __future__ import annotations

import logging
import smtplib
import uuid
from contextlib import nullcontext
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, render_template
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from grants.core.i18n import in_language_of
from grants.core.types import utcnow
from grants.extensions import db
from grants.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger("grants.mail")


def queue_email(*, recipient: str, subject: str, template: str, kind: str,
                recipient_user=None, dedupe_key: str | None = None, **context) -> OutboxMessage | None:
    """Write one e-mail to the outbox, in the caller's transaction.

    The body is rendered from ``templates/email/<template>.txt``, and the subject (a lazy
    translation, or plain text) read, in the recipient's language: their account's, or for
    an address with no account yet, the language of the page that sent it (grants.core.i18n).
    With a ``dedupe_key`` the message is queued at most once ever (reminders); returns None
    when it already was.
    """
    from grants.accounts.models import User

    reader = recipient_user or db.session.scalar(select(User).where(User.email == recipient.strip().lower()))
    with in_language_of(reader) if reader is not None else nullcontext():
        body = render_template(f"email/{template}.txt", base_url=current_app.config["BASE_URL"], **context)
        subject = str(subject)
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


def _claimable(now):
    """Due and waiting, or claimed by a sender whose lease ran out (it was killed or hung)."""
    return or_(and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_expires_at <= now))


def _claim_due(token: str, limit: int, lease: timedelta) -> list[int]:
    """Claim up to ``limit`` claimable messages for the sender ``token``, in one committed
    transaction. On PostgreSQL the candidates are locked and rows another sender is claiming
    are skipped (SKIP LOCKED); on SQLite the transaction holds the write lock from BEGIN."""
    now = utcnow()
    candidates = (select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id).limit(limit)
                  .with_for_update(skip_locked=True))
    ids = db.session.scalars(candidates).all()
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _claimable(now))
            .values(status=OutboxStatus.SENDING, claimed_by=token, lease_expires_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        ids = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.claimed_by == token)
                                 .order_by(OutboxMessage.id)).all()
    db.session.commit()
    return list(ids)


def _take(message_id: int, token: str, lease: timedelta) -> OutboxMessage | None:
    """Renew this sender's lease on one claimed message just before sending it, and count the
    attempt. None when another sender took it over meanwhile (our lease had run out): then it
    is theirs to send, not ours. The message comes back detached, so no transaction (and on
    SQLite no write lock) stays open while it is being transmitted."""
    renewed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == token,
               OutboxMessage.status == OutboxStatus.SENDING)
        .values(lease_expires_at=utcnow() + lease, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    message = db.session.get(OutboxMessage, message_id, populate_existing=True) if renewed.rowcount == 1 else None
    if message is not None:
        db.session.expunge(message)
    db.session.commit()
    return message


def _settle(message: OutboxMessage, token: str, **values) -> bool:
    """Record the outcome of sending, if the message is still ours; releases the claim."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == token)
        .values(claimed_by=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def retry_delay(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def deliver_due_messages(limit: int = 100, transmit=None) -> dict[str, int]:
    """Send every due message once, however many senders run and whenever one is killed.

    A sender claims a batch under a lease (OUTBOX_LEASE_SECONDS) in one committed
    transaction, so two senders never claim the same message. Just before sending each one
    it renews its lease; a message whose lease ran out (its sender was killed or hung) is
    claimable again, so it is retried, not lost, and the slow first sender, finding it taken
    over, skips it instead of sending it a second time. A failure puts it back to PENDING
    with a growing delay, and after OUTBOX_MAX_ATTEMPTS to FAILED. Returns counts per outcome.
    """
    transmit = transmit or _transmit
    config = current_app.config
    max_attempts = config["OUTBOX_MAX_ATTEMPTS"]
    lease = timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
    token = uuid.uuid4().hex
    outcome = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    for message_id in _claim_due(token, limit, lease):
        message = _take(message_id, token, lease)
        if message is None:
            outcome["skipped"] += 1
            continue
        if message.attempts > max_attempts:
            # Its senders kept stopping while sending it (e.g. the process was killed each time).
            _settle(message, token, status=OutboxStatus.FAILED,
                    last_error=message.last_error or "The sender stopped while sending it, every attempt.")
            outcome["failed"] += 1
            continue
        try:
            transmit(message)
        except Exception as exc:  # noqa: BLE001 - any transport error means "try later"
            log.warning("sending outbox message %s failed: %s", message_id, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                _settle(message, token, status=OutboxStatus.FAILED, last_error=error)
                outcome["failed"] += 1
            else:
                _settle(message, token, status=OutboxStatus.PENDING, last_error=error,
                        next_attempt_at=utcnow() + retry_delay(message.attempts))
                outcome["retry"] += 1
            continue
        if not _settle(message, token, status=OutboxStatus.SENT, sent_at=utcnow()):
            # Only when sending took longer than the lease: the Message-ID lets mail servers
            # drop the duplicate if the sender that took over sent it too.
            log.warning("outbox message %s was taken over by another sender while this one sent it", message_id)
        outcome["sent"] += 1
    return outcome
