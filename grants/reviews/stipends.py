"""Community reviewers' stipends: who is eligible, when a review set is complete, when a
stipend is owed, and recording (or undoing) its payment.

The rules, in order:

- **Amount.** A call pays a stipend only when its review settings give one
  (``ReviewSettings.stipend_cents``): one stipend per reviewer per call, for the whole review
  set, however many applications it holds.
- **Eligible.** A panel member whose organisation is a community organisation (any kind but a
  member institution: ``OrganisationKind.is_community_partner``), unless the officer unticked
  them; anyone else only if the officer ticked them. Funder staff (program officers, admins,
  and anyone of an organisation they belong to) never, whatever the tick.
- **Complete review set** (:func:`review_set`): every assignment of the reviewer on the call is
  submitted. Declined and conflicted assignments do not count against it (the reviewer was
  right not to review those), nor for it: a reviewer with no submitted review has no set.
- **Owed** when the set is complete *and* the call's review has closed. Not earlier, and the
  officer cannot make it owed earlier by hand: until the review closes the set can still grow
  (a new assignment) or reopen (a submitted review revised), so an early "owed" could be
  wrong. An officer who wants to pay early closes the review earlier in its settings.
- **Paid** when the officer records the day it was paid (and a cheque or transfer number if
  they have one). The amount paid is kept with the record; a later change of the call's
  stipend does not change it. A mistaken "paid" is undone with a reason, and the stipend is
  owed again. Both are audited; a second "paid" is refused, as is any form drawn from an
  earlier state of the record (a double click, a stale tab, another officer first).

Whether a stipend is owed is computed each time; only payments are stored (ReviewerStipend).
Every function that changes something records an audit event and never commits.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from grants.accounts.enums import Role
from grants.accounts.models import User, UserRole
# The funder's organisations: their people are never paid a stipend.
from grants.accounts.services import funder_organisation_ids  # noqa: F401 - used here and by the review pages
from grants.core.dates import format_date, format_instant
from grants.core.errors import DomainError, StaleEdit
from grants.core.lifecycle import apply_transition
from grants.core.money import format_money
from grants.core.timezones import in_zone
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.enums import STIPEND_TRANSITIONS, AssignmentStatus, PanelMemberStatus, StipendStatus
from grants.reviews.models import PanelMember, ReviewAssignment, ReviewerStipend, ReviewSettings

# Assignments that count neither against a review set nor for it.
NOT_COUNTED = (AssignmentStatus.DECLINED, AssignmentStatus.CONFLICTED)
NOTHING_CHANGED = "Nothing was changed."
REFERENCE_MAX = 100


# --- the rules, as pure functions -----------------------------------------------------------

@dataclass(frozen=True)
class ReviewSet:
    """A reviewer's assignments on one call, as the stipend counts them."""

    submitted: int
    assigned: int  # the assignments that count: all but declined and conflicted ones

    @property
    def is_complete(self) -> bool:
        return self.assigned > 0 and self.submitted == self.assigned


def review_set(statuses: Iterable[AssignmentStatus]) -> ReviewSet:
    """The review set of a reviewer whose assignments on a call have these statuses.

    Complete when every assignment that counts is submitted; declined and conflicted ones do
    not count. With none that counts (nothing assigned, or all declined or conflicted) the set
    is not complete: a reviewer with no submitted review earns nothing.
    """
    counted = [status for status in statuses if status not in NOT_COUNTED]
    return ReviewSet(submitted=sum(status is AssignmentStatus.SUBMITTED for status in counted),
                     assigned=len(counted))


class StipendState(enum.Enum):
    """What a reviewer's stipend on a call is now (computed; see the module's rules)."""

    NOT_ELIGIBLE = "not_eligible"
    NOT_EARNED = "not_earned"
    OWED = "owed"
    PAID = "paid"

    @property
    def label(self) -> str:
        return {"not_eligible": "Not eligible", "not_earned": "Not yet earned", "owed": "Owed",
                "paid": "Paid"}[self.value]


def stipend_state(*, eligible: bool, stipend_cents: int | None, reviews: ReviewSet, review_closed: bool,
                  record: ReviewerStipend | None) -> StipendState:
    """A recorded payment stays paid whatever changed since; otherwise it is owed once an
    eligible reviewer's set is complete and the review has closed."""
    if record is not None and record.status is StipendStatus.PAID:
        return StipendState.PAID
    if not eligible or stipend_cents is None:
        return StipendState.NOT_ELIGIBLE
    if reviews.is_complete and review_closed:
        return StipendState.OWED
    return StipendState.NOT_EARNED


