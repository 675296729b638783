"""Payments tied to outcomes (grants.awards.targets): a milestone's targets, a report's
shortfall, and the officer's choice when accepting it: release with a justification, or hold
the payment until the grantee's revised plan is accepted. Every refusal changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.audit.models import AuditEvent
from grants.awards import payments, targets
from grants.reports import services as reporting
from grants.awards.enums import MilestoneStatus, PaymentHold, PaymentMethod, PaymentStatus, ShortfallChoice
from grants.core.errors import DomainError, PermissionDenied, TransitionNotAllowed
from grants.extensions import db
from tests.applications.fixtures import make_applicant
from tests.reports.factories import reporting_award, submit
from tests.awards.test_payments import award, officer  # noqa: F401 - fixtures
from tests.conftest import fresh

RELEASE = {"method": PaymentMethod.BANK_TRANSFER, "confirmed": True}
PLAN = "Two more listening sessions each month, in the evening, with the barbers inviting their clients."


def _metrics(award):
    reached, trained = award.call.metrics
    return reached, trained


def _with_targets(award, officer, reached_target=1500, trained_target=10):
    """Targets on the first milestone: by default the usual report (1,200 reached, 12 trained)
    falls short of the first and meets the second."""
    milestone = award.milestones[0]
    reached, trained = _metrics(award)
    targets.set_milestone_targets(milestone, officer=officer,
                                  targets={reached.id: reached_target, trained.id: trained_target})
    db.session.flush()
    return milestone


def _actions(obj) -> list[str]:
    return db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == type(obj).__name__,
                                                              AuditEvent.object_id == str(obj.id))
                              .order_by(AuditEvent.id)).all()


def _state(milestone):
    db.session.commit()
    milestone = fresh(milestone)
    payment = milestone.payment
    return (milestone.status, sorted((t.metric_id, t.target) for t in milestone.targets), payment.status,
            payment.hold, payment.hold_reason, payment.shortfall_justification, payment.revised_plan,
            _actions(milestone), _actions(payment))


def _refused(milestone, action, match: str, error=DomainError):
    before = _state(milestone)
    with pytest.raises(error, match=match):
        action()
    db.session.rollback()
    assert _state(milestone) == before


# --- targets ---------------------------------------------------------------------------------------

def test_set_milestone_targets_saves_changes_and_removes_them_with_an_audit_event(award, officer):
    milestone = _with_targets(award, officer)
    reached, trained = _metrics(award)
    assert (targets.target_of(milestone, reached.id), targets.target_of(milestone, trained.id)) == (1500, 10)
    targets.set_milestone_targets(milestone, officer=officer, targets={reached.id: 1800, trained.id: None})
    db.session.flush()
    assert [(t.metric_id, t.target) for t in fresh(milestone).targets] == [(reached.id, 1800)]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "milestone.targets_set")
                                .order_by(AuditEvent.id)).all()
    assert events[-1].details["targets"] == {reached.name: {"from": 1500, "to": 1800},
                                             trained.name: {"from": 10, "to": None}}


def test_set_milestone_targets_unchanged_records_nothing(award, officer):
    milestone = _with_targets(award, officer)
    reached, trained = _metrics(award)
    before = _actions(milestone)
    targets.set_milestone_targets(milestone, officer=officer, targets={reached.id: 1500, trained.id: 10})
    assert _actions(milestone) == before


@pytest.mark.parametrize("value, match", [(0, "whole number above zero"), (-5, "whole number above zero"),
                                          ("12", "whole number above zero")])
def test_set_milestone_targets_refuses_a_target_that_is_not_a_count(award, officer, value, match):
    milestone = award.milestones[0]
    reached, _ = _metrics(award)
    _refused(milestone, lambda: targets.set_milestone_targets(milestone, officer=officer, targets={reached.id: value}),
             match)


def test_set_milestone_targets_refuses_a_metric_of_another_call(award, officer, make_user, make_organisation):
    other = reporting_award(make_user, make_organisation, signoff=False)
    milestone = award.milestones[0]
    _refused(milestone, lambda: targets.set_milestone_targets(
        milestone, officer=officer, targets={other.call.metrics[0].id: 10}), "does not ask for")


def test_targets_of_an_accepted_milestone_stay_as_they_were(award, officer):
    milestone = award.milestones[0]
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer)
    reached, _ = _metrics(award)
    _refused(milestone, lambda: targets.set_milestone_targets(milestone, officer=officer, targets={reached.id: 10}),
             "is accepted, so its targets stay")


# --- shortfalls --------------------------------------------------------------------------------------

def test_shortfalls_name_each_target_the_report_does_not_reach(award, officer):
    milestone = _with_targets(award, officer)
    report = submit(milestone, award.application.owner)
    [shortfall] = targets.shortfalls(milestone, report)
    assert (shortfall.metric.name, shortfall.target, shortfall.value, shortfall.missing) == (
        "Community members reached", 1500, 1200, 300)
    assert shortfall.describe() == "Community members reached: 1,200 of 1,500"


def test_a_report_that_meets_every_target_has_no_shortfall_and_is_accepted_as_before(award, officer):
    milestone = _with_targets(award, officer, reached_target=1200, trained_target=12)
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer)
    assert milestone.status is MilestoneStatus.ACCEPTED
    assert milestone.payment.hold is None and milestone.payment.shortfall_justification == ""
    payments.release_payment(milestone.payment, officer=officer, **RELEASE)
    assert milestone.payment.status is PaymentStatus.RELEASED


# --- accepting a report that falls short --------------------------------------------------------

def test_accepting_a_short_report_without_a_choice_is_refused_and_names_the_shortfall(award, officer):
    milestone = _with_targets(award, officer)
    submit(milestone, award.application.owner)
    _refused(milestone, lambda: reporting.accept_report(milestone, officer=officer),
             r"falls short of this milestone's targets \(Community members reached: 1,200 of 1,500\)")
    assert fresh(milestone).status is MilestoneStatus.SUBMITTED


@pytest.mark.parametrize("choice", [ShortfallChoice.RELEASE, ShortfallChoice.HOLD])
def test_accepting_a_short_report_without_a_reason_is_refused(award, officer, choice):
    milestone = _with_targets(award, officer)
    submit(milestone, award.application.owner)
    _refused(milestone, lambda: reporting.accept_report(milestone, officer=officer, shortfall_choice=choice,
                                                        shortfall_reason="   "), "Give the reason")


def test_release_with_a_justification_records_it_and_the_payment_can_be_released(award, officer):
    milestone = _with_targets(award, officer)
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer, shortfall_choice=ShortfallChoice.RELEASE,
                            shortfall_reason="Rain cancelled two events; on track otherwise.")
    payment = milestone.payment
    assert milestone.status is MilestoneStatus.ACCEPTED
    assert payment.shortfall_justification == "Rain cancelled two events; on track otherwise."
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.release_justified"))
    assert event.details["shortfalls"] == ["Community members reached: 1,200 of 1,500"]
    payments.release_payment(payment, officer=officer, **RELEASE)
    assert payment.status is PaymentStatus.RELEASED and payment.payment_method is PaymentMethod.BANK_TRANSFER


def test_a_held_payment_is_released_only_after_the_grantees_revised_plan_is_accepted(award, officer, outbox):
    milestone = _with_targets(award, officer)
    owner = award.application.owner
    submit(milestone, owner)
    reporting.accept_report(milestone, officer=officer, shortfall_choice=ShortfallChoice.HOLD,
                            shortfall_reason="Say how you will reach the 1,500 residents.")
    payment = milestone.payment
    [mail] = outbox(kind="report_accepted")
    body = " ".join(mail.body.split())
    assert "its payment of $20,000 is held until the program officer accepts your revised plan" in body
    assert "Say how you will reach the 1,500 residents." in body and "can now be released" not in body
    assert (milestone.status, payment.hold, payment.hold_reason) == (
        MilestoneStatus.ACCEPTED, PaymentHold.HELD, "Say how you will reach the 1,500 residents.")
    assert payment.held_at is not None
    _refused(milestone, lambda: payments.release_payment(payment, officer=officer, **RELEASE),
             "held pending a revised plan")

    targets.submit_revised_plan(payment, author=owner, plan=PLAN)
    assert (payment.hold, payment.revised_plan) == (PaymentHold.PLAN_SUBMITTED, PLAN)
    assert payment.plan_submitted_at is not None
    _refused(milestone, lambda: payments.release_payment(payment, officer=officer, **RELEASE),
             "accept the grantee's revised plan first")

    targets.accept_revised_plan(payment, officer=officer)
    assert payment.hold is PaymentHold.PLAN_ACCEPTED and payment.plan_accepted_at is not None
    payments.release_payment(payment, officer=officer, **RELEASE)
    db.session.flush()
    assert payment.status is PaymentStatus.RELEASED
    assert _actions(payment) == ["payment.held", "payment.plan_submitted", "payment.plan_accepted",
                                 "payment.released"]


def test_a_short_report_on_a_milestone_without_payment_is_accepted_without_a_choice(award, officer):
    milestone = _with_targets(award, officer)
    payment = milestone.payment
    award.payments.remove(payment)
    db.session.delete(payment)
    db.session.flush()
    db.session.expire(milestone, ["payment"])
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer)
    assert milestone.status is MilestoneStatus.ACCEPTED


# --- the revised plan ------------------------------------------------------------------------------

def _held(award, officer):
    milestone = _with_targets(award, officer)
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer, shortfall_choice=ShortfallChoice.HOLD,
                            shortfall_reason="Send a revised plan.")
    db.session.flush()
    return milestone


def test_only_the_grantees_team_submits_a_revised_plan(award, officer, make_user, make_organisation):
    milestone = _held(award, officer)
    stranger = make_applicant(make_user, make_organisation)
    _refused(milestone, lambda: targets.submit_revised_plan(milestone.payment, author=stranger, plan=PLAN),
             "Only the grantee's team", error=PermissionDenied)
    _refused(milestone, lambda: targets.submit_revised_plan(milestone.payment, author=officer, plan=PLAN),
             "Only the grantee's team", error=PermissionDenied)


def test_a_revised_plan_must_be_written_and_only_for_a_held_payment(award, officer):
    milestone = _held(award, officer)
    owner = award.application.owner
    _refused(milestone, lambda: targets.submit_revised_plan(milestone.payment, author=owner, plan="  "),
             "Write the revised plan")
    targets.submit_revised_plan(milestone.payment, author=owner, plan=PLAN)
    _refused(milestone, lambda: targets.submit_revised_plan(milestone.payment, author=owner, plan="Another"),
             "revised plan submitted: no revised plan is waiting")


def test_a_returned_plan_holds_the_payment_again_until_another_is_accepted(award, officer):
    milestone = _held(award, officer)
    payment, owner = milestone.payment, award.application.owner
    _refused(milestone, lambda: targets.return_revised_plan(payment, officer=officer, comments="Too vague."),
             "there is no revised plan to return")
    targets.submit_revised_plan(payment, author=owner, plan=PLAN)
    _refused(milestone, lambda: targets.return_revised_plan(payment, officer=officer, comments=" "),
             "Say what the plan must change")
    targets.return_revised_plan(payment, officer=officer, comments="Name the venues and the dates.")
    assert (payment.hold, payment.hold_reason) == (PaymentHold.HELD, "Name the venues and the dates.")
    _refused(milestone, lambda: payments.release_payment(payment, officer=officer, **RELEASE),
             "held pending a revised plan")
    targets.submit_revised_plan(payment, author=owner, plan=PLAN + " At the Elm Street and 5th Avenue shops.")
    targets.accept_revised_plan(payment, officer=officer)
    payments.release_payment(payment, officer=officer, **RELEASE)
    db.session.flush()
    assert _actions(payment) == ["payment.held", "payment.plan_submitted", "payment.plan_returned",
                                 "payment.plan_submitted", "payment.plan_accepted", "payment.released"]
    returned = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.plan_returned"))
    assert returned.details["plan"] == PLAN  # the returned plan is kept


def test_a_plan_is_accepted_only_once_submitted(award, officer):
    milestone = _held(award, officer)
    _refused(milestone, lambda: targets.accept_revised_plan(milestone.payment, officer=officer),
             "held pending a revised plan: there is no revised plan to accept")
    other = award.milestones[1].payment
    with pytest.raises(DomainError, match="not held: there is no revised plan"):
        targets.accept_revised_plan(other, officer=officer)


def test_the_hold_lifecycle_refuses_a_move_its_table_does_not_allow(award, officer):
    payment = award.milestones[1].payment
    from grants.awards.enums import PAYMENT_HOLD_TRANSITIONS
    from grants.core.lifecycle import apply_transition

    with pytest.raises(TransitionNotAllowed, match="payment is none; it cannot become plan accepted"):
        apply_transition(payment, PaymentHold.PLAN_ACCEPTED, PAYMENT_HOLD_TRANSITIONS, actor=officer,
                         action="payment.plan_accepted", state_attr="hold")


def test_the_database_refuses_releasing_a_held_payment(award, officer):
    milestone = _held(award, officer)
    payment = milestone.payment
    payment.status, payment.released_at, payment.payment_method = (PaymentStatus.RELEASED, payment.held_at,
                                                                   PaymentMethod.CHECK)
    with pytest.raises(IntegrityError, match="held_until_plan_accepted"):
        db.session.flush()
    db.session.rollback()


# --- method, reference, confirmation ------------------------------------------------------------

def _accepted_payment(award, officer):
    milestone = award.milestones[0]
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer)
    db.session.flush()
    return milestone


def test_release_needs_the_confirmation_and_a_method(award, officer):
    milestone = _accepted_payment(award, officer)
    payment = milestone.payment
    _refused(milestone, lambda: payments.release_payment(payment, officer=officer, method=PaymentMethod.CHECK,
                                                          confirmed=False), "Tick “I confirm” to release")
    _refused(milestone, lambda: payments.release_payment(payment, officer=officer, method=None, confirmed=True),
             "Choose how the payment is made")
    payments.release_payment(payment, officer=officer, method=PaymentMethod.CHECK, confirmed=True)
    db.session.flush()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.released"))
    assert event.details["paid_by"] == "check"


def test_mark_paid_needs_the_confirmation_and_a_reference_and_records_it(award, officer):
    milestone = _accepted_payment(award, officer)
    payment = payments.release_payment(milestone.payment, officer=officer, **RELEASE)
    today = reporting.local_today(award.call)
    _refused(milestone, lambda: payments.mark_paid(payment, officer=officer, paid_on=today, reference="ACH 1",
                                                    confirmed=False), "Tick “I confirm” to record")
    _refused(milestone, lambda: payments.mark_paid(payment, officer=officer, paid_on=today, reference="  ",
                                                    confirmed=True), "Give the payment's reference")
    _refused(milestone, lambda: payments.mark_paid(payment, officer=officer, paid_on=today, reference="x" * 101,
                                                    confirmed=True), "at most 100 characters")
    payments.mark_paid(payment, officer=officer, paid_on=today, reference=" ACH 2026-77 ", confirmed=True)
    db.session.flush()
    assert (payment.status, payment.payment_reference) == (PaymentStatus.PAID, "ACH 2026-77")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "payment.paid"))
    assert event.details["reference"] == "ACH 2026-77"


def test_the_database_refuses_a_paid_payment_without_a_reference(award, officer):
    milestone = _accepted_payment(award, officer)
    payment = payments.release_payment(milestone.payment, officer=officer, **RELEASE)
    payment.status, payment.paid_at, payment.paid_on = PaymentStatus.PAID, payment.released_at, award.start_on
    with pytest.raises(IntegrityError, match="paid_has_reference"):
        db.session.flush()
    db.session.rollback()
