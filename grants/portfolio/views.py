"""The portfolio, read only: the grantee's dashboard of their awards, the officer's portfolio
dashboards (all calls, one call) and its CSV export. Registered on the awards blueprint, so
endpoints keep their ``awards.`` names. Nothing here changes an award, a report or a payment;
the CSV export records its audit event.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants.applications.intake_views import _dollars
from grants.applications.models import Application, Collaborator
from grants.audit.services import record_event
from grants.awards.blueprint import bp
from grants.awards.enums import AwardStatus, MilestoneStatus
from grants.awards.models import Award, Milestone
from grants.awards.permissions import can_decide
from grants.calls.models import Call
from grants.core.csv_export import csv_download
from grants.core.types import utcnow
from grants.core.web import load_or_404, role_required
from grants.extensions import db
from grants.portfolio import queries as figures
from grants.portfolio.charts import bar_chart, funds_chart, milestones_chart
from grants.reports import services as reporting


def _endpoints() -> set[str]:
    return set(current_app.view_functions)


# --- the grantee's dashboard ------------------------------------------------------------------

@bp.route("/my/awards")
@login_required
def grantee_dashboard():
    """The user's awards (owner or active collaborator): milestones that need them, payments."""
    collaborates = select(Collaborator.application_id).where(
        Collaborator.user_id == current_user.id, Collaborator.accepted_at.is_not(None),
        Collaborator.revoked_at.is_(None))
    awards = db.session.scalars(
        select(Award).join(Application, Application.id == Award.application_id)
        .where((Application.owner_id == current_user.id) | Application.id.in_(collaborates))
        .options(*figures.award_loading(), selectinload(Award.milestones).selectinload(Milestone.payment),
                 selectinload(Award.payments))
        .order_by(Award.offered_at.desc(), Award.id.desc())).unique().all()
    funds = figures.funds_by_award(award_ids=[award.id for award in awards])
    now = utcnow()
    rows = []
    for award in awards:
        today = reporting.local_today(award.call, now)
        milestones = [(m, reporting.is_overdue(m, today), reporting.days_until_due(m, today))
                      for m in award.milestones]
        rows.append({"award": award, "funds": funds.get(award.id, figures.Funds()), "milestones": milestones,
                     "attention": [(m, overdue, days) for m, overdue, days in milestones
                                   if award.status is AwardStatus.ACTIVE and m.status in reporting.REPORTABLE
                                   and (overdue or days <= 30 or m.status is MilestoneStatus.REVISION_REQUESTED)]})
    return render_template("portfolio/grantee_dashboard.html", rows=rows,
                           has_award_page="awards.award_detail" in _endpoints())


# --- the portfolio ------------------------------------------------------------------------------

@bp.route("/manage/portfolio")
@role_required(can_decide)
def portfolio():
    # Across calls the page shows calls, not awards: no object per award is loaded.
    data = figures.build_portfolio(with_awards=False)
    return render_template("portfolio/portfolio.html", portfolio=data, charts=_charts(data),
                           has_award_page="awards.manage_award" in _endpoints())


@bp.route("/manage/calls/<int:call_id>/portfolio")
@role_required(can_decide)
def call_portfolio(call_id: int):
    call = load_or_404(Call, call_id)
    data = figures.build_portfolio(call=call)
    return render_template("portfolio/portfolio.html", portfolio=data, charts=_charts(data),
                           funnel=figures.stage_funnel(call),
                           has_award_page="awards.manage_award" in _endpoints())


def _charts(data: figures.Portfolio) -> dict:
    per_row = ([(row.award.application.reference_number or f"Award {row.award.id}", row.funds)
                for row in data.awards] if data.call is not None
               else [(row.call.title, row.funds) for row in data.calls])
    return {
        "funds": funds_chart(data.funds),
        "milestones": milestones_chart(data.timeliness),
        "paid": bar_chart(
            [(label, [("Awarded", funds.awarded_cents), ("Paid", funds.paid_cents)]) for label, funds in per_row],
            series=("Awarded", "Paid"), money=True,
            title="Awarded and paid, by award" if data.call is not None else "Awarded and paid, by call"),
    }


CSV_HEADER = ["Call", "Reference", "Project title", "Lead organisation", "Award status", "Start", "End",
              "Awarded (cents)", "Awarded (USD)", "Released (cents)", "Paid (cents)", "Remaining (cents)",
              "Remaining (USD)", "To community partners (cents)", "To community partners (%)",
              "Milestones", "On time", "Late", "Overdue now", "Not yet due"]


@bp.route("/manage/portfolio.csv")
@role_required(can_decide)
def portfolio_csv():
    """One row per award (declined ones left out); with ?call_id= one call's awards, with a
    column per outcome metric (the award's latest accepted figure)."""
    call_id = request.args.get("call_id", type=int)
    call = load_or_404(Call, call_id) if call_id is not None else None
    data = figures.build_portfolio(call=call)
    metrics = call.metrics if call is not None else []
    header = CSV_HEADER + [f"{metric.name}" + (f" ({metric.unit})" if metric.unit else "") for metric in metrics]
    rows = []
    for row in data.awards:
        award, funds, timing = row.award, row.funds, row.timeliness
        percent = funds.community_percent
        rows.append([award.call.title, award.application.reference_number, award.application.title,
                     award.application.lead_organisation.name, award.status.label, award.start_on.isoformat(),
                     award.end_on.isoformat(), funds.awarded_cents, _dollars(funds.awarded_cents),
                     funds.released_cents, funds.paid_cents, funds.remaining_cents, _dollars(funds.remaining_cents),
                     funds.community_cents, f"{percent:.1f}" if percent is not None else "",
                     timing.total, timing.on_time, timing.late, timing.overdue, timing.not_due]
                    + [row.metric_values.get(metric.id, "") for metric in metrics])
    name = f"portfolio-call-{call.id}" if call is not None else "portfolio"
    record_event("portfolio.exported", actor=current_user._get_current_object(), target=call,
                 details={"rows": len(rows), "call_id": call.id if call is not None else None})
    db.session.commit()
    return csv_download(f"{name}-{utcnow():%Y-%m-%d}.csv", header, rows)
