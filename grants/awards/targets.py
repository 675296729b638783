"""Payments tied to outcomes: a milestone's outcome targets, the shortfall of a report against
them, and what the officer does with the payment of a report that falls short (issue #11).

Rules:
- Targets are figures to date, like the report's: "community members reached: 500" by this
  milestone. The officer sets them while the award is accepted or active and the milestone's
  report is not accepted yet; after that they stay as they were (the decision rests on them).
- A report falls short when one of its figures is below its milestone's target (a figure
  left out counts as 0).
- Accepting a report that falls short, on a milestone whose payment is still scheduled,
  needs the officer's choice and a reason the grantee reads: release all the same (the
  justification is kept on the payment) or hold the payment pending a revised plan.
- A held payment: the grantee's team submits a revised plan, the officer accepts it, and
  only then can the payment be released (the database refuses a held payment's release). The
  officer may instead return the plan saying what it must change: the payment is held again
  and the grantee submits another (each plan is kept in the audit log).

Every function changes objects and records audit events; none commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from grants.audit.services import record_event
from grants.awards.enums import (
    PAYMENT_HOLD_TRANSITIONS,
    AwardStatus,
    MilestoneStatus,
    PaymentHold,
    PaymentStatus,
    ShortfallChoice,
)
from grants.awards.models import Milestone, MilestoneReport, MilestoneTarget, Payment
from grants.awards.permissions import is_grantee
from grants.core.errors import DomainError, PermissionDenied
from grants.core.lifecycle import apply_transition
from grants.extensions import db

MAX_TARGET = 10 ** 12
REASON_LIMIT = 10_000
# Targets are set while the award may still change (services.AMENDABLE_STATUSES).
TARGETS_EDITABLE = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE)
# A held payment's grantee answers with a revised plan while the award runs or is closing out.
PLAN_STATUSES = (AwardStatus.ACTIVE, AwardStatus.COMPLETED)


def lock_row(obj, *attribute_names: str):
    """Lock ``obj``'s row and re-read the columns a check uses. Pending changes are flushed
    first: a refresh would otherwise drop them. Only the object's own columns are read:
    FOR UPDATE refuses outer joins."""
    db.session.flush()
    db.session.refresh(obj, attribute_names=list(attribute_names), with_for_update=True)
    return obj


# --- targets and shortfalls ---------------------------------------------------------------------

@dataclass(frozen=True)
class Shortfall:
    metric: object  # grants.calls.models.OutcomeMetric
    target: int
    value: int

    @property
    def missing(self) -> int:
        return self.target - self.value

    def describe(self) -> str:
        return f"{self.metric.name}: {self.value:,} of {self.target:,}"


def target_of(milestone: Milestone, metric_id: int) -> int | None:
    return next((t.target for t in milestone.targets if t.metric_id == metric_id), None)


def shortfalls(milestone: Milestone, report: MilestoneReport | None) -> list[Shortfall]:
    """The targets of ``milestone`` that ``report``'s figures do not reach, in the call's metric order."""
    if report is None or not milestone.targets:
        return []
    values = {value.metric_id: value.value for value in report.metric_values}
    targets = {target.metric_id: target for target in milestone.targets}
    return [Shortfall(metric, targets[metric.id].target, values.get(metric.id, 0))
            for metric in milestone.award.call.metrics
            if metric.id in targets and values.get(metric.id, 0) < targets[metric.id].target]


def set_milestone_targets(milestone: Milestone, *, officer, targets: Mapping[int, int | None]) -> None:
    """Set the milestone's outcome targets: ``targets`` maps each outcome metric of the call to
    a whole number above zero, or None for no target.

    Refused (nothing changed): the award is not accepted or active; the milestone's report is
    accepted; a metric the call does not have; a target that is not a whole number above zero.
    Audit event ``milestone.targets_set`` with the targets before and after (none when nothing changed).
    """
    lock_row(milestone, "status")
    award = milestone.award
    if award.status not in TARGETS_EDITABLE:
        raise DomainError(f"This award is {award.status.label.lower()}; its milestones' targets can no longer "
                          "change. Nothing was changed.")
    if milestone.status is MilestoneStatus.ACCEPTED:
        raise DomainError(f"The report for “{milestone.name}” is accepted, so its targets stay as they were when it "
                          "was decided. Nothing was changed.")
    metrics = {metric.id: metric for metric in award.call.metrics}
    if set(targets) - set(metrics):
        raise DomainError("A target is for an outcome metric this call does not ask for. Nothing was changed.")
    for metric_id, value in targets.items():
        if value is not None and not (isinstance(value, int) and 0 < value <= MAX_TARGET):
            raise DomainError(f"The target for {metrics[metric_id].name} is a whole number above zero (or leave it "
                              "empty for no target). Nothing was changed.")
    before = {t.metric_id: t.target for t in milestone.targets}
    current = {t.metric_id: t for t in milestone.targets}
    for metric_id, value in targets.items():
        if value is None and metric_id in current:
            milestone.targets.remove(current[metric_id])
        elif value is not None and metric_id in current:
            current[metric_id].target = value
        elif value is not None:
            milestone.targets.append(MilestoneTarget(metric_id=metric_id, target=value))
    db.session.flush()
    after = {t.metric_id: t.target for t in milestone.targets}
    if after == before:
        return
    record_event("milestone.targets_set", actor=officer, target=milestone, details={
        "award_id": award.id, "milestone": milestone.name,
        "targets": {metrics[m].name: {"from": before.get(m), "to": after.get(m)}
                    for m in sorted(set(before) | set(after)) if before.get(m) != after.get(m)}})


# --- the officer's choice when a report falls short -----------------------------------------------

def needs_shortfall_choice(milestone: Milestone, report: MilestoneReport | None) -> bool:
    """Accepting ``report`` asks what to do with the payment: it falls short and its payment is still scheduled."""
    payment = milestone.payment
    return (bool(shortfalls(milestone, report)) and payment is not None
            and payment.status is PaymentStatus.SCHEDULED and payment.hold is None)


def shortfall_problems(choice, reason: str) -> dict[str, str]:
    """What the officer's answer to a shortfall lacks, by form field name; empty when nothing."""
    problems = {}
    if choice not in (ShortfallChoice.RELEASE, ShortfallChoice.HOLD):
        problems["shortfall_choice"] = ("Choose whether to release the payment all the same or hold it pending a "
                                        "revised plan.")
    reason = (reason or "").strip()
    if not reason:
        problems["shortfall_reason"] = "Give the reason for your choice: the grantee reads it with the report."
    elif len(reason) > REASON_LIMIT:
        problems["shortfall_reason"] = f"The reason may be at most {REASON_LIMIT:,} characters long."
    return problems


