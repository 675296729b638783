"""Award rules: recording and releasing decisions, accepting or declining an award, amending
it, and its milestones and payments.

Money rules (DESIGN.md "Money", issue #5):

- An award's amount is within the call's floor and ceiling (a bound the call leaves unset
  does not apply).
- What a call has committed never exceeds its total funds. Committed = the amounts of its
  awards that still stand (offered, accepted, active, completed; a terminated award keeps
  only what was released or paid to it; a declined offer frees its money) + the amounts of
  its award decisions not yet released (a released decision is counted through its award).
- Every function that can raise what is committed first locks the call's row
  (SELECT … FOR UPDATE), then sums, then writes: two officers deciding at once on
  PostgreSQL queue on that lock, and the second sums what the first committed. SQLite
  serialises writers itself.
- Payments never exceed the award: a payment is (share of the milestone template × award
  amount), apportioned by largest remainder so the payments add up exactly to the award
  (to the templates' total share when it is not 100%).

Amendments move money like this: released and paid payments never change, and an amount
below what is already released or paid is refused. An increase is spread over the
*scheduled* payments in proportion to their amounts, exact to the cent (largest remainder);
with no payment scheduled any more it stays unscheduled (the officer's award page shows it)
until the officer attaches it to a milestone. A decrease first takes the part of the award
no payment carries, then the scheduled payments in proportion (a payment brought to zero
is removed; its milestone stays).

Every function changes objects and records audit events; none commits. A refusal raises a
DomainError (or a subclass) whose message says what to do; the caller rolls back, so a
refused call (a whole batch, too) leaves nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select

from grants.applications.enums import APPLICATION_TRANSITIONS, ApplicationStatus
from grants.applications.models import Application, Collaborator
from grants.applications.services import people_to_tell
from grants.audit.services import record_event
from grants.awards.enums import AWARD_TRANSITIONS, AwardStatus, DecisionOutcome, MilestoneStatus, PaymentStatus
from grants.awards.models import Award, AwardAmendment, Decision, Milestone, Payment
from grants.awards.permissions import can_respond_to_offer, is_grantee
from grants.calls.models import Call
from grants.core.dates import format_date
from grants.core.errors import DomainError, PermissionDenied, TransitionNotAllowed
from grants.core.lifecycle import apply_transition
from grants.core.money import format_money
from grants.core.types import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email

NOTHING_CHANGED = "Nothing was changed."
# An award's money still stands in these states; a declined offer frees it.
STANDING_STATUSES = (AwardStatus.OFFERED, AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.COMPLETED)
SPENT_STATUSES = (PaymentStatus.RELEASED, PaymentStatus.PAID)
AMENDABLE_STATUSES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE)


def _name(application: Application) -> str:
    return application.reference_number or f"Application {application.id}"


# --- the call's money -------------------------------------------------------------------------

def lock_call(call: Call) -> None:
    """Hold the call's row until the transaction ends: every writer of a call's commitments
    takes this lock before it sums them, so they run one after another. The call's money
    figures are read again under the lock, in case another officer edited them meanwhile."""
    db.session.execute(select(Call.id).where(Call.id == call.id).with_for_update())
    db.session.refresh(call, ["award_floor_cents", "award_ceiling_cents", "total_funds_cents"])


def committed_cents(call: Call, *, except_application_id: int | None = None,
                    except_award_id: int | None = None) -> int:
    """What ``call`` has committed (see the module's rules), leaving out one application's
    decision or one award (the one about to change)."""
    standing = select(func.coalesce(func.sum(Award.amount_cents), 0)).where(
        Award.call_id == call.id, Award.status.in_(STANDING_STATUSES))
    spent_of_terminated = (
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).join(Award, Award.id == Payment.award_id)
        .where(Award.call_id == call.id, Award.status == AwardStatus.TERMINATED,
               Payment.status.in_(SPENT_STATUSES)))
    pending = select(func.coalesce(func.sum(Decision.amount_cents), 0)).where(
        Decision.call_id == call.id, Decision.outcome == DecisionOutcome.AWARD, Decision.released_at.is_(None))
    if except_award_id is not None:
        standing = standing.where(Award.id != except_award_id)
        spent_of_terminated = spent_of_terminated.where(Award.id != except_award_id)
    if except_application_id is not None:
        pending = pending.where(Decision.application_id != except_application_id)
        standing = standing.where(Award.application_id != except_application_id)
    return int(db.session.scalar(standing) + db.session.scalar(spent_of_terminated) + db.session.scalar(pending))


def decision_totals(call: Call) -> dict[str, int]:
    """The figures above a call's decisions, in aggregate SQL (three queries for any size):
    committed and remaining funds, decisions waiting for release, awards standing, and how
    many applications in review have no decision yet."""
    unreleased = dict(db.session.execute(
        select(Decision.outcome, func.count(Decision.id))
        .where(Decision.call_id == call.id, Decision.released_at.is_(None)).group_by(Decision.outcome)).all())
    awards_pending = db.session.scalar(select(func.coalesce(func.sum(Decision.amount_cents), 0)).where(
        Decision.call_id == call.id, Decision.released_at.is_(None), Decision.outcome == DecisionOutcome.AWARD))
    awarded = db.session.scalar(select(func.coalesce(func.sum(Award.amount_cents), 0)).where(
        Award.call_id == call.id, Award.status.in_(STANDING_STATUSES)))
    undecided = db.session.scalar(select(func.count(Application.id)).where(
        Application.call_id == call.id, Application.status == ApplicationStatus.IN_REVIEW,
        ~select(Decision.id).where(Decision.application_id == Application.id).exists()))
    committed = committed_cents(call)
    return {
        "committed": committed,
        "remaining": None if call.total_funds_cents is None else call.total_funds_cents - committed,
        "awards_pending": int(awards_pending or 0),
        "awards_pending_count": unreleased.get(DecisionOutcome.AWARD, 0),
        "declines_pending_count": unreleased.get(DecisionOutcome.DECLINE, 0),
        "unreleased_count": sum(unreleased.values()),
        "awarded": int(awarded or 0),
        "undecided_count": int(undecided or 0),
    }


def remaining_cents(call: Call) -> int | None:
    """The call's total funds not committed yet; None when the call has no total."""
    if call.total_funds_cents is None:
        return None
    return call.total_funds_cents - committed_cents(call)


def _check_within_bounds(call: Call, amount_cents: int, what: str) -> None:
    if amount_cents is None or amount_cents <= 0:
        raise DomainError(f"Give {what} an amount above zero. {NOTHING_CHANGED}")
    if call.award_floor_cents is not None and amount_cents < call.award_floor_cents:
        raise DomainError(f"{format_money(amount_cents)} for {what} is below the call's award floor of "
                          f"{format_money(call.award_floor_cents)}. {NOTHING_CHANGED}")
    if call.award_ceiling_cents is not None and amount_cents > call.award_ceiling_cents:
        raise DomainError(f"{format_money(amount_cents)} for {what} is above the call's award ceiling of "
                          f"{format_money(call.award_ceiling_cents)}. {NOTHING_CHANGED}")


def _check_within_total(call: Call, amount_cents: int, what: str, *, others_cents: int) -> None:
    """``others_cents``: what the call has committed besides this amount (summed under the lock)."""
    total = call.total_funds_cents
    if total is not None and others_cents + amount_cents > total:
        raise DomainError(
            f"{format_money(amount_cents)} for {what} would bring the call's awards to "
            f"{format_money(others_cents + amount_cents)}, over its total funds of {format_money(total)} "
            f"(still available: {format_money(max(total - others_cents, 0))}). {NOTHING_CHANGED}")


def _check_period(start_on: date | None, end_on: date | None, what: str) -> None:
    if start_on is None or end_on is None:
        raise DomainError(f"Give the start and end dates of {what}. {NOTHING_CHANGED}")
    if end_on <= start_on:
        raise DomainError(f"The award must end after it starts: for {what}, {format_date(end_on)} is not after "
                          f"{format_date(start_on)}. {NOTHING_CHANGED}")


# --- decisions ---------------------------------------------------------------------------------

def decision_for(application: Application) -> Decision | None:
    # As the database has it now (after a lock, another officer's committed change shows).
    return db.session.scalar(select(Decision).where(Decision.application_id == application.id)
                             .execution_options(populate_existing=True))


def decide_application(application: Application, *, officer, outcome: DecisionOutcome,
                       amount_cents: int | None = None, start_on: date | None = None, end_on: date | None = None,
                       terms: str = "", rationale: str = "", include_review_comments: bool = False) -> Decision:
    """Record (or change, while unreleased) the internal decision on an application in review.

    Refused (nothing changed): the application is not in review or its decision is already
    released; no rationale; for an award, no amount or period, an amount outside the call's
    floor and ceiling, or one that would take the call's commitments over its total funds
    (checked under the call's row lock).
    Side effects: creates or updates the Decision; audit event ``decision.recorded``. Nobody
    outside the funder is told: see release_decisions.
    """
    name = _name(application)
    _check_in_review(application)
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError(f"Give the rationale for the decision on {name}. {NOTHING_CHANGED}")
    call = application.call
    lock_call(call)
    # Another officer may have released it while this request waited for the lock.
    db.session.refresh(application, ["status"])
    _check_in_review(application)
    decision = decision_for(application)
    if decision is not None and decision.released_at is not None:
        raise TransitionNotAllowed(f"The decision on {name} is already released. {NOTHING_CHANGED}")
    if outcome is DecisionOutcome.AWARD:
        _check_within_bounds(call, amount_cents, name)
        _check_period(start_on, end_on, name)
        _check_within_total(call, amount_cents, name,
                            others_cents=committed_cents(call, except_application_id=application.id))
    else:
        amount_cents = start_on = end_on = None
    before = _decision_snapshot(decision)
    if decision is None:
        decision = Decision(application_id=application.id, call_id=call.id)
        db.session.add(decision)
    decision.outcome = outcome
    decision.amount_cents = amount_cents
    decision.start_on, decision.end_on = start_on, end_on
    decision.terms = (terms or "").strip() if outcome is DecisionOutcome.AWARD else ""
    decision.rationale = rationale
    decision.include_review_comments = bool(include_review_comments)
    decision.decided_by_id = officer.id if officer is not None else None
    decision.decided_at = utcnow()
    db.session.flush()
    record_event("decision.recorded", actor=officer, target=decision, details={
        "application_id": application.id, "reference": application.reference_number, "before": before,
        **_decision_snapshot(decision)})
    return decision


def _check_in_review(application: Application) -> None:
    if application.status is not ApplicationStatus.IN_REVIEW:
        raise TransitionNotAllowed(f"{_name(application)} is {application.status.label.lower()}; only an "
                                   f"application in review can be decided. {NOTHING_CHANGED}")


def _decision_snapshot(decision: Decision | None) -> dict:
    if decision is None:
        return {}
    return {"outcome": decision.outcome.value, "amount_cents": decision.amount_cents,
            "start_on": decision.start_on.isoformat() if decision.start_on else None,
            "end_on": decision.end_on.isoformat() if decision.end_on else None,
            "rationale": decision.rationale, "include_review_comments": decision.include_review_comments}


def decide_many(applications: Sequence[Application], *, officer, outcome: DecisionOutcome,
                start_on: date | None = None, end_on: date | None = None, terms: str = "", rationale: str = "",
                include_review_comments: bool = False) -> list[Decision]:
    """The same decision on several applications, all or nothing: a decline, or an award of
    each application's requested amount over one period with the same terms.

    The first application that breaks a rule stops the whole batch with a DomainError that
    names it; the caller rolls back, so no decision of the batch is kept.
    """
    if not applications:
        raise DomainError(f"Tick at least one application. {NOTHING_CHANGED}")
    decisions = []
    for application in applications:
        try:
            decisions.append(decide_application(
                application, officer=officer, outcome=outcome,
                amount_cents=application.requested_cents if outcome is DecisionOutcome.AWARD else None,
                start_on=start_on, end_on=end_on, terms=terms, rationale=rationale,
                include_review_comments=include_review_comments))
        except DomainError as exc:
            # Every refusal of decide_application names the application.
            raise type(exc)(f"{exc.message.removesuffix(NOTHING_CHANGED).strip()} No decision of this batch was "
                            "recorded.") from exc
    return decisions


def unreleased_decisions(call: Call) -> list[Decision]:
    return list(db.session.scalars(select(Decision).where(Decision.call_id == call.id,
                                                          Decision.released_at.is_(None))
                                   .order_by(Decision.id).execution_options(populate_existing=True)))


@dataclass(frozen=True)
class ReviewerComment:
    label: str  # "Reviewer 1": never the reviewer's name
    strengths: str
    weaknesses: str


def reviewer_comments(application: Application) -> list[ReviewerComment]:
    """The strengths and weaknesses of the application's submitted reviews, as "Reviewer 1",
    "Reviewer 2"… in the order the reviews were assigned. Names and addresses are never read."""
    from grants.reviews.enums import AssignmentStatus
    from grants.reviews.models import Review, ReviewAssignment

    rows = db.session.execute(
        select(Review.strengths, Review.weaknesses).join(ReviewAssignment, Review.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.application_id == application.id,
               ReviewAssignment.status == AssignmentStatus.SUBMITTED)
        .order_by(ReviewAssignment.id)).all()
    comments = [(strengths.strip(), weaknesses.strip()) for strengths, weaknesses in rows]
    # Lazy: read in the language of the letter it goes into.
    return [ReviewerComment(_l("Reviewer %(number)s", number=number), strengths, weaknesses)
            for number, (strengths, weaknesses) in enumerate((c for c in comments if any(c)), 1)]


class EarlyReleaseNotConfirmed(DomainError):
    """Releasing now would be early (``warnings`` say why); the officer has not confirmed."""

    status_code = 409

    def __init__(self, warnings: list[str]):
        super().__init__(" ".join(warnings) + " Confirm that you want to release the decisions now.")
        self.warnings = warnings


def early_release_warnings(call: Call, now=None) -> list[str]:
    """Why releasing the call's decisions now would be early: the call still takes applications,
    or the review phase (when it has an end) has not ended. Empty when neither holds."""
    from grants.core.dates import format_instant
    from grants.reviews.scoring import review_closes_at

    now = now or utcnow()
    warnings = []
    if call.is_open(now):
        warnings.append(f"The call is still open: it closes {format_instant(call.closes_at, call.time_zone)}, "
                        "so more applications may still come in.")
    review_closes = review_closes_at(call)
    if review_closes is not None and now < review_closes:
        warnings.append(f"The review phase has not ended: it closes {format_instant(review_closes, call.time_zone)}, "
                        "so reviewers may still submit or change their scores.")
    return warnings


def release_decisions(call: Call, *, officer, application_ids: Iterable[int] | None = None,
                      expected_count: int | None = None, confirm_early: bool = False,
                      now=None) -> list[Decision]:
    """Release the call's unreleased decisions (all of them, or those of ``application_ids``).

    An award decision becomes an OFFERED Award and the application AWARDED; a decline makes
    the application DECLINED. Each application's people (owner and active collaborators) get
    the letter (templates/email/decision_award.txt or decision_decline.txt) through the
    outbox, with the reviewers' strengths and weaknesses as "Reviewer 1…" when the decision
    says so — never a reviewer's name.
    Refused (nothing changed): nothing to release (e.g. released already); an application
    named that has no unreleased decision; ``expected_count`` (what the officer saw when
    releasing them all) differing from what is waiting (someone decided meanwhile);
    commitments over the call's total funds (the total was lowered after the decisions);
    EarlyReleaseNotConfirmed while the call is open or its review phase has not ended, unless
    ``confirm_early`` (the officer saw early_release_warnings and confirmed).
    Side effects: audit events ``decision.released``, ``award.offered`` and the
    applications' transitions; the letters.
    """
    lock_call(call)
    decisions = unreleased_decisions(call)
    if application_ids is not None:
        wanted = set(application_ids)
        waiting = {decision.application_id for decision in decisions}
        missing = wanted - waiting
        if missing:
            names = ", ".join(sorted(_name(application) for application in db.session.scalars(
                select(Application).where(Application.id.in_(missing), Application.call_id == call.id))))
            names = names or "the ticked applications"
            raise DomainError(f"No decision is waiting for release on {names} (already released, or not decided "
                              f"yet). {NOTHING_CHANGED}")
        decisions = [decision for decision in decisions if decision.application_id in wanted]
    elif expected_count is not None and decisions and expected_count != len(decisions):
        raise DomainError(f"{len(decisions)} decisions are waiting for release now, not {expected_count} as when "
                          f"the page was shown: someone decided meanwhile. Check them, then release again. "
                          f"{NOTHING_CHANGED}")
    if not decisions:
        raise DomainError(f"No decision is waiting for release: none was recorded since the last release. "
                          f"{NOTHING_CHANGED}")
    warnings = early_release_warnings(call, now)
    if warnings and not confirm_early:
        raise EarlyReleaseNotConfirmed(warnings)
    if call.total_funds_cents is not None and committed_cents(call) > call.total_funds_cents:
        raise DomainError(f"The call's decided awards ({format_money(committed_cents(call))}) are over its total "
                          f"funds of {format_money(call.total_funds_cents)}; change a decision first. "
                          f"{NOTHING_CHANGED}")
    for decision in decisions:
        if decision.application.status is not ApplicationStatus.IN_REVIEW:
            raise TransitionNotAllowed(f"{_name(decision.application)} is "
                                       f"{decision.application.status.label.lower()}, so its decision cannot be "
                                       f"released. {NOTHING_CHANGED}")
    now = now or utcnow()
    for decision in decisions:
        application = decision.application
        award = None
        if decision.outcome is DecisionOutcome.AWARD:
            award = Award(application_id=application.id, call_id=call.id, amount_cents=decision.amount_cents,
                          start_on=decision.start_on, end_on=decision.end_on, terms=decision.terms,
                          status=AwardStatus.OFFERED, offered_at=now)
            db.session.add(award)
            db.session.flush()
            record_event("award.offered", actor=officer, target=award, details={
                "application_id": application.id, "amount_cents": award.amount_cents,
                "start_on": award.start_on.isoformat(), "end_on": award.end_on.isoformat()})
            apply_transition(application, ApplicationStatus.AWARDED, APPLICATION_TRANSITIONS, actor=officer,
                             action="application.awarded", details={"award_id": award.id})
        else:
            apply_transition(application, ApplicationStatus.DECLINED, APPLICATION_TRANSITIONS, actor=officer,
                             action="application.declined")
        decision.released_at = now
        record_event("decision.released", actor=officer, target=decision, details={
            "application_id": application.id, "outcome": decision.outcome.value,
            **({"released_early": warnings} if warnings else {})})
        _send_letters(decision, award)
    return decisions


def _send_letters(decision: Decision, award: Award | None) -> None:
    application = decision.application
    comments = reviewer_comments(application) if decision.include_review_comments else []
    if award is not None:
        template, subject = "decision_award", _l("Award offer: %(title)s (%(reference)s)", title=application.title,
                                                 reference=application.reference_number)
        link = external_url("awards.award_detail", award_id=award.id)
    else:
        template, subject = "decision_decline", _l("Decision on your application %(reference)s",
                                                   reference=application.reference_number)
        link = external_url("applications.application_detail", application_id=application.id)
    for person in people_to_tell(application):
        queue_email(recipient=person.email, recipient_user=person, kind=template, subject=subject, template=template,
                    user=person, application=application, call=application.call, award=award, comments=comments,
                    link=link)


# --- the grantee's answer ----------------------------------------------------------------------

def accept_award(award: Award, *, user, confirm_terms: bool) -> None:
    """The application's owner accepts the offer, confirming its terms: ACCEPTED, then at once
    ACTIVE with its milestones and payments (see generate_milestones).

    Refused (nothing changed): anyone but the owner (PermissionDenied); an award that is not
    offered (declined, or accepted already); the terms not confirmed.
    """
    check_may_respond(award, user, "accept")
    if not confirm_terms:
        raise DomainError(f"Tick the box to confirm that you accept the award's terms. {NOTHING_CHANGED}")
    award.accepted_by_id = user.id
    apply_transition(award, AwardStatus.ACCEPTED, AWARD_TRANSITIONS, actor=user, action="award.accepted",
                     details={"amount_cents": award.amount_cents, "terms": award.terms})
    apply_transition(award, AwardStatus.ACTIVE, AWARD_TRANSITIONS, actor=user, action="award.activated")
    generate_milestones(award, actor=user)


def decline_award(award: Award, *, user, reason: str) -> None:
    """The application's owner turns the offer down (OFFERED → DECLINED), with a reason; its
    money returns to the call. The officer who decided is e-mailed."""
    check_may_respond(award, user, "decline")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Tell the funder why you decline the award. {NOTHING_CHANGED}")
    apply_transition(award, AwardStatus.DECLINED, AWARD_TRANSITIONS, actor=user, action="award.declined",
                     details={"reason": reason})
    decision = decision_for(award.application)
    officer = decision.decided_by if decision is not None else None
    if officer is not None:
        queue_email(recipient=officer.email, recipient_user=officer, kind="award_declined",
                    subject=f"Award declined: {award.application.reference_number}", template="award_declined",
                    user=officer, award=award, application=award.application, reason=reason,
                    link=external_url("awards.manage_award", award_id=award.id))


def check_may_respond(award: Award, user, verb: str) -> None:
    """Refuse anyone but the owner (PermissionDenied), and an award no longer offered."""
    if not can_respond_to_offer(user, award):
        if award.status is not AwardStatus.OFFERED and is_grantee(user, award):
            done = {"accept": "accepted", "decline": "declined"}[verb]
            raise TransitionNotAllowed(f"This award is {award.status.label.lower()}, not offered; it can no longer "
                                       f"be {done}. {NOTHING_CHANGED}")
        raise PermissionDenied(f"Only the owner of the application can {verb} the award. {NOTHING_CHANGED}")


def apportion(total_cents: int, weights: Sequence[int]) -> list[int]:
    """``total_cents`` split in proportion to ``weights``, in whole cents adding up exactly to
    it: each part rounded down, the cents left over going to the largest remainders (the
    earlier part on a tie)."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0] * len(weights)
    parts = [total_cents * weight // weight_sum for weight in weights]
    remainders = [(total_cents * weight % weight_sum, -index) for index, weight in enumerate(weights)]
    for _, negative_index in sorted(remainders, reverse=True)[:total_cents - sum(parts)]:
        parts[-negative_index] += 1
    return parts


def generate_milestones(award: Award, *, actor) -> list[Milestone]:
    """The milestones of the call's template: due ``offset_days`` after the award starts, the
    latest one final; each with a SCHEDULED payment of its share of the award (see apportion;
    a share of 0% gets no payment)."""
    templates = list(award.call.milestones)
    share_total = sum(template.payment_share_percent for template in templates)
    # Shares adding up to 100% pay the whole award; otherwise their share of it.
    payable = award.amount_cents * min(share_total, 100) // 100
    amounts = apportion(payable, [template.payment_share_percent for template in templates])
    milestones = []
    for template, amount in zip(templates, amounts):
        milestone = Milestone(name=template.name, due_on=award.start_on + timedelta(days=template.offset_days))
        award.milestones.append(milestone)
        if amount > 0:
            award.payments.append(Payment(milestone=milestone, amount_cents=amount, status=PaymentStatus.SCHEDULED))
        milestones.append(milestone)
    db.session.flush()
    _mark_final(award)
    record_event("award.milestones_generated", actor=actor, target=award, details={
        "milestones": [{"name": m.name, "due_on": m.due_on.isoformat(),
                        "payment_cents": m.payment.amount_cents if m.payment else None} for m in milestones]})
    return milestones


def _mark_final(award: Award) -> None:
    """The milestone due last (the later-added on a tie) is the final one: its accepted report closes the award."""
    ordered = sorted(award.milestones, key=lambda m: (m.due_on, m.id))
    for milestone in ordered:
        milestone.is_final = milestone is ordered[-1]


# --- amendments ---------------------------------------------------------------------------------

def lock_award(award: Award) -> None:
    """Hold the award's row (and its payments' rows) until the transaction ends, then read the
    award, its milestones and payments again: two officers changing one award's money run
    one after the other, and a payment released meanwhile is seen as released (its row
    lock makes a concurrent release wait for this transaction, or this one for it)."""
    db.session.execute(select(Award.id).where(Award.id == award.id).with_for_update())
    db.session.refresh(award, ["amount_cents", "end_on", "status", "version"])
    db.session.expire(award, ["payments", "milestones"])
    db.session.scalars(select(Payment).where(Payment.award_id == award.id).with_for_update()
                       .execution_options(populate_existing=True)).all()
    for milestone in db.session.scalars(select(Milestone).where(Milestone.award_id == award.id)
                                        .execution_options(populate_existing=True)):
        db.session.expire(milestone, ["payment"])


def spent_cents(award: Award) -> int:
    """What was released or paid to the grantee: never taken back by an amendment."""
    return sum(payment.amount_cents for payment in award.payments if payment.status in SPENT_STATUSES)


def scheduled_cents(award: Award) -> int:
    return sum(payment.amount_cents for payment in award.payments if payment.status is PaymentStatus.SCHEDULED)


def unscheduled_cents(award: Award) -> int:
    """The part of the award no payment carries yet."""
    return award.amount_cents - sum(payment.amount_cents for payment in award.payments)


def amend_award(award: Award, *, officer, new_amount_cents: int, new_end_on: date, reason: str) -> AwardAmendment:
    """Change an accepted or active award's amount and/or end date, with a reason.

    Refused (nothing changed): the award is not accepted or active; no reason; no change;
    the end not after the start; an amount outside the call's floor and ceiling, over the
    call's total funds (checked under the call's row lock), or below what is already
    released or paid. Scheduled payments absorb the difference (see the module's rules).
    Side effects: an AwardAmendment (the history), audit event ``award.amended`` with the
    payments before and after, and an e-mail to the grantees.
    """
    lock_award(award)
    if award.status not in AMENDABLE_STATUSES:
        raise TransitionNotAllowed(f"This award is {award.status.label.lower()}; only an accepted or active award "
                                   f"is amended. {NOTHING_CHANGED}")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Give the reason for the amendment; it stays in the award's history. {NOTHING_CHANGED}")
    if new_amount_cents == award.amount_cents and new_end_on == award.end_on:
        raise DomainError(f"The amount and the end date are as they were: there is nothing to amend. "
                          f"{NOTHING_CHANGED}")
    _check_period(award.start_on, new_end_on, "this award")
    call = award.call
    if new_amount_cents != award.amount_cents:
        spent = spent_cents(award)
        if new_amount_cents is not None and new_amount_cents < spent:
            raise DomainError(f"{format_money(spent)} of this award is already released or paid, so it cannot "
                              f"go down to {format_money(new_amount_cents)}. {NOTHING_CHANGED}")
        lock_call(call)
        _check_within_bounds(call, new_amount_cents, "this award")
        _check_within_total(call, new_amount_cents, "this award",
                            others_cents=committed_cents(call, except_award_id=award.id))
    before = _payments_snapshot(award)
    amendment = AwardAmendment(reason=reason, old_amount_cents=award.amount_cents, new_amount_cents=new_amount_cents,
                               old_end_on=award.end_on, new_end_on=new_end_on,
                               amended_by_id=officer.id if officer is not None else None)
    award.amendments.append(amendment)
    _rescale_scheduled(award, new_amount_cents)
    award.amount_cents, award.end_on = new_amount_cents, new_end_on
    db.session.flush()
    record_event("award.amended", actor=officer, target=award, details={
        "reason": reason, "amount_cents": {"from": amendment.old_amount_cents, "to": new_amount_cents},
        "end_on": {"from": amendment.old_end_on.isoformat(), "to": new_end_on.isoformat()},
        "payments": {"from": before, "to": _payments_snapshot(award)}})
    for person in people_to_tell(award.application):
        queue_email(recipient=person.email, recipient_user=person, kind="award_amended",
                    subject=_l("Your award was amended: %(reference)s", reference=award.application.reference_number), template="award_amended",
                    user=person, award=award, amendment=amendment, application=award.application,
                    link=external_url("awards.award_detail", award_id=award.id))
    return amendment


def _payments_snapshot(award: Award) -> list[dict]:
    return [{"id": p.id, "milestone": p.milestone.name if p.milestone else None, "amount_cents": p.amount_cents,
             "status": p.status.value} for p in award.payments]


def _rescale_scheduled(award: Award, new_amount_cents: int) -> None:
    """Before ``award.amount_cents`` changes: the scheduled payments take an increase, and
    what a decrease leaves after the unscheduled part is used up (see the module's rules)."""
    scheduled = [p for p in award.payments if p.status is PaymentStatus.SCHEDULED]
    if not scheduled:
        return
    old_scheduled = sum(p.amount_cents for p in scheduled)
    change = new_amount_cents - award.amount_cents
    if change < 0:
        change = min(change + max(unscheduled_cents(award), 0), 0)
    # Never below zero: the amount is not below what is spent (checked by the caller).
    amounts = apportion(max(old_scheduled + change, 0), [p.amount_cents for p in scheduled])
    for payment, amount in zip(scheduled, amounts):
        if amount > 0:
            payment.amount_cents = amount
        else:
            award.payments.remove(payment)
            db.session.delete(payment)


# --- the officer's milestone editor -------------------------------------------------------------

def _check_editable(award: Award) -> None:
    lock_award(award)
    if award.status not in AMENDABLE_STATUSES:
        raise TransitionNotAllowed(f"This award is {award.status.label.lower()}; its milestones can no longer "
                                   f"change. {NOTHING_CHANGED}")


def _check_milestone_fields(award: Award, name: str, due_on: date | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(f"Give the milestone a name. {NOTHING_CHANGED}")
    if due_on is None:
        raise DomainError(f"Give the milestone's due date. {NOTHING_CHANGED}")
    if due_on < award.start_on:
        raise DomainError(f"A milestone cannot be due before the award starts ({format_date(award.start_on)}). "
                          f"{NOTHING_CHANGED}")
    return name


def _check_payments_within_award(award: Award, *, changing: Payment | None, new_cents: int) -> None:
    others = sum(p.amount_cents for p in award.payments if p is not changing)
    if others + new_cents > award.amount_cents:
        raise DomainError(f"The payments would add up to {format_money(others + new_cents)}, over the award of "
                          f"{format_money(award.amount_cents)}: at most {format_money(award.amount_cents - others)} "
                          f"can go to this milestone. {NOTHING_CHANGED}")


def add_milestone(award: Award, *, officer, name: str, due_on: date, payment_cents: int | None) -> Milestone:
    """A milestone the template did not give, optionally with a SCHEDULED payment; the
    payments of the award stay within its amount. Audit event ``milestone.added``."""
    _check_editable(award)
    name = _check_milestone_fields(award, name, due_on)
    payment_cents = payment_cents or 0
    _check_payments_within_award(award, changing=None, new_cents=payment_cents)
    milestone = Milestone(name=name, due_on=due_on)
    award.milestones.append(milestone)
    if payment_cents:
        award.payments.append(Payment(milestone=milestone, amount_cents=payment_cents,
                                      status=PaymentStatus.SCHEDULED))
    db.session.flush()
    _mark_final(award)
    record_event("milestone.added", actor=officer, target=milestone, details={
        "award_id": award.id, "name": name, "due_on": due_on.isoformat(), "payment_cents": payment_cents or None})
    return milestone


def adjust_milestone(milestone: Milestone, *, officer, name: str, due_on: date, payment_cents: int | None) -> None:
    """Change a milestone's name, due date and scheduled payment (none or 0 removes it).

    Refused (nothing changed): the award is not accepted or active; the milestone is accepted
    already; a released or paid payment's amount changed; the payments over the award; a
    due date before the award starts. Audit event ``milestone.adjusted`` with before/after.
    """
    award = milestone.award
    _check_editable(award)
    name = _check_milestone_fields(award, name, due_on)
    payment_cents = payment_cents or 0
    payment = milestone.payment
    current_cents = payment.amount_cents if payment is not None else 0
    if milestone.status is MilestoneStatus.ACCEPTED and (name, due_on) != (milestone.name, milestone.due_on):
        raise TransitionNotAllowed(f"“{milestone.name}” is accepted; its name and due date stay as they were. "
                                   f"{NOTHING_CHANGED}")
    if payment is not None and payment.status is not PaymentStatus.SCHEDULED and payment_cents != current_cents:
        raise TransitionNotAllowed(f"The payment of “{milestone.name}” is {payment.status.label.lower()}; its amount "
                                   f"({format_money(current_cents)}) can no longer change. {NOTHING_CHANGED}")
    _check_payments_within_award(award, changing=payment, new_cents=payment_cents)
    before = {"name": milestone.name, "due_on": milestone.due_on.isoformat(), "payment_cents": current_cents}
    milestone.name, milestone.due_on = name, due_on
    if payment is None and payment_cents:
        award.payments.append(Payment(milestone=milestone, amount_cents=payment_cents,
                                      status=PaymentStatus.SCHEDULED))
    elif payment is not None and not payment_cents:
        award.payments.remove(payment)
        db.session.delete(payment)
    elif payment is not None:
        payment.amount_cents = payment_cents
    db.session.flush()
    _mark_final(award)
    after = {"name": name, "due_on": due_on.isoformat(), "payment_cents": payment_cents}
    if after == before:
        return
    record_event("milestone.adjusted", actor=officer, target=milestone, details={
        "award_id": award.id, **{key: {"from": before[key], "to": after[key]} for key in after
                                 if before[key] != after[key]}})


# --- the grantee's awards -----------------------------------------------------------------------

def _grantee_clause(user):
    collaborates = exists().where(Collaborator.application_id == Application.id, Collaborator.user_id == user.id,
                                  Collaborator.accepted_at.is_not(None), Collaborator.revoked_at.is_(None))
    return or_(Application.owner_id == user.id, collaborates)


def awards_of(user) -> list[Award]:
    """The awards of applications ``user`` owns or works on (active collaborator), newest first."""
    if not user.is_authenticated:
        return []
    return list(db.session.scalars(select(Award).join(Application, Application.id == Award.application_id)
                                   .where(_grantee_clause(user)).order_by(Award.offered_at.desc(), Award.id.desc())))


def has_awards(user) -> bool:
    if not user.is_authenticated:
        return False
    return bool(db.session.scalar(select(exists().where(and_(Award.application_id == Application.id,
                                                             _grantee_clause(user))))))
