"""Program officers' intake: the applications received for a call (counts, filters, search),
their CSV exports, one application's full record, and screening.

Drafts are private to their applicants: these pages count them, never show them.
"""

from __future__ import annotations

from datetime import timezone

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from grants.accounts.enums import OrganisationKind
from grants.accounts.models import Organisation, User
from grants.applications import permissions, services
from grants.applications.blueprint import bp
from grants.applications.enums import ApplicationStatus
from grants.applications.forms import ScreeningForm
from grants.applications.history import HistoryEntry, describe_history
from grants.applications.models import Answer, Application, BudgetLine, Partner, count_words
from grants.audit.models import AuditEvent
from grants.audit.services import record_event
from grants.calls.enums import DocumentScope
from grants.calls.models import Call
from grants.core.csv_export import csv_download, filename_slug
from grants.core.errors import DomainError
from grants.core.pagination import count_rows, paginate
from grants.core.timezones import in_zone
from grants.core.types import utcnow
from grants.core.web import enum_arg, keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db

# The statuses an officer works with, in the order an application moves through them.
RECEIVED_STATUSES = [ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW, ApplicationStatus.SCREENED_OUT,
                     ApplicationStatus.WITHDRAWN, ApplicationStatus.AWARDED, ApplicationStatus.DECLINED]

SORTS = {
    "submitted": "Submitted, earliest first",
    "-submitted": "Submitted, latest first",
    "-requested": "Requested amount, highest first",
    "requested": "Requested amount, lowest first",
}

# Applications read per round trip while a CSV streams.
CSV_BATCH = 500


def _me():
    return current_user._get_current_object()


# --- the list of applications to a call ---------------------------------------------------

def _requested_total():
    return (select(func.coalesce(func.sum(BudgetLine.amount_cents), 0))
            .where(BudgetLine.application_id == Application.id).scalar_subquery())


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters() -> dict:
    status = enum_arg("status", ApplicationStatus)
    sort = request.args.get("sort", "")
    return {
        # Drafts are never listed, so asking for them is the same as not filtering.
        "status": None if status is ApplicationStatus.DRAFT else status,
        "lead_kind": enum_arg("lead_kind", OrganisationKind),
        "partner": request.args.get("partner", type=int),
        "q": request.args.get("q", "").strip(),
        "sort": sort if sort in SORTS else "submitted",
    }


def _received(call: Call, filters: dict):
    """The query for the call's applications past draft that match ``filters``, sorted."""
    query = select(Application).where(Application.call_id == call.id, Application.status != ApplicationStatus.DRAFT)
    if filters["status"]:
        query = query.where(Application.status == filters["status"])
    if filters["lead_kind"]:
        query = query.where(Application.lead_organisation_id.in_(
            select(Organisation.id).where(Organisation.kind == filters["lead_kind"])))
    if filters["partner"]:
        query = query.where(Application.id.in_(
            select(Partner.application_id).where(Partner.organisation_id == filters["partner"])))
    if filters["q"]:
        pattern = _like(filters["q"])
        named = select(Organisation.id).where(func.lower(Organisation.name).like(pattern, escape="\\"))
        query = query.where(or_(
            func.lower(Application.title).like(pattern, escape="\\"),
            func.lower(Application.reference_number).like(pattern, escape="\\"),
            Application.lead_organisation_id.in_(named),
            Application.id.in_(select(Partner.application_id).where(Partner.organisation_id.in_(named))),
        ))
    order = {"submitted": [Application.submitted_at.asc()], "-submitted": [Application.submitted_at.desc()],
             "requested": [_requested_total().asc()], "-requested": [_requested_total().desc()]}[filters["sort"]]
    return query.order_by(*order, Application.id)


def _status_counts(call: Call) -> dict[ApplicationStatus, int]:
    counts = dict(db.session.execute(select(Application.status, func.count(Application.id))
                                     .where(Application.call_id == call.id).group_by(Application.status)).all())
    return {status: counts.get(status, 0) for status in ApplicationStatus}


