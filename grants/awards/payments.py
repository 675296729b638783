"""Payments: releasing a milestone's payment once its report is accepted, recording it paid,
and what the award's released and paid payments add up to.

Every function changes objects, records audit events and queues e-mails; none commits.
Each verb locks the row it moves (award, payment) before it checks the state.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from grants.awards import targets
from grants.awards.enums import PAYMENT_TRANSITIONS, AwardStatus, MilestoneStatus, PaymentMethod, PaymentStatus
from grants.awards.models import Award, Payment
from grants.core.dates import format_date
from grants.core.errors import DomainError
from grants.core.lifecycle import apply_transition
from grants.core.money import format_money
from grants.core.timezones import in_zone, local_today
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email

# Payments whose money has left the scheduled state: they count against the award.
COMMITTED_PAYMENTS = (PaymentStatus.RELEASED, PaymentStatus.PAID)

_lock = targets.lock_row


def award_reference(award: Award) -> str:
    """How e-mails name the award: its application's reference number."""
    return award.application.reference_number or f"award {award.id}"


def committed_cents(award: Award) -> int:
    """What the award's released and paid payments add up to (one SUM, read under the lock)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
        Payment.award_id == award.id, Payment.status.in_(COMMITTED_PAYMENTS))) or 0)


NOT_CONFIRMED = "Tick “I confirm” to {what}. Nothing was {done}."


def release_payment(payment: Payment, *, officer, method: PaymentMethod | None, confirmed: bool) -> Payment:
    """Release a scheduled payment to the grantee, to be paid by ``method``.

    Refused (nothing changed) unless the officer confirmed and chose a method, the award is
    active or completed, the payment's milestone report is accepted, a hold on it has ended
    with an accepted revised plan, and the released and paid payments with this one stay
    within the award amount. The award's row is locked first, so two releases at once cannot
    both pass the check. Side effects: audit event ``payment.released`` (with the method); an
    e-mail to the application's owner.
    """
    if not confirmed:
        raise DomainError(NOT_CONFIRMED.format(what="release the payment", done="released"))
    if not isinstance(method, PaymentMethod):
        raise DomainError("Choose how the payment is made (bank transfer, check, card or other). Nothing was "
                          "released.")
    award = _lock(payment.award, "status", "amount_cents", "version")  # version: the mapper checks it
    _lock(payment, "status", "hold")
    if payment.status is not PaymentStatus.SCHEDULED:
        raise DomainError(f"This payment is already {payment.status.label.lower()}.")
    held = targets.release_blocker(payment)
    if held:
        raise DomainError(held)
    if award.status not in (AwardStatus.ACTIVE, AwardStatus.COMPLETED):
        raise DomainError(f"This award is {award.status.label.lower()}; its payments cannot be released.")
    milestone = payment.milestone
    if milestone is not None and milestone.status is not MilestoneStatus.ACCEPTED:
        raise DomainError(f"This payment is released once the report for “{milestone.name}” is accepted; that "
                          f"milestone is {milestone.status.label.lower()}. Nothing was released.")
    already = committed_cents(award)
    if already + payment.amount_cents > award.amount_cents:
        raise DomainError(
            f"Releasing {format_money(payment.amount_cents)} would bring the released and paid payments to "
            f"{format_money(already + payment.amount_cents)}, more than the award of "
            f"{format_money(award.amount_cents)}. Nothing was released.")
    payment.payment_method = method
    apply_transition(payment, PaymentStatus.RELEASED, PAYMENT_TRANSITIONS, actor=officer, action="payment.released",
                     details={"award_id": award.id, "amount_cents": payment.amount_cents,
                              "milestone_id": payment.milestone_id, "paid_by": method.in_words})
    owner = award.application.owner
    queue_email(recipient=owner.email, recipient_user=owner, kind="payment_released", template="payment_released",
                subject=_l("Payment released: %(amount)s, %(reference)s", amount=format_money(payment.amount_cents),
                           reference=award_reference(award)),
                user=owner, award=award, payment=payment,
                link=external_url("awards.grantee_dashboard"))
    return payment


REFERENCE_LIMIT = 100


def mark_paid(payment: Payment, *, officer, paid_on: date | None, reference: str, confirmed: bool,
              now: datetime | None = None) -> Payment:
    """Record that a released payment was paid on ``paid_on`` (a day in the call's zone, not
    in the future, not before its release) under ``reference`` (the bank transfer's or the
    check's number, required), once the officer confirmed. Audited as ``payment.paid``."""
    if not confirmed:
        raise DomainError(NOT_CONFIRMED.format(what="record the payment as paid", done="recorded"))
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("Give the payment's reference (the transfer's or check's number). Nothing was recorded.")
    if len(reference) > REFERENCE_LIMIT:
        raise DomainError(f"The reference may be at most {REFERENCE_LIMIT} characters long. Nothing was recorded.")
    _lock(payment, "status")
    if payment.status is not PaymentStatus.RELEASED:
        raise DomainError("Only a released payment can be marked paid; this one is "
                          f"{payment.status.label.lower()}.")
    call = payment.award.call
    if paid_on is None:
        raise DomainError("Give the date the payment was made.")
    if paid_on > local_today(call, now):
        raise DomainError("The payment date cannot be in the future.")
    released_on = in_zone(payment.released_at, call.time_zone).date()
    if paid_on < released_on:
        raise DomainError(f"The payment date cannot be before its release on {format_date(released_on)}.")
    payment.paid_on, payment.payment_reference = paid_on, reference
    apply_transition(payment, PaymentStatus.PAID, PAYMENT_TRANSITIONS, actor=officer, action="payment.paid",
                     details={"award_id": payment.award_id, "amount_cents": payment.amount_cents,
                              "paid_on": paid_on.isoformat(), "reference": reference})
    return payment
