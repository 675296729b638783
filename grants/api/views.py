"""/api/v1/: read-only JSON for funders' tools, behind personal tokens.

Every endpoint: the bearer token is checked (401), then its scope (403), then the same
permission predicates as the pages (an object the user may not see: 404, as on the pages).
Lists are paginated (?page=, ?per_page= up to 200) and filtered by call and state. Every use
is audited; requests are rate limited per token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, url_for
from sqlalchemy import Select, func, or_, select

from grants.accounts.permissions import is_staff
from grants.api import schemas, services
from grants.applications.enums import ApplicationStatus
from grants.applications.models import Application, Collaborator
from grants.applications.permissions import can_view_application
from grants.audit.services import record_event, record_security_event
from grants.portfolio import queries as figures
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentStatus
from grants.awards.models import Award, Milestone, Payment, ReportMetricValue
from grants.calls.enums import CallStatus
from grants.calls.models import Call, OutcomeMetric
from grants.calls.permissions import can_view_call
from grants.core.types import utcnow
from grants.extensions import csrf, db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# GET only, with a bearer token and no cookie: nothing for CSRF to protect.
csrf.exempt(bp)
MAX_PER_PAGE = 200


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify(schemas.Error(error=exc.message).model_dump()), exc.status


def _token_key() -> str:
    # Counted per token (its hash), so one noisy tool does not throttle everyone behind a proxy.
    header = request.headers.get("Authorization", "")
    return "api:" + services._hash(header) if header else "api-anonymous:" + (request.remote_addr or "")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key,
              error_message="Too many requests: slow down (see the Retry-After header).")(bp)


# --- the endpoint table: routes, schemas and scopes, read by openapi.py ---------------------------

@dataclass(frozen=True)
class Endpoint:
    path: str  # OpenAPI form: /calls/{call_id}
    summary: str
    schema: type
    scope: str | None  # None: no token needed
    is_list: bool = False
    filters: dict[str, str] = field(default_factory=dict)  # query parameter → description


ENDPOINTS: list[Endpoint] = []


def endpoint(rule: str, *, summary: str, schema: type, scope: str, is_list: bool = False,
             filters: dict[str, str] | None = None):
    """Register a GET endpoint: token and scope checked, the use audited, JSON out."""
    openapi_path = rule.replace("<int:", "{").replace(">", "}")
    ENDPOINTS.append(Endpoint(openapi_path, summary, schema, scope, is_list, filters or {}))

    def decorator(view: Callable):
        @wraps(view)
        def wrapped(**kwargs):
            header = request.headers.get("Authorization", "")
            secret = header[7:].strip() if header.lower().startswith("bearer ") else None
            token, why = services.authenticate(secret)
            if token is None:
                record_security_event("api.refused", details={"path": request.path, "reason": why})
                raise ApiError(401, why)
            if scope not in token.scopes:
                raise ApiError(403, f"This token may not read {services.SCOPES[scope].lower()}; "
                                    f"make one with the “{scope}” scope.")
            g.api_user, g.api_token = token.user, token
            status = 200
            try:
                return jsonify(view(**kwargs))
            except ApiError as exc:
                status = exc.status
                raise
            finally:
                _audit(token, status)

        bp.add_url_rule(rule, view.__name__, wrapped, methods=["GET"])
        return wrapped

    return decorator


def _audit(token, status: int) -> None:
    db.session.rollback()  # the view only read; nothing of it is kept
    token.last_used_at = utcnow()
    record_event("api.request", actor=token.user, target=token,
                 details={"path": request.path, "query": request.query_string.decode(errors="replace")[:500],
                          "status": status})
    db.session.commit()


def _user():
    return g.api_user


def _int_arg(name: str, *, default: int | None = None, low: int = 1, high: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < low or (high is not None and int(raw) > high):
        bound = f" and {high}" if high is not None else " or more"
        raise ApiError(400, f"?{name}= takes a whole number between {low}{bound}.")
    return int(raw)


def _enum_arg(name: str, enum_cls):
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        raise ApiError(400, f"?{name}= is one of: {', '.join(member.value for member in enum_cls)}.") from None


def _filtered(query: Select, *, ids: dict | None = None, status=None) -> Select:
    """``query`` narrowed by the id filters asked for (?call_id=, ?award_id=: name → column) and
    by ?status= (``status``: (column, its enum))."""
    for name, column in (ids or {}).items():
        value = _int_arg(name)
        if value is not None:
            query = query.where(column == value)
    if status is not None:
        column, enum_cls = status
        value = _enum_arg("status", enum_cls)
        if value is not None:
            query = query.where(column == value)
    return query


def _page(query: Select, serialise: Callable, *, scalars: bool = True) -> dict:
    """One page of ``query``: the rows serialised, the total, the next page's URL."""
    number = _int_arg("page", default=1)
    size = _int_arg("per_page", default=50, high=MAX_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    result = db.session.execute(query.limit(size).offset((number - 1) * size))
    rows = list(result.unique().scalars() if scalars else result.all())
    return _envelope([serialise(row) for row in rows], number, size, total)


def _page_of_list(rows: list, serialise: Callable) -> dict:
    number = _int_arg("page", default=1)
    size = _int_arg("per_page", default=50, high=MAX_PER_PAGE)
    return _envelope([serialise(row) for row in rows[(number - 1) * size:number * size]], number, size, len(rows))


def _envelope(data: list, number: int, size: int, total: int) -> dict:
    has_next = number * size < total
    next_url = url_for(request.endpoint, **{**request.view_args, **request.args.to_dict(), "page": number + 1,
                                            "per_page": size}, _external=True) if has_next else None
    return {"data": data, "page": number, "per_page": size, "total": total, "next": next_url}


def _not_found(what: str) -> ApiError:
    return ApiError(404, f"No {what} with that id that you may see.")


# --- calls ----------------------------------------------------------------------------------------

def _call(call: Call) -> dict:
    phase = call.phase()
    return schemas.Call(
        id=call.id, title=call.title, status=call.status.value, phase=phase.value if phase else None,
        opens_at=call.opens_at, closes_at=call.closes_at, time_zone=call.time_zone,
        award_floor_cents=call.award_floor_cents, award_ceiling_cents=call.award_ceiling_cents,
        total_funds_cents=call.total_funds_cents, expected_awards=call.expected_awards,
        min_partners=call.min_partners or 0, min_community_share_percent=call.min_community_share_percent or 0,
        url=url_for("calls.call_detail", call_id=call.id, _external=True)).model_dump(mode="json")


@endpoint("/calls", summary="Calls for proposals (published ones; staff see every call)", schema=schemas.Call,
          scope="calls", is_list=True, filters={"status": "draft, published or archived"})
def calls():
    query = select(Call).order_by(Call.id)
    if not is_staff(_user()):
        query = query.where(Call.status == CallStatus.PUBLISHED)
    return _page(_filtered(query, status=(Call.status, CallStatus)), _call)


@endpoint("/calls/<int:call_id>", summary="One call", schema=schemas.Call, scope="calls")
def call(call_id: int):
    found = db.session.get(Call, call_id)
    if found is None or not can_view_call(_user(), found):
        raise _not_found("call")
    return _call(found)


# --- applications -----------------------------------------------------------------------------------

def _visible_applications(user) -> Select:
    """The applications ``user`` may see (can_view_application as a query)."""
    query = select(Application).order_by(Application.id)
    if is_staff(user):
        return query.where(Application.status != ApplicationStatus.DRAFT)
    collaborates = select(Collaborator.application_id).where(
        Collaborator.user_id == user.id, Collaborator.accepted_at.is_not(None), Collaborator.revoked_at.is_(None))
    return query.where(or_(Application.owner_id == user.id, Application.id.in_(collaborates)))


def _application(application: Application) -> dict:
    return schemas.Application(
        id=application.id, call_id=application.call_id, reference_number=application.reference_number,
        title=application.title, status=application.status.value,
        lead_organisation=application.lead_organisation.name,
        partners=[schemas.Partner(organisation=p.organisation.name, kind=p.organisation.kind.value,
                                  share_cents=application.partner_share_cents(p)) for p in application.partners],
        requested_cents=application.requested_cents,
        community_share_percent=round(application.community_share_percent, 2),
        submitted_at=application.submitted_at).model_dump(mode="json")


@endpoint("/applications", summary="Applications you may see (staff: every submitted one)",
          schema=schemas.Application, scope="applications", is_list=True,
          filters={"call_id": "only this call's", "status": "draft, submitted, screened_out, in_review, …"})
def applications():
    query = _filtered(_visible_applications(_user()), ids={"call_id": Application.call_id},
                      status=(Application.status, ApplicationStatus))
    return _page(query, _application)


@endpoint("/applications/<int:application_id>", summary="One application", schema=schemas.Application,
          scope="applications")
def application(application_id: int):
    found = db.session.get(Application, application_id)
    if found is None or not can_view_application(_user(), found):
        raise _not_found("application")
    return _application(found)


# --- review figures -----------------------------------------------------------------------------------

@endpoint("/calls/<int:call_id>/review-figures", summary="The call's ranking figures (funder staff)",
          schema=schemas.ReviewFigures, scope="reviews", is_list=True)
def review_figures(call_id: int):
    from grants.reviews import scoring

    found = db.session.get(Call, call_id)
    if found is None or not is_staff(_user()):
        raise _not_found("call")
    ranking = scoring.rank_call(found, with_applications=False)
    references = dict(db.session.execute(select(Application.id, Application.reference_number)
                                         .where(Application.call_id == found.id)).all())

    def serialise(row) -> dict:
        f = row.figures
        return schemas.ReviewFigures(
            application_id=row.application_id, reference_number=references.get(row.application_id),
            rank=row.rank, reviews=f.count, mean=f.mean, median=f.median, spread=f.spread, mean_z=f.mean_z,
            confidence_weighted_mean=f.confidence_weighted_mean, percentile=row.percentile,
            requested_cents=row.requested_cents, cumulative_cents=row.cumulative_cents,
            is_above_funding_line=row.is_above_line).model_dump(mode="json")

    return _page_of_list(ranking.rows, serialise)


# --- awards, milestones, payments, outcomes ---------------------------------------------------------------

def _visible_awards(user) -> Select:
    query = select(Award).order_by(Award.id)
    if is_staff(user):
        return query
    visible = _visible_applications(user).with_only_columns(Application.id).order_by(None)
    return query.where(Award.application_id.in_(visible))


def _visible_award(award_id: int) -> Award:
    found = db.session.scalar(_visible_awards(_user()).where(Award.id == award_id))
    if found is None:
        raise _not_found("award")
    return found


def _award(award: Award, funds: figures.Funds) -> dict:
    application = award.application
    return schemas.Award(
        id=award.id, application_id=award.application_id, call_id=award.call_id,
        reference_number=application.reference_number, title=application.title,
        lead_organisation=application.lead_organisation.name, status=award.status.value,
        amount_cents=award.amount_cents, start_on=award.start_on, end_on=award.end_on,
        released_cents=funds.released_cents, paid_cents=funds.paid_cents,
        remaining_cents=award.amount_cents - funds.paid_cents).model_dump(mode="json")


@endpoint("/awards", summary="Awards you may see (staff: every award)", schema=schemas.Award, scope="awards",
          is_list=True, filters={"call_id": "only this call's", "status": "offered, active, completed, …"})
def awards():
    query = _filtered(_visible_awards(_user()), ids={"call_id": Award.call_id}, status=(Award.status, AwardStatus))
    page = _page(query, lambda award: award)
    funds = figures.funds_by_award(award_ids=[award.id for award in page["data"]])
    page["data"] = [_award(award, funds.get(award.id, figures.Funds())) for award in page["data"]]
    return page


@endpoint("/awards/<int:award_id>", summary="One award", schema=schemas.Award, scope="awards")
def award(award_id: int):
    found = _visible_award(award_id)
    return _award(found, figures.funds_by_award(award_ids=[found.id]).get(found.id, figures.Funds()))


def _milestone(milestone: Milestone) -> dict:
    return schemas.Milestone(
        id=milestone.id, award_id=milestone.award_id, name=milestone.name, due_on=milestone.due_on,
        status=milestone.status.value, is_final=milestone.is_final, submitted_at=milestone.submitted_at,
        accepted_at=milestone.accepted_at).model_dump(mode="json")


def _visible_award_ids() -> Select:
    return _visible_awards(_user()).with_only_columns(Award.id).order_by(None)


@endpoint("/milestones", summary="Milestones of the awards you may see", schema=schemas.Milestone,
          scope="awards", is_list=True,
          filters={"award_id": "only this award's", "status": "upcoming, submitted, accepted, revision_requested"})
def milestones():
    query = select(Milestone).where(Milestone.award_id.in_(_visible_award_ids())).order_by(Milestone.id)
    query = _filtered(query, ids={"award_id": Milestone.award_id}, status=(Milestone.status, MilestoneStatus))
    return _page(query, _milestone)


def _payment(payment: Payment) -> dict:
    return schemas.Payment(
        id=payment.id, award_id=payment.award_id, milestone_id=payment.milestone_id,
        amount_cents=payment.amount_cents, status=payment.status.value, released_at=payment.released_at,
        paid_on=payment.paid_on, payment_method=payment.payment_method.value if payment.payment_method else None,
        payment_reference=payment.payment_reference,
        hold=payment.hold.value if payment.hold else None).model_dump(mode="json")


@endpoint("/payments", summary="Payments of the awards you may see", schema=schemas.Payment, scope="awards",
          is_list=True, filters={"award_id": "only this award's", "status": "scheduled, released, paid"})
def payments():
    query = select(Payment).where(Payment.award_id.in_(_visible_award_ids())).order_by(Payment.id)
    query = _filtered(query, ids={"award_id": Payment.award_id}, status=(Payment.status, PaymentStatus))
    return _page(query, _payment)


@endpoint("/outcomes", summary="Each award's reported outcome figures (its latest accepted report)",
          schema=schemas.Outcome, scope="awards", is_list=True,
          filters={"call_id": "only this call's awards", "award_id": "only this award"})
def outcomes():
    latest = figures._latest_accepted_reports()
    query = (select(latest.c.award_id, Award.call_id, OutcomeMetric.id, OutcomeMetric.name, OutcomeMetric.unit,
                    ReportMetricValue.value)
             .join(ReportMetricValue, ReportMetricValue.report_id == latest.c.report_id)
             .join(OutcomeMetric, OutcomeMetric.id == ReportMetricValue.metric_id)
             .join(Award, Award.id == latest.c.award_id)
             .where(Award.id.in_(_visible_award_ids()))
             .order_by(latest.c.award_id, OutcomeMetric.position, OutcomeMetric.id))
    query = _filtered(query, ids={"call_id": Award.call_id, "award_id": Award.id})
    return _page(query, lambda row: schemas.Outcome(
        award_id=row[0], call_id=row[1], metric_id=row[2], metric=row[3], unit=row[4] or "",
        value=int(row[5])).model_dump(mode="json"), scalars=False)


# --- the portfolio ----------------------------------------------------------------------------------------

@endpoint("/portfolio", summary="Portfolio figures across calls, or one call's (funder staff)",
          schema=schemas.Portfolio, scope="portfolio", filters={"call_id": "one call's figures"})
def portfolio():
    if not is_staff(_user()):
        raise _not_found("portfolio")
    call_id = _int_arg("call_id")
    call = db.session.get(Call, call_id) if call_id is not None else None
    if call_id is not None and call is None:
        raise _not_found("call")
    data = figures.build_portfolio(call=call, with_awards=False)
    funds, timeliness = data.funds, data.timeliness
    return schemas.Portfolio(
        call_id=call.id if call else None, awards=data.award_count, awarded_cents=funds.awarded_cents,
        released_cents=funds.released_cents, paid_cents=funds.paid_cents, remaining_cents=funds.remaining_cents,
        community_cents=funds.community_cents,
        milestones=schemas.Milestones(on_time=timeliness.on_time, late=timeliness.late,
                                      overdue=timeliness.overdue, not_due=timeliness.not_due),
        metrics=[schemas.MetricTotal(call_id=row.call.id, metric_id=m.metric.id, metric=m.metric.name,
                                     unit=m.metric.unit or "", total=m.total, awards_reporting=m.awards_reporting)
                 for row in data.calls for m in row.metrics]).model_dump(mode="json")


@bp.route("/openapi.json")
@limiter.exempt
def openapi():
    """The OpenAPI 3.1 document of this API (no token needed)."""
    from grants.api.openapi import document

    return jsonify(document())
