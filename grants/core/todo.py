"""The funder staff's to-do list on the home page: what waits on them, across the domains.

Each kind of item is one aggregate query (a count, or rows grouped by call), and the items
that are one object each (a submitted report, a payment to release) show the oldest few
with a link straight to them: the page runs the same queries for 2 items as for 2,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from sqlalchemy import func, select

from grants.extensions import db

# Rows listed per kind of item; the heading gives the full count.
SHOWN = 5


@dataclass
class TodoLink:
    text: str
    url: str
    detail: str = ""


@dataclass
class TodoGroup:
    """One kind of work: how many items wait, and links to them (or to the list of them)."""

    key: str
    title: str
    count: int
    links: list[TodoLink] = field(default_factory=list)
    more_url: str | None = None
    more_text: str = ""


def _reports_to_review() -> TodoGroup:
    from grants.applications.models import Application
    from grants.awards.enums import MilestoneStatus
    from grants.awards.models import Award, Milestone
    from grants.core.dates import format_instant

    waiting = Milestone.status == MilestoneStatus.SUBMITTED
    count = db.session.scalar(select(func.count(Milestone.id)).where(waiting))
    rows = db.session.execute(
        select(Milestone.id, Milestone.name, Milestone.submitted_at, Application.reference_number, Application.title,
               Application.call_id)
        .join(Award, Award.id == Milestone.award_id).join(Application, Application.id == Award.application_id)
        .where(waiting).order_by(Milestone.submitted_at, Milestone.id).limit(SHOWN)).all()
    zones = _call_zones({row.call_id for row in rows})
    links = [TodoLink(f"{row.name} · {row.reference_number} {row.title}",
                      url_for("awards.review_milestone", milestone_id=row.id),
                      f"submitted {format_instant(row.submitted_at, zones[row.call_id])}" if row.submitted_at else "")
             for row in rows]
    return TodoGroup("reports", "Milestone reports to review", count, links)


def _call_zones(call_ids: set[int]) -> dict[int, str]:
    from grants.calls.models import Call

    if not call_ids:
        return {}
    return dict(db.session.execute(select(Call.id, Call.time_zone).where(Call.id.in_(call_ids))).all())


def _payments_to_release() -> TodoGroup:
    from grants.applications.models import Application
    from grants.awards.enums import MilestoneStatus, PaymentStatus
    from grants.awards.models import Award, Milestone, Payment
    from grants.core.money import format_money

    ready = (Payment.status == PaymentStatus.SCHEDULED) & (Milestone.status == MilestoneStatus.ACCEPTED)
    count = db.session.scalar(select(func.count(Payment.id)).join(Milestone, Milestone.id == Payment.milestone_id)
                              .where(ready))
    rows = db.session.execute(
        select(Payment.award_id, Payment.amount_cents, Milestone.name, Application.reference_number)
        .join(Milestone, Milestone.id == Payment.milestone_id).join(Award, Award.id == Payment.award_id)
        .join(Application, Application.id == Award.application_id)
        .where(ready).order_by(Milestone.accepted_at, Payment.id).limit(SHOWN)).all()
    links = [TodoLink(f"{format_money(row.amount_cents)} for {row.name} · {row.reference_number}",
                      url_for("awards.manage_award", award_id=row.award_id) + "#milestones", "report accepted")
             for row in rows]
    return TodoGroup("payments", "Payments ready to release", count, links)


def _per_call(key: str, title: str, counted, endpoint: str, text: str, **url_args) -> TodoGroup:
    """A group with one link per call: ``counted`` is (call id column, count column, where)."""
    from grants.calls.models import Call

    call_id, how_many, where, joins = counted
    query = select(Call.id, Call.title, how_many).select_from(joins).join(Call, Call.id == call_id).where(where) \
        .group_by(Call.id, Call.title).order_by(Call.title, Call.id)
    rows = db.session.execute(query).all()
    links = [TodoLink(f"{row.title}", url_for(endpoint, call_id=row.id, **url_args), text.format(n=row[2],
                      s="" if row[2] == 1 else "s")) for row in rows]
    return TodoGroup(key, title, sum(row[2] for row in rows), links)


def _applications_to_screen() -> TodoGroup:
    from grants.applications.enums import ApplicationStatus
    from grants.applications.models import Application

    return _per_call("screening", "Submitted applications to screen",
                     (Application.call_id, func.count(Application.id),
                      Application.status == ApplicationStatus.SUBMITTED, Application),
                     "applications.intake", "{n} application{s} submitted, not screened", status="submitted")


def _decisions_to_release() -> TodoGroup:
    from grants.awards.models import Decision

    return _per_call("decisions", "Decisions not released yet",
                     (Decision.call_id, func.count(Decision.id), Decision.released_at.is_(None), Decision),
                     "awards.decisions", "{n} decision{s} recorded, not released")


def _registrations_to_approve() -> TodoGroup:
    from grants.accounts.enums import OrganisationStatus, UserStatus
    from grants.accounts.models import Organisation, User

    people = db.session.scalar(select(func.count(User.id)).where(User.status == UserStatus.PENDING))
    organisations = db.session.scalar(select(func.count(Organisation.id))
                                      .where(Organisation.status == OrganisationStatus.PROPOSED))
    links = []
    if people or organisations:
        detail = ", ".join(part for part in (
            f"{people} {'person' if people == 1 else 'people'}" if people else "",
            f"{organisations} proposed organisation{'' if organisations == 1 else 's'}" if organisations else "")
            if part)
        links.append(TodoLink("Registrations waiting for approval", url_for("accounts.pending_registrations"), detail))
    return TodoGroup("registrations", "Registrations to approve", people + organisations, links)


def staff_todo(user) -> list[TodoGroup]:
    """What waits on ``user`` (funder staff): every group, empty ones included, in the order
    of the work. Registrations only for those who approve them (admins)."""
    from grants.accounts.permissions import can_manage_users, is_staff

    if not is_staff(user):
        return []
    groups = [_reports_to_review(), _payments_to_release(), _applications_to_screen(), _decisions_to_release()]
    if can_manage_users(user):
        groups.append(_registrations_to_approve())
    return groups