def is_funder_staff(user, funder_ids: set[int]) -> bool:
    return user.has_role(Role.PROGRAM_OFFICER, Role.ADMIN) or user.organisation_id in funder_ids


def eligible_by_rule(user, funder_ids: set[int]) -> bool:
    """Eligible without the officer's tick: of a community organisation, not funder staff.
    Someone invited who has not joined yet has no organisation to go by."""
    return (user is not None and user.organisation.kind.is_community_partner
            and not is_funder_staff(user, funder_ids))


def is_eligible(member: PanelMember, funder_ids: set[int]) -> bool:
    if member.user is not None and is_funder_staff(member.user, funder_ids):
        return False
    if member.stipend_eligible is not None:
        return member.stipend_eligible
    return eligible_by_rule(member.user, funder_ids)


def review_closed(settings: ReviewSettings | None, now: datetime | None = None) -> bool:
    """The review has closed: its closing time is set and has passed (server clock)."""
    closes_at = settings.review_closes_at if settings is not None else None
    return closes_at is not None and (now or utcnow()) >= closes_at


# --- what the pages show ----------------------------------------------------------------------

@dataclass
class StipendLine:
    """One panel member's stipend on one call, as the officer's table and the reviewer's page show it."""

    member: PanelMember
    eligible: bool
    is_funder_staff: bool
    reviews: ReviewSet
    state: StipendState
    record: ReviewerStipend | None
    # The call's stipend now; what a paid record says it paid is ``amount_cents``.
    stipend_cents: int | None
    review_closes_at: datetime | None

    @property
    def reviewer(self) -> User:
        return self.member.user

    @property
    def call(self):
        return self.member.call

    @property
    def amount_cents(self) -> int | None:
        """What was paid, for a paid stipend; what is or will be due, for an eligible reviewer."""
        if self.state is StipendState.PAID:
            return self.record.amount_cents
        return self.stipend_cents if self.eligible else None

    @property
    def version(self) -> int:
        """The record's version the officer's buttons are drawn from (0: nothing recorded)."""
        return self.record.version if self.record is not None else 0


@dataclass
class StipendTotals:
    owed_count: int = 0
    owed_cents: int = 0
    paid_count: int = 0
    paid_cents: int = 0


def _statuses_by(query) -> dict:
    statuses = defaultdict(list)
    for key, status in db.session.execute(query):
        statuses[key].append(status)
    return statuses


def _line(member: PanelMember, settings: ReviewSettings | None, statuses: list[AssignmentStatus],
          funder_ids: set[int], now: datetime | None) -> StipendLine:
    eligible = is_eligible(member, funder_ids)
    stipend_cents = settings.stipend_cents if settings is not None else None
    reviews = review_set(statuses)
    return StipendLine(member=member, eligible=eligible,
                       is_funder_staff=is_funder_staff(member.user, funder_ids), reviews=reviews,
                       state=stipend_state(eligible=eligible, stipend_cents=stipend_cents, reviews=reviews,
                                           review_closed=review_closed(settings, now), record=member.stipend),
                       record=member.stipend, stipend_cents=stipend_cents,
                       review_closes_at=settings.review_closes_at if settings is not None else None)


def _listed(member: PanelMember, statuses: list[AssignmentStatus]) -> bool:
    """On the panel now, or with assignments or a payment to show: someone who declined the
    invitation, or was removed before reviewing anything, has no stipend to speak of."""
    return member.status is PanelMemberStatus.ACTIVE or bool(statuses) or member.stipend is not None


STATE_ORDER = {StipendState.OWED: 0, StipendState.NOT_EARNED: 1, StipendState.PAID: 2, StipendState.NOT_ELIGIBLE: 3}


def stipend_lines(call, now: datetime | None = None) -> list[StipendLine]:
    """Every reviewer on the call's panel, or who reviewed for it or was paid on it: owed
    first, then not yet earned, paid, not eligible; by name within each."""
    members = db.session.scalars(
        select(PanelMember).where(PanelMember.call_id == call.id, PanelMember.user_id.is_not(None))
        .options(joinedload(PanelMember.stipend))).unique().all()
    settings = db.session.get(ReviewSettings, call.id)
    statuses = _statuses_by(select(ReviewAssignment.reviewer_id, ReviewAssignment.status)
                            .where(ReviewAssignment.call_id == call.id))
    funder_ids = funder_organisation_ids()
    lines = [_line(member, settings, statuses[member.user_id], funder_ids, now) for member in members
             if _listed(member, statuses[member.user_id])]
    return sorted(lines, key=lambda line: (STATE_ORDER[line.state], line.reviewer.full_name.lower(), line.member.id))