def decide_shortfall(milestone: Milestone, report: MilestoneReport, *, officer, choice, reason: str) -> None:
    """Part of accepting a report that falls short (reporting.accept_report): release with a
    justification, or hold the payment. Refused without a choice or a reason."""
    found = shortfalls(milestone, report)
    problems = shortfall_problems(choice, reason)
    if problems:
        names = "; ".join(shortfall.describe() for shortfall in found)
        raise DomainError(f"The report falls short of this milestone's targets ({names}). "
                          + " ".join(problems.values()) + " The report was not accepted.")
    reason = reason.strip()
    payment = lock_row(milestone.payment, "status", "hold")
    details = {"award_id": milestone.award_id, "milestone_id": milestone.id, "report_id": report.id,
               "reason": reason, "shortfalls": [shortfall.describe() for shortfall in found]}
    if choice is ShortfallChoice.RELEASE:
        payment.shortfall_justification = reason
        record_event("payment.release_justified", actor=officer, target=payment, details=details)
        return
    payment.hold_reason = reason
    apply_transition(payment, PaymentHold.HELD, PAYMENT_HOLD_TRANSITIONS, actor=officer, action="payment.held",
                     details=details, state_attr="hold")


def release_blocker(payment: Payment) -> str | None:
    """Why the hold keeps ``payment`` from being released, or None."""
    if payment.hold is PaymentHold.HELD:
        return ("This payment is held pending a revised plan from the grantee; it is released once you accept their "
                "plan. Nothing was released.")
    if payment.hold is PaymentHold.PLAN_SUBMITTED:
        return ("This payment is held: accept the grantee's revised plan first, then release it. Nothing was "
                "released.")
    return None


