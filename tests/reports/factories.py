"""Factories for the reporting, payment and dashboard tests.

- reporting_award(...): an ACTIVE award made the real way (tests/awards/fixtures.py), on a
  call with two outcome metrics; partner sign-off required unless ``signoff=False``. Its
  application has two partners (a community nonprofit and a public-health agency) whose
  contacts are collaborators. Amount $100,000; milestones Inception (20%), Interim (30%),
  Final (50%), due 30, 180 and 365 days after a start a month from today.
- full_content(award): a ReportContent that can be submitted.
- award_rows(...): an award built as rows only, in any state, with the budget, milestones
  and payments a dashboard test spells out (hand-computed figures).
- counted_statements(): the SQL statements run inside the block.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from io import BytesIO

from sqlalchemy import select

from grants.accounts.models import Organisation, User
from grants.applications.enums import ApplicationStatus, BudgetCategory
from grants.applications.models import Application, BudgetLine, Partner
from grants.reports import services as reporting
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentMethod, PaymentStatus, ReportOutcome
from grants.awards.models import Award, Milestone, MilestoneReport, Payment, ReportMetricValue
from grants.calls.models import OutcomeMetric
from grants.core.types import utcnow
from grants.extensions import db
from tests.applications.fixtures import PDF, make_call
from tests.awards.fixtures import make_active_award, make_officer
from tests.reviews.scoring_factories import counted_statements  # noqa: F401 - re-exported

_numbers = itertools.count(1)


def add_metrics(call, *names: tuple[str, str]) -> list[OutcomeMetric]:
    call.metrics = [OutcomeMetric(position=position, name=name, unit=unit) for position, (name, unit) in
                    enumerate(names or (("Community members reached", "people"), ("Trusted messengers trained", "")))]
    db.session.flush()
    return call.metrics


def reporting_award(make_user, make_organisation, *, signoff: bool = True, call=None, **fields) -> Award:
    call = call or make_call(requires_partner_signoff=signoff, title=f"Reporting call {next(_numbers)}")
    if not call.metrics:
        add_metrics(call)
    return make_active_award(make_user, make_organisation, call=call, **fields)


def partner_users(award: Award) -> list[User]:
    """The users who are the contacts of the award application's partners, in partner order."""
    return [db.session.scalar(select(User).where(User.email == partner.contact_email))
            for partner in award.application.partners]


def officer_for(make_user, make_organisation):
    return make_officer(make_user, make_organisation)


def full_content(award: Award, *, narrative: str = "We trained twelve messengers and held four listening sessions.",
                 values=(1200, 12), spending=None, files=(), remove=()) -> reporting.ReportContent:
    metrics = award.call.metrics
    return reporting.ReportContent(
        narrative=narrative,
        metric_values={metric.id: value for metric, value in zip(metrics, values)},
        spending=spending if spending is not None else {BudgetCategory.PERSONNEL: 1_500_000,
                                                        BudgetCategory.CONTRACTUAL: 900_000},
        uploads=[reporting.Upload(BytesIO(PDF), name) for name in files],
        remove_file_ids=list(remove))


def submit(milestone: Milestone, author, **content) -> MilestoneReport:
    report = reporting.submit_report(milestone, author=author, content=full_content(milestone.award, **content))
    db.session.flush()
    return report


def sign_all(report: MilestoneReport) -> None:
    for user in partner_users(report.milestone.award):
        reporting.sign_off_report(report, user=user)
    db.session.flush()


def accept(milestone: Milestone, officer, author=None, **content) -> MilestoneReport:
    """Submit (unless submitted already), sign off where required, accept."""
    if milestone.status is not MilestoneStatus.SUBMITTED:
        submit(milestone, author or milestone.award.application.owner, **content)
    report = reporting.latest_submitted(milestone)
    if milestone.award.call.requires_partner_signoff:
        sign_all(report)
    reporting.accept_report(milestone, officer=officer)
    db.session.flush()
    return report


# --- awards as rows, for figures ------------------------------------------------------------------

