"""Portfolio figures: money per award and per call, milestones on time and late, outcome
metrics across grantees, and the share of funds that goes to community partners.

Each figure comes from one grouped query over all the awards asked for, so a page runs the
same number of queries for two awards as for two hundred. Declined awards count nowhere.

The rules, as the dashboard explains them:
- Awarded: the amounts of awards that were not declined (offered, accepted, active,
  completed, terminated), shown apart as offered (not yet accepted) and accepted (accepted,
  active, completed, terminated). Released: payments released to the grantee, including those paid
  since. Paid: payments marked paid. Remaining: awarded − paid.
- Community share: for each award, the share of its application's requested budget that
  goes to partners of a community kind (budget lines with a partner subaward whose
  organisation is not a member institution), applied to the award amount (the award may
  differ from the request): community = amount × community lines ÷ all lines, rounded to the
  cent. Of paid funds: the same share applied to what was paid. Summed over awards.
- Milestones: on time when the first version of its report was submitted on or before the
  due date (in the call's time zone); late when it was submitted after it, or when nothing
  is submitted and the date has passed on an active award (overdue, a part of late); not yet
  due otherwise. A revision asked for later does not make an on-time report late.
- Outcome metrics are reported cumulative to date, so each award counts once: with the
  figures of its latest accepted report (the accepted milestone with the latest due date).
  Totals add those figures across awards, per metric of each call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, lazyload

from grants.accounts.enums import OrganisationKind
from grants.accounts.models import Organisation
from grants.applications.models import Application, BudgetLine, Partner
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentStatus, ReportOutcome
from grants.awards.models import Award, Milestone, MilestoneReport, Payment, ReportMetricValue
from grants.calls.models import Call, OutcomeMetric
from grants.core.timezones import in_zone
from grants.core.types import utcnow
from grants.extensions import db

COMMUNITY_KINDS = [kind for kind in OrganisationKind if kind.is_community_partner]


def _counted():
    """Declined awards count nowhere."""
    return Award.status != AwardStatus.DECLINED


def _offered(amount):
    """``amount`` for an offer not yet accepted, else 0 (a column expression)."""
    return case((Award.status == AwardStatus.OFFERED, amount), else_=0)


def _round_share(amount: int, part: int, whole: int) -> int:
    """amount × part ÷ whole, to the nearest cent (halves up), in integers."""
    if whole <= 0:
        return 0
    return (2 * amount * part + whole) // (2 * whole)


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


# --- money ------------------------------------------------------------------------------------

@dataclass
class Funds:
    awarded_cents: int = 0
    # Of the awarded: offers the grantee has not accepted yet (the rest were accepted).
    offered_cents: int = 0
    released_cents: int = 0
    paid_cents: int = 0
    community_cents: int = 0
    community_paid_cents: int = 0

    @property
    def accepted_cents(self) -> int:
        return self.awarded_cents - self.offered_cents

    @property
    def remaining_cents(self) -> int:
        return self.awarded_cents - self.paid_cents

    @property
    def community_percent(self) -> float | None:
        return _percent(self.community_cents, self.awarded_cents)

    @property
    def community_paid_percent(self) -> float | None:
        return _percent(self.community_paid_cents, self.paid_cents)

    def add(self, other: Funds) -> None:
        self.awarded_cents += other.awarded_cents
        self.offered_cents += other.offered_cents
        self.released_cents += other.released_cents
        self.paid_cents += other.paid_cents
        self.community_cents += other.community_cents
        self.community_paid_cents += other.community_paid_cents


def _payment_sums():
    """Released (including paid) and paid cents per award, as a subquery."""
    return (select(Payment.award_id,
                   func.sum(case((Payment.status.in_([PaymentStatus.RELEASED, PaymentStatus.PAID]),
                                  Payment.amount_cents), else_=0)).label("released"),
                   func.sum(case((Payment.status == PaymentStatus.PAID, Payment.amount_cents), else_=0)).label("paid"))
            .group_by(Payment.award_id).subquery())


def funds_by_award(*, award_ids: list[int] | None = None, call_id: int | None = None) -> dict[int, Funds]:
    """Awarded, released, paid and community figures per award id (declined awards left out)."""
    payments = _payment_sums()
    query = (select(Award.id, Award.amount_cents, func.coalesce(payments.c.released, 0),
                    func.coalesce(payments.c.paid, 0), _offered(Award.amount_cents))
             .outerjoin(payments, payments.c.award_id == Award.id).where(_counted()))
    if award_ids is not None:
        query = query.where(Award.id.in_(award_ids))
    if call_id is not None:
        query = query.where(Award.call_id == call_id)
    # int(): PostgreSQL sums BIGINTs as NUMERIC.
    funds = {award_id: Funds(awarded_cents=int(amount), released_cents=int(released), paid_cents=int(paid),
                             offered_cents=int(offered))
             for award_id, amount, released, paid, offered in db.session.execute(query)}
    for award_id, (requested, community) in _budget_shares(award_ids=award_ids, call_id=call_id).items():
        if award_id in funds:
            figures = funds[award_id]
            figures.community_cents = _round_share(figures.awarded_cents, community, requested)
            figures.community_paid_cents = _round_share(figures.paid_cents, community, requested)
    return funds


def funds_by_call(*, call_id: int | None = None) -> dict[int, Funds]:
    """The same figures per call id: money summed in SQL (one GROUP BY); the community share
    is applied per award (see the module's rules), then summed."""
    payments = _payment_sums()
    query = (select(Award.call_id, func.sum(Award.amount_cents), func.coalesce(func.sum(payments.c.released), 0),
                    func.coalesce(func.sum(payments.c.paid), 0), func.sum(_offered(Award.amount_cents)))
             .outerjoin(payments, payments.c.award_id == Award.id).where(_counted()).group_by(Award.call_id))
    if call_id is not None:
        query = query.where(Award.call_id == call_id)
    funds = {call: Funds(awarded_cents=int(amount), released_cents=int(released), paid_cents=int(paid),
                         offered_cents=int(offered or 0))
             for call, amount, released, paid, offered in db.session.execute(query)}
    shares = _budget_shares(call_id=call_id)
    per_award = (select(Award.id, Award.call_id, Award.amount_cents, func.coalesce(payments.c.paid, 0))
                 .outerjoin(payments, payments.c.award_id == Award.id).where(_counted()))
    if call_id is not None:
        per_award = per_award.where(Award.call_id == call_id)
    for award_id, call, amount, paid in db.session.execute(per_award):
        requested, community = shares.get(award_id, (0, 0))
        funds[call].community_cents += _round_share(amount, community, requested)
        funds[call].community_paid_cents += _round_share(int(paid), community, requested)
    return funds


def _budget_shares(*, award_ids: list[int] | None = None, call_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Per award id: (requested cents, cents to community partners) of its application's budget."""
    query = (select(Award.id, func.sum(BudgetLine.amount_cents),
                    func.sum(case((Organisation.kind.in_(COMMUNITY_KINDS), BudgetLine.amount_cents), else_=0)))
             .join(BudgetLine, BudgetLine.application_id == Award.application_id)
             .outerjoin(Partner, Partner.id == BudgetLine.partner_id)
             .outerjoin(Organisation, Organisation.id == Partner.organisation_id)
             .where(_counted()).group_by(Award.id))
    if award_ids is not None:
        query = query.where(Award.id.in_(award_ids))
    if call_id is not None:
        query = query.where(Award.call_id == call_id)
    return {award_id: (int(requested or 0), int(community or 0))
            for award_id, requested, community in db.session.execute(query)}


# --- milestones on time ------------------------------------------------------------------------

@dataclass
class Timeliness:
    on_time: int = 0
    late: int = 0  # includes overdue
    overdue: int = 0
    not_due: int = 0

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.not_due

    @property
    def late_reported(self) -> int:
        return self.late - self.overdue

    def add(self, other: Timeliness) -> None:
        self.on_time += other.on_time
        self.late += other.late
        self.overdue += other.overdue
        self.not_due += other.not_due


def timeliness_by_award(*, award_ids: list[int] | None = None, call_id: int | None = None,
                        now: datetime | None = None) -> dict[int, Timeliness]:
    """Per award id, its milestones counted on time, late (overdue among them) and not yet due."""
    first_submitted = (select(MilestoneReport.milestone_id, func.min(MilestoneReport.submitted_at).label("first"))
                       .where(MilestoneReport.submitted_at.is_not(None))
                       .group_by(MilestoneReport.milestone_id).subquery())
    query = (select(Milestone.award_id, Milestone.due_on, Milestone.status, Award.status, Call.time_zone,
                    first_submitted.c.first)
             .join(Award, Award.id == Milestone.award_id).join(Call, Call.id == Award.call_id)
             .outerjoin(first_submitted, first_submitted.c.milestone_id == Milestone.id).where(_counted()))
    if award_ids is not None:
        query = query.where(Award.id.in_(award_ids))
    if call_id is not None:
        query = query.where(Award.call_id == call_id)
    now = now or utcnow()
    today_in: dict[str, date] = {}
    figures: dict[int, Timeliness] = defaultdict(Timeliness)
    for award_id, due_on, milestone_status, award_status, zone, first in db.session.execute(query):
        counts = figures[award_id]
        if zone not in today_in:
            today_in[zone] = in_zone(now, zone).date()
        if first is not None:
            if in_zone(_as_instant(first), zone).date() <= due_on:
                counts.on_time += 1
            else:
                counts.late += 1
        elif (award_status is AwardStatus.ACTIVE and milestone_status is not MilestoneStatus.ACCEPTED
              and due_on < today_in[zone]):
            counts.late += 1
            counts.overdue += 1
        else:
            counts.not_due += 1
    return dict(figures)


def _as_instant(value) -> datetime:
    """MIN() over a UTC column, as an aware instant (the type survives the aggregate; this
    guards drivers that hand back text or a naive value)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


# --- outcome metrics ----------------------------------------------------------------------------

def _latest_accepted_reports():
    """Per award, the accepted report of the accepted milestone with the latest due date."""
    ranked = (select(MilestoneReport.id.label("report_id"), Milestone.award_id.label("award_id"),
                     func.row_number().over(partition_by=Milestone.award_id,
                                            order_by=(Milestone.due_on.desc(), Milestone.id.desc())).label("rank"))
              .join(Milestone, Milestone.id == MilestoneReport.milestone_id)
              .where(MilestoneReport.outcome == ReportOutcome.ACCEPTED).subquery())
    return select(ranked.c.report_id, ranked.c.award_id).where(ranked.c.rank == 1).subquery()


@dataclass
class MetricTotal:
    metric: OutcomeMetric
    total: int = 0
    awards_reporting: int = 0


def metric_totals(call_ids: list[int]) -> dict[int, list[MetricTotal]]:
    """Per call id, each outcome metric of the call with the sum of its latest accepted figure
    across the call's awards, and how many awards gave one."""
    latest = _latest_accepted_reports()
    sums = (select(ReportMetricValue.metric_id, func.sum(ReportMetricValue.value).label("total"),
                   func.count(ReportMetricValue.id).label("awards"))
            .join(latest, latest.c.report_id == ReportMetricValue.report_id)
            .join(Award, Award.id == latest.c.award_id).where(_counted())
            .group_by(ReportMetricValue.metric_id).subquery())
    rows = db.session.execute(
        select(OutcomeMetric, func.coalesce(sums.c.total, 0), func.coalesce(sums.c.awards, 0))
        .outerjoin(sums, sums.c.metric_id == OutcomeMetric.id)
        .where(OutcomeMetric.call_id.in_(call_ids))
        .options(lazyload(OutcomeMetric.call))
        .order_by(OutcomeMetric.call_id, OutcomeMetric.position, OutcomeMetric.id))
    totals: dict[int, list[MetricTotal]] = defaultdict(list)
    for metric, total, awards in rows:
        totals[metric.call_id].append(MetricTotal(metric, int(total), int(awards)))
    return dict(totals)


def metric_values_by_award(call_id: int) -> dict[int, dict[int, int]]:
    """Per award id of the call, its latest accepted figure per metric id."""
    latest = _latest_accepted_reports()
    rows = db.session.execute(
        select(latest.c.award_id, ReportMetricValue.metric_id, ReportMetricValue.value)
        .join(ReportMetricValue, ReportMetricValue.report_id == latest.c.report_id)
        .join(Award, Award.id == latest.c.award_id).where(Award.call_id == call_id))
    values: dict[int, dict[int, int]] = defaultdict(dict)
    for award_id, metric_id, value in rows:
        values[award_id][metric_id] = int(value)
    return dict(values)


# --- the dashboard ----------------------------------------------------------------------------

def award_loading() -> tuple:
    """What the dashboards read of each award: its application's title, reference and lead,
    and its call; nothing the pages do not show is loaded."""
    return (
        joinedload(Award.application).options(
            joinedload(Application.lead_organisation), lazyload(Application.call), lazyload(Application.answers),
            lazyload(Application.partners), lazyload(Application.budget_lines), lazyload(Application.documents),
            lazyload(Application.collaborators)),
        joinedload(Award.call).options(
            lazyload(Call.questions), lazyload(Call.documents), lazyload(Call.criteria), lazyload(Call.metrics),
            lazyload(Call.milestones)),
    )


@dataclass
class AwardRow:
    award: Award
    funds: Funds
    timeliness: Timeliness
    metric_values: dict[int, int] = field(default_factory=dict)


@dataclass
class CallRow:
    call: Call
    funds: Funds
    timeliness: Timeliness
    award_count: int
    metrics: list[MetricTotal]


@dataclass
class Portfolio:
    awards: list[AwardRow]
    calls: list[CallRow]
    funds: Funds
    timeliness: Timeliness
    call: Call | None = None  # the one call of a call's dashboard

    @property
    def award_count(self) -> int:
        return sum(row.award_count for row in self.calls)

    @property
    def metrics(self) -> list[MetricTotal]:
        return [metric for row in self.calls for metric in row.metrics]


def build_portfolio(*, call: Call | None = None, now: datetime | None = None,
                    with_awards: bool = True) -> Portfolio:
    """Every figure of the officers' dashboard, for one call or across calls.

    ``with_awards=False`` (the dashboard across calls, which shows calls, not awards) reads
    the per-call figures from aggregate queries without loading an object per award.
    """
    call_id = call.id if call is not None else None
    timeliness = timeliness_by_award(call_id=call_id, now=now)
    if with_awards:
        # Per award only where awards are shown: across calls it was a fifth of the page's time.
        funds = funds_by_award(call_id=call_id)
        query = select(Award).where(_counted()).options(*award_loading()).order_by(Award.call_id, Award.id)
        if call_id is not None:
            query = query.where(Award.call_id == call_id)
        awards = db.session.scalars(query).unique().all()
        values = metric_values_by_award(call_id) if call_id is not None else {}
        rows = [AwardRow(award, funds.get(award.id, Funds()), timeliness.get(award.id, Timeliness()),
                         values.get(award.id, {})) for award in awards]
        award_calls = [(award.id, award.call_id) for award in awards]
        calls: dict[int, Call] = {award.call_id: award.call for award in awards}
    else:
        query = select(Award.id, Award.call_id).where(_counted())
        if call_id is not None:
            query = query.where(Award.call_id == call_id)
        rows, award_calls = [], [tuple(row) for row in db.session.execute(query)]
        call_ids = {each for _, each in award_calls}
        calls = {each.id: each for each in db.session.scalars(select(Call).where(Call.id.in_(call_ids)))}
    if call is not None:
        calls.setdefault(call.id, call)
    call_funds = funds_by_call(call_id=call_id)
    metrics = metric_totals(list(calls))
    per_call: dict[int, Timeliness] = defaultdict(Timeliness)
    counts: dict[int, int] = defaultdict(int)
    for award_id, award_call_id in award_calls:
        per_call[award_call_id].add(timeliness.get(award_id, Timeliness()))
        counts[award_call_id] += 1
    call_rows = [CallRow(each, call_funds.get(each.id, Funds()), per_call[each.id], counts[each.id],
                         metrics.get(each.id, []))
                 for each in sorted(calls.values(), key=lambda c: (c.opens_at is None, c.opens_at, c.id))]
    total_funds, total_timeliness = Funds(), Timeliness()
    for row in call_rows:
        total_funds.add(row.funds)
        total_timeliness.add(row.timeliness)
    return Portfolio(awards=rows, calls=call_rows, funds=total_funds, timeliness=total_timeliness, call=call)


@dataclass(frozen=True)
class StageFunnel:
    """A two-stage call's letters of intent → invited → full proposals → funded."""

    letters: int  # submitted (past draft)
    invited: int
    full_proposals: int  # submitted (past draft)
    funded: int

    @property
    def invited_percent(self) -> float | None:
        return _percent(self.invited, self.letters)

    @property
    def funded_percent(self) -> float | None:
        return _percent(self.funded, self.letters)

    @property
    def funded_of_invited_percent(self) -> float | None:
        return _percent(self.funded, self.invited)


def stage_funnel(call: Call) -> StageFunnel | None:
    """One aggregate query over the call's applications; None for a one-stage call."""
    from sqlalchemy import case, func

    from grants.applications.enums import ApplicationStage, ApplicationStatus
    from grants.applications.models import Application

    if not call.is_two_stage:
        return None
    loi = Application.stage == ApplicationStage.LOI
    full = Application.stage == ApplicationStage.FULL
    submitted = Application.status != ApplicationStatus.DRAFT

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(select(
        count(loi & submitted), count(loi & (Application.status == ApplicationStatus.INVITED)),
        count(full & submitted), count(full & (Application.status == ApplicationStatus.AWARDED)),
    ).where(Application.call_id == call.id)).one()
    return StageFunnel(*(int(value) for value in row))