def _partner_choices(call: Call) -> list[Organisation]:
    """The organisations that are partners on at least one received application."""
    return db.session.scalars(
        select(Organisation).where(Organisation.id.in_(
            select(Partner.organisation_id).join(Application)
            .where(Application.call_id == call.id, Application.status != ApplicationStatus.DRAFT)))
        .order_by(Organisation.name)).all()


# The parts the list reads are loaded with the page's applications, a fixed number of queries
# for any number of rows; the parts it does not read are not loaded at all. (The CSVs read
# plain values in batches instead: see _in_batches.)
LIST_LOADING = (
    lazyload(Application.call),  # the call is already in the session
    joinedload(Application.lead_organisation),
    selectinload(Application.partners).joinedload(Partner.organisation),
    selectinload(Application.budget_lines),
    lazyload(Application.answers), lazyload(Application.documents), lazyload(Application.collaborators),
)


def _call_for_intake(call_id: int) -> Call:
    # Only staff get this far (role_required); they may see every call.
    return load_or_404(Call, call_id)


@bp.route("/manage/calls/<int:call_id>/applications")
@role_required(permissions.can_view_intake)
def intake(call_id: int):
    call = _call_for_intake(call_id)
    filters = _filters()
    applications = paginate(_received(call, filters).options(*LIST_LOADING))
    counts = _status_counts(call)
    # The downloads carry the same filters as the page, so they hold what the officer sees.
    export_args = {key: value for key, value in request.args.items()
                   if key in ("status", "lead_kind", "partner", "q", "sort") and value}
    return render_template(
        "intake/list.html", call=call, applications=applications, filters=filters, counts=counts,
        received_total=sum(counts[status] for status in RECEIVED_STATUSES), drafts=counts[ApplicationStatus.DRAFT],
        statuses=RECEIVED_STATUSES, kinds=list(OrganisationKind), partner_choices=_partner_choices(call), sorts=SORTS,
        is_filtered=any(filters[key] for key in ("status", "lead_kind", "partner", "q")), export_args=export_args)


# --- CSV exports ----------------------------------------------------------------------------

def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"  # exact: no float on the way


def _utc_iso(instant) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if instant else ""


def _local_iso(instant, zone: str) -> str:
    return in_zone(instant, zone).isoformat(timespec="seconds") if instant else ""


def _csv_response(call: Call, kind: str, header: list[str], rows, filters: dict, row_count: int) -> Response:
    filename = f"{filename_slug(call.title)}-{call.id}-{kind}-{utcnow():%Y-%m-%d}.csv"
    # Exports carry applicants' personal data: who took one is on the record, before a byte
    # is sent.
    record_event("call.applications_exported", actor=_me(), target=call,
                 details={"file": kind, "rows": row_count,
                          "filters": {key: (value.value if hasattr(value, "value") else value)
                                      for key, value in filters.items() if value and key != "sort"}})
    db.session.commit()
    return csv_download(filename, header, rows)


def _in_batches(query):
    """The ids of the query's applications in its order, a batch at a time: each batch of
    rows is built from a few grouped queries of plain values, not thousands of objects."""
    ids = db.session.scalars(query.with_only_columns(Application.id)).all()
    for start in range(0, len(ids), CSV_BATCH):
        yield ids[start:start + CSV_BATCH]