def award_rows(call, owner, *, amount_cents: int, lines=((10_000_000, None),), status: AwardStatus = AwardStatus.ACTIVE,
               milestones=(), start_on: date | None = None, title: str | None = None) -> Award:
    """An award as rows only.

    ``lines``: (cents, partner kind or None for the lead's own costs) budget lines of the
    application. ``milestones``: dicts with due_on, status (MilestoneStatus), first_submitted_on
    (a date, or None), payment_cents, payment_status (PaymentStatus), metrics ({metric id: value}
    for an accepted report), is_final.
    """
    number = next(_numbers)
    now = utcnow()
    application = Application(
        call=call, lead_organisation=owner.organisation, owner=owner, title=title or f"Awarded project {number}",
        status=ApplicationStatus.AWARDED, reference_number=f"R-{call.id}-{number:04d}", submitted_at=now,
        submitted_content={})
    db.session.add(application)
    db.session.flush()
    for cents, kind in lines:
        partner = None
        if kind is not None:
            organisation = Organisation(name=f"Partner {number}-{next(_numbers)}", kind=kind)
            db.session.add(organisation)
            db.session.flush()
            partner = Partner(application=application, organisation_id=organisation.id, contact_name="Contact",
                              contact_email=f"contact{next(_numbers)}@example.org")
            db.session.add(partner)
            db.session.flush()
        application.budget_lines.append(BudgetLine(category=BudgetCategory.CONTRACTUAL if partner else
                                                   BudgetCategory.PERSONNEL, description="Line", amount_cents=cents,
                                                   partner_id=partner.id if partner else None))
    start_on = start_on or date.today() - timedelta(days=200)
    award = Award(application=application, call_id=call.id, amount_cents=amount_cents, start_on=start_on,
                  end_on=start_on + timedelta(days=365), status=status)
    db.session.add(award)
    db.session.flush()
    for spec in milestones:
        _milestone_rows(award, **spec)
    db.session.flush()
    return award


def _instant_on(day: date, call):
    """Noon on ``day`` in the call's zone."""
    from datetime import time

    from grants.core.timezones import local_instant

    return local_instant(day, time(12, 0), call.time_zone)


def _milestone_rows(award: Award, *, due_on: date, status: MilestoneStatus = MilestoneStatus.UPCOMING,
                    first_submitted_on: date | None = None, payment_cents: int | None = None,
                    payment_status: PaymentStatus = PaymentStatus.SCHEDULED, metrics: dict | None = None,
                    is_final: bool = False, name: str | None = None) -> Milestone:
    call = db.session.get(type(award.call), award.call_id) if award.call is None else award.call
    milestone = Milestone(award=award, name=name or f"Milestone {next(_numbers)}", due_on=due_on, status=status,
                          is_final=is_final)
    db.session.add(milestone)
    db.session.flush()
    if first_submitted_on is not None:
        submitted_at = _instant_on(first_submitted_on, call)
        milestone.submitted_at = submitted_at
        report = MilestoneReport(milestone=milestone, version=1, narrative="Report", submitted_at=submitted_at,
                                 submitted_by_id=award.application.owner_id)
        if status is MilestoneStatus.ACCEPTED:
            report.outcome = ReportOutcome.ACCEPTED
            report.decided_at = submitted_at
            milestone.accepted_at = submitted_at
            report.metric_values = [ReportMetricValue(metric_id=metric_id, value=value)
                                    for metric_id, value in (metrics or {}).items()]
        db.session.add(report)
    if payment_cents:
        payment = Payment(award=award, milestone=milestone, amount_cents=payment_cents, status=payment_status)
        if payment_status is not PaymentStatus.SCHEDULED:
            payment.released_at, payment.payment_method = utcnow(), PaymentMethod.BANK_TRANSFER
        if payment_status is PaymentStatus.PAID:
            payment.paid_at = utcnow()
            payment.paid_on = date.today()
            payment.payment_reference = f"ACH {payment_cents}"
        db.session.add(payment)
    db.session.flush()
    return milestone