# --- the revised plan -------------------------------------------------------------------------

def _written(text: str, name: str, *, missing: str, refused: str) -> str:
    """``text`` stripped; refused (``missing``) when empty or longer than REASON_LIMIT."""
    text = (text or "").strip()
    if not text:
        raise DomainError(f"{missing} {refused}")
    if len(text) > REASON_LIMIT:
        raise DomainError(f"The {name} may be at most {REASON_LIMIT:,} characters long. {refused}")
    return text


def submit_revised_plan(payment: Payment, *, author, plan: str) -> Payment:
    """The grantee's revised plan for a held payment: how the partnership will reach the targets.

    Refused (nothing changed): ``author`` is not of the grantee's team; the award is not active
    or completed; the payment is not held waiting for a plan; no plan written.
    Audit event ``payment.plan_submitted`` with the plan.
    """
    award = payment.award
    if not is_grantee(author, award):
        raise PermissionDenied("Only the grantee's team submits the revised plan for this payment.")
    plan = _written(plan, "plan", missing="Write the revised plan: how the partnership will reach the targets.",
                    refused="Nothing was saved.")
    lock_row(payment, "status", "hold")
    if award.status not in PLAN_STATUSES:
        raise DomainError(f"This award is {award.status.label.lower()}; no revised plan is taken. Nothing was saved.")
    if payment.hold is not PaymentHold.HELD:
        state = payment.hold.label.lower() if payment.hold else "not held"
        raise DomainError(f"This payment is {state}: no revised plan is waiting. Nothing was saved.")
    payment.revised_plan = plan
    apply_transition(payment, PaymentHold.PLAN_SUBMITTED, PAYMENT_HOLD_TRANSITIONS, actor=author,
                     action="payment.plan_submitted", state_attr="hold",
                     details={"award_id": award.id, "milestone_id": payment.milestone_id, "plan": plan})
    return payment


def accept_revised_plan(payment: Payment, *, officer) -> Payment:
    """The officer accepts the grantee's revised plan: the held payment may now be released.
    Refused unless a plan is waiting. Audit event ``payment.plan_accepted``."""
    lock_row(payment, "status", "hold")
    _waiting_plan(payment, "accept")
    apply_transition(payment, PaymentHold.PLAN_ACCEPTED, PAYMENT_HOLD_TRANSITIONS, actor=officer,
                     action="payment.plan_accepted", state_attr="hold",
                     details={"award_id": payment.award_id, "milestone_id": payment.milestone_id})
    return payment


def _waiting_plan(payment: Payment, what: str) -> None:
    if payment.hold is not PaymentHold.PLAN_SUBMITTED:
        state = payment.hold.label.lower() if payment.hold else "not held"
        raise DomainError(f"This payment is {state}: there is no revised plan to {what}. Nothing was changed.")


def return_revised_plan(payment: Payment, *, officer, comments: str) -> Payment:
    """The officer returns the grantee's revised plan with ``comments`` (required: what it must
    change); the payment is held again, for another plan. Audit event ``payment.plan_returned``."""
    comments = _written(comments, "comments", missing="Say what the plan must change: the grantee reads it.",
                        refused="The plan was not returned.")
    lock_row(payment, "status", "hold")
    _waiting_plan(payment, "return")
    payment.hold_reason = comments
    apply_transition(payment, PaymentHold.HELD, PAYMENT_HOLD_TRANSITIONS, actor=officer,
                     action="payment.plan_returned", state_attr="hold",
                     details={"award_id": payment.award_id, "milestone_id": payment.milestone_id,
                              "reason": comments, "plan": payment.revised_plan})
    return payment