def stipend_totals(lines: Iterable[StipendLine]) -> StipendTotals:
    totals = StipendTotals()
    for line in lines:
        if line.state is StipendState.OWED:
            totals.owed_count += 1
            totals.owed_cents += line.amount_cents
        elif line.state is StipendState.PAID:
            totals.paid_count += 1
            totals.paid_cents += line.amount_cents
    return totals


def stipends_of_reviewer(user, now: datetime | None = None) -> list[StipendLine]:
    """The reviewer's own stipends, one per call that pays them one (or has paid them), newest
    call first. Never anyone else's: everything here is keyed on ``user``."""
    members = db.session.scalars(
        select(PanelMember).where(PanelMember.user_id == user.id)
        .options(joinedload(PanelMember.stipend), joinedload(PanelMember.call))).unique().all()
    if not members:
        return []
    settings = {s.call_id: s for s in db.session.scalars(
        select(ReviewSettings).where(ReviewSettings.call_id.in_([m.call_id for m in members])))}
    statuses = _statuses_by(select(ReviewAssignment.call_id, ReviewAssignment.status)
                            .where(ReviewAssignment.reviewer_id == user.id))
    funder_ids = funder_organisation_ids()
    lines = [_line(member, settings.get(member.call_id), statuses[member.call_id], funder_ids, now)
             for member in members if _listed(member, statuses[member.call_id])]
    return sorted([line for line in lines if line.state is not StipendState.NOT_ELIGIBLE],
                  key=lambda line: line.call.id, reverse=True)


# --- recording payments -------------------------------------------------------------------------

def _locked_line(member: PanelMember, now: datetime | None) -> StipendLine:
    """The member's stipend as it is now, with their row locked: two officers recording the
    same stipend at once take turns (PostgreSQL; SQLite serialises writers anyway), and the
    second sees what the first recorded."""
    db.session.flush()
    db.session.refresh(member, attribute_names=["status", "stipend_eligible", "user_id"], with_for_update=True)
    # Re-read the record itself (a lazy load would hand back the copy this session already
    # holds), then let the relationship find it, or find one made meanwhile.
    db.session.scalar(select(ReviewerStipend).where(ReviewerStipend.panel_member_id == member.id)
                      .execution_options(populate_existing=True))
    db.session.expire(member, ["stipend"])
    settings = db.session.get(ReviewSettings, member.call_id, populate_existing=True)
    statuses = db.session.scalars(select(ReviewAssignment.status).where(
        ReviewAssignment.call_id == member.call_id, ReviewAssignment.reviewer_id == member.user_id)).all()
    return _line(member, settings, list(statuses), funder_organisation_ids(), now)


def _paid_text(record: ReviewerStipend) -> str:
    reference = f" (reference {record.payment_reference})" if record.payment_reference else ""
    return f"{format_money(record.amount_cents)} paid on {format_date(record.paid_on)}{reference}"


def _check_not_stale(line: StipendLine, expected_version: int) -> None:
    if line.version != expected_version:
        now_reads = (f"it now reads: {_paid_text(line.record)}" if line.state is StipendState.PAID
                     else f"it is now {line.state.label.lower()}")
        raise StaleEdit(f"The stipend of {line.reviewer.full_name} changed since this page was opened ({now_reads}). "
                        f"{NOTHING_CHANGED} Look at the table again before you try again.")


def _why_not_owed(line: StipendLine) -> str:
    name, call = line.reviewer.full_name, line.call
    if line.is_funder_staff:
        return f"{name} works for the funder; funder staff are never paid a stipend."
    if line.stipend_cents is None:
        return "This call pays no stipend: give an amount in the review settings first."
    if not line.eligible:
        return f"{name} is not ticked as eligible for a stipend (Settings and panel)."
    if not line.reviews.is_complete:
        if line.reviews.assigned == 0:
            return f"{name} has no review to show for this call, so no stipend is earned."
        return (f"{name} has submitted {line.reviews.submitted} of {line.reviews.assigned} reviews; the stipend is "
                "earned once every one is submitted.")
    if line.review_closes_at is None:
        return "The review of this call has no closing time yet; stipends are owed once it closes."
    return (f"The review closes on {format_instant(line.review_closes_at, call.time_zone)}; stipends are owed "
            "from then.")