def _money_of(ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per application id: requested and the part that flows to community partners."""
    community = case((Organisation.kind != OrganisationKind.MEMBER_INSTITUTION, BudgetLine.amount_cents), else_=0)
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in db.session.execute(
        select(BudgetLine.application_id, func.sum(BudgetLine.amount_cents), func.sum(community))
        .outerjoin(Partner, Partner.id == BudgetLine.partner_id)
        .outerjoin(Organisation, Organisation.id == Partner.organisation_id)
        .where(BudgetLine.application_id.in_(ids)).group_by(BudgetLine.application_id))}


@bp.route("/manage/calls/<int:call_id>/applications.csv")
@role_required(permissions.can_view_intake)
def intake_csv(call_id: int):
    """One row per received application, with the figures and the length of each answer."""
    call = _call_for_intake(call_id)
    filters = _filters()
    query = _received(call, filters)
    # Plain values: the rows are read after the commit below, when the call's objects are gone.
    questions = list(call.questions)
    question_ids = [question.id for question in questions]
    zone = call.time_zone
    header = ["Reference", "Title", "Stage", "Status", "Lead organisation", "Lead organisation kind", "Owner", "Owner e-mail",
              "Requested (cents)", "Requested (USD)", "Community share (cents)", "Community share (%)", "Partners",
              "Submitted at (UTC)", f"Submitted at ({zone})", "Screening reason"]
    header += [f"Q{number} words: {question.prompt[:80]}" for number, question in enumerate(questions, 1)]

    def rows():
        for ids in _in_batches(query):
            details = {row.id: row for row in db.session.execute(
                select(Application.id, Application.reference_number, Application.title, Application.stage,
                       Application.status,
                       Application.submitted_at, Application.screening_reason, Organisation.name, Organisation.kind,
                       User.full_name, User.email)
                .join(Organisation, Organisation.id == Application.lead_organisation_id)
                .join(User, User.id == Application.owner_id).where(Application.id.in_(ids)))}
            money = _money_of(ids)
            partners = dict(db.session.execute(select(Partner.application_id, func.count())
                                               .where(Partner.application_id.in_(ids))
                                               .group_by(Partner.application_id)).all())
            words = {(a, q): count_words(text) for a, q, text in db.session.execute(
                select(Answer.application_id, Answer.question_id, Answer.text).where(Answer.application_id.in_(ids)))}
            for application_id in ids:
                a = details[application_id]
                requested, community = money.get(application_id, (0, 0))
                yield ([a.reference_number, a.title, a.stage.label, a.status.label, a.name, a.kind.label, a.full_name, a.email,
                        requested, _dollars(requested), community,
                        f"{100.0 * community / requested if requested else 0.0:.1f}",
                        partners.get(application_id, 0), _utc_iso(a.submitted_at),
                        _local_iso(a.submitted_at, zone), a.screening_reason]
                       + [words.get((application_id, q), 0) for q in question_ids])

    return _csv_response(call, "applications", header, rows(), filters, count_rows(query))


@bp.route("/manage/calls/<int:call_id>/partners.csv")
@role_required(permissions.can_view_intake)
def intake_partners_csv(call_id: int):
    """One row per partner of each received application: who they are and their share."""
    call = _call_for_intake(call_id)
    filters = _filters()
    query = _received(call, filters)
    header = ["Reference", "Application title", "Application status", "Partner organisation", "Partner kind",
              "Community partner", "Contact", "Contact e-mail", "Role in the project", "Budget share (cents)",
              "Budget share (USD)", "Share of the application's budget (%)", "Signed off at (UTC)"]

    def rows():
        for ids in _in_batches(query):
            money = _money_of(ids)
            shares = {row[0]: int(row[1] or 0) for row in db.session.execute(
                select(BudgetLine.partner_id, func.sum(BudgetLine.amount_cents))
                .where(BudgetLine.application_id.in_(ids), BudgetLine.partner_id.is_not(None))
                .group_by(BudgetLine.partner_id))}
            by_application: dict[int, list] = {}
            for row in db.session.execute(
                    select(Partner.id, Partner.application_id, Partner.contact_name, Partner.contact_email,
                           Partner.role_in_project, Partner.signed_off_at, Organisation.name, Organisation.kind,
                           Application.reference_number, Application.title, Application.status)
                    .join(Organisation, Organisation.id == Partner.organisation_id)
                    .join(Application, Application.id == Partner.application_id)
                    .where(Partner.application_id.in_(ids)).order_by(Partner.id)):
                by_application.setdefault(row.application_id, []).append(row)
            for application_id in ids:
                requested = money.get(application_id, (0, 0))[0]
                for p in by_application.get(application_id, []):
                    share = shares.get(p.id, 0)
                    yield [p.reference_number, p.title, p.status.label, p.name, p.kind.label,
                           "yes" if p.kind.is_community_partner else "no", p.contact_name, p.contact_email,
                           p.role_in_project, share, _dollars(share),
                           f"{100 * share / requested:.1f}" if requested else "0.0", _utc_iso(p.signed_off_at)]

    partners = count_rows(select(Partner.id).where(Partner.application_id.in_(
        query.with_only_columns(Application.id).order_by(None))), scalars=False)
    return _csv_response(call, "partners", header, rows(), filters, partners)


# --- one application, and screening -------------------------------------------------------

def _application_for_staff(application_id: int) -> Application:
    """The application; 404 while it is a draft (drafts are private to the applicants)."""
    application = load_or_404(Application, application_id)
    require(permissions.can_view_application(current_user, application), target=application, hide=True)
    return application


def _history(application: Application) -> list[HistoryEntry]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "Application",
                                 AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)).all()
    return describe_history(application, events)


def _document_slots(application: Application) -> list[dict]:
    """Each document the call asks for (per partner where it says so), current file first."""
    slots = []
    for document in application.call.documents:
        partners = application.partners if document.scope is DocumentScope.PER_PARTNER else [None]
        for partner in partners:
            versions = application.document_versions(document.id, partner.id if partner else None)
            slots.append({"document": document, "partner": partner, "versions": versions})
    return slots


def _render_application(application: Application, form: ScreeningForm, status: int = 200):
    call = application.call
    # The content is frozen at submission, so the checklist reads the same as it did then.
    checklist = services.checklist(application, now=application.submitted_at)
    return render_template(
        "intake/application.html", application=application, call=call, form=form, checklist=checklist,
        budget_by_category=services.budget_by_category(application),
        lead_share_cents=sum(line.amount_cents for line in application.budget_lines if line.partner_id is None),
        document_slots=_document_slots(application),
        history=_history(application), can_screen=permissions.can_screen_application(current_user, application),
    ), status


@bp.route("/manage/applications/<int:application_id>")
@role_required(permissions.can_view_intake)
def intake_application(application_id: int):
    application = _application_for_staff(application_id)
    return _render_application(application, ScreeningForm())


@bp.route("/manage/applications/<int:application_id>/screen", methods=["POST"])
@role_required(permissions.can_view_intake)
@keeps_input_on_csrf_error
def screen(application_id: int):
    application = _application_for_staff(application_id)
    form = ScreeningForm()
    if not form.validate_on_submit():
        return _render_application(application, form, 400)
    if not permissions.can_screen_application(current_user, application):
        form.form_errors.append(f"This application is {application.status.label.lower()}; only a submitted "
                                "application is screened, and only once. Nothing was changed.")
        return _render_application(application, form, 409)
    eligible = form.decision.data == "eligible"
    try:
        services.screen_application(application, officer=_me(), eligible=eligible, reason=form.reason.data or "")
        db.session.commit()
    except StaleDataError:
        # Another officer screened it between our check and our write.
        db.session.rollback()
        form.form_errors.append("Someone else screened this application a moment ago, so your decision was not "
                                "saved. Reload the page to see theirs.")
        return _render_application(_application_for_staff(application_id), form, 409)
    except DomainError as exc:
        db.session.rollback()
        if not eligible and not (form.reason.data or "").strip():
            form.reason.errors = [exc.message]  # shown at the field, with the summary above the form
        else:
            form.form_errors.append(exc.message)
        return _render_application(application, form, exc.status_code)
    if eligible:
        flash(f"{application.reference_number} is eligible and now in review.", "success")
    else:
        flash(f"{application.reference_number} is screened out. The applicants were e-mailed the reason.", "success")
    return redirect(url_for("applications.intake_application", application_id=application.id))


# --- the officers' call pages link here ---------------------------------------------------

@bp.app_template_global()
def received_applications_by_call() -> dict[int, int]:
    """Per call id, how many applications were submitted (drafts are not counted)."""
    return dict(db.session.execute(
        select(Application.call_id, func.count(Application.id))
        .where(Application.status != ApplicationStatus.DRAFT).group_by(Application.call_id)).all())