def mark_stipend_paid(member: PanelMember, *, officer, paid_on: date | None, reference: str,
                      expected_version: int, now: datetime | None = None) -> ReviewerStipend:
    """Record that ``member``'s owed stipend was paid on ``paid_on`` (a day in the call's zone:
    not in the future, not before the review closed), with an optional cheque or transfer number.

    Refused, nothing changed: a stipend already paid (saying when), one not owed (saying why),
    a form drawn from another version of the record (StaleEdit), a missing or impossible date.
    Side effects: the payment record (made on the first payment), audited as ``stipend.paid``.
    """
    line = _locked_line(member, now)
    if line.state is StipendState.PAID:
        raise StaleEdit(f"The stipend of {line.reviewer.full_name} is already recorded as paid: "
                        f"{_paid_text(line.record)}. {NOTHING_CHANGED}")
    _check_not_stale(line, expected_version)
    if line.state is not StipendState.OWED:
        raise DomainError(f"{_why_not_owed(line)} {NOTHING_CHANGED}")
    call = member.call
    if paid_on is None:
        raise DomainError("Give the date the stipend was paid.")
    today = in_zone(now or utcnow(), call.time_zone).date()
    if paid_on > today:
        raise DomainError(f"The payment date cannot be in the future. {NOTHING_CHANGED}")
    closed_on = in_zone(line.review_closes_at, call.time_zone).date()
    if paid_on < closed_on:
        raise DomainError(f"The payment date cannot be before the review closed on {format_date(closed_on)}. "
                          f"{NOTHING_CHANGED}")
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_MAX:
        raise DomainError(f"The payment reference is at most {REFERENCE_MAX} characters. {NOTHING_CHANGED}")
    record = line.record
    if record is None:
        record = ReviewerStipend(panel_member_id=member.id, status=StipendStatus.OWED, version=0)
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:
            raise StaleEdit(f"Someone else recorded the stipend of {line.reviewer.full_name} a moment ago. "
                            f"{NOTHING_CHANGED} Look at the table again.") from None
    record.amount_cents, record.paid_on, record.payment_reference = line.stipend_cents, paid_on, reference
    record.paid_by_id = officer.id
    record.version += 1
    apply_transition(record, StipendStatus.PAID, STIPEND_TRANSITIONS, actor=officer, action="stipend.paid",
                     details={"call_id": call.id, "reviewer_id": member.user_id, "reviewer": member.email,
                              "amount_cents": record.amount_cents, "paid_on": paid_on.isoformat(),
                              "reference": reference})
    db.session.expire(member, ["stipend"])
    return record


def undo_stipend_paid(member: PanelMember, *, officer, reason: str, expected_version: int,
                      now: datetime | None = None) -> ReviewerStipend:
    """Undo a mistaken "paid": the stipend is owed again (if it still is by the rules) and the
    payment's date, reference and amount are cleared from the record; the audit event
    ``stipend.payment_undone`` keeps them, with the reason. Refused, nothing changed: no reason,
    a stipend not recorded as paid, a form drawn from another version of the record."""
    line = _locked_line(member, now)
    record = line.record
    if line.state is not StipendState.PAID:
        raise StaleEdit(f"The stipend of {line.reviewer.full_name} is not recorded as paid, so there is nothing "
                        f"to undo. {NOTHING_CHANGED}")
    _check_not_stale(line, expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Say why the payment is undone; the reason is kept in the audit log. {NOTHING_CHANGED}")
    undone = {"amount_cents": record.amount_cents, "paid_on": record.paid_on.isoformat(),
              "reference": record.payment_reference, "paid_by_id": record.paid_by_id}
    record.amount_cents = record.paid_on = record.paid_at = record.paid_by_id = None
    record.payment_reference = ""
    record.version += 1
    apply_transition(record, StipendStatus.OWED, STIPEND_TRANSITIONS, actor=officer,
                     action="stipend.payment_undone",
                     details={"call_id": member.call_id, "reviewer_id": member.user_id, "reviewer": member.email,
                              "reason": reason, "undone": undone})
    db.session.expire(member, ["stipend"])
    return record
