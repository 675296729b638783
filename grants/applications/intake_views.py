"""Program officers' intake: the applications received for a call (counts, filters, search),
their CSV exports, one application's full record, and screening.

Drafts are private to their applicants: these pages count them, never show them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timezone

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from grants.accounts.enums import OrganisationKind
from grants.accounts.models import Organisation
from grants.applications import permissions, services
from grants.applications.blueprint import bp
from grants.applications.enums import ApplicationStatus
from grants.applications.forms import ScreeningForm
from grants.applications.models import Application, BudgetLine, Partner
from grants.audit.models import AuditEvent
from grants.audit.services import record_event
from grants.calls.enums import DocumentScope
from grants.calls.models import Call
from grants.core.errors import DomainError
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

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


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


# The parts each page reads are loaded with the applications, a fixed number of queries for
# any number of rows; the parts a page does not read are not loaded at all.
LIST_LOADING = (
    lazyload(Application.call),  # the call is already in the session
    joinedload(Application.lead_organisation),
    selectinload(Application.partners).joinedload(Partner.organisation),
    selectinload(Application.budget_lines),
    lazyload(Application.answers), lazyload(Application.documents), lazyload(Application.collaborators),
)
CSV_LOADING = (
    lazyload(Application.call),
    joinedload(Application.lead_organisation),
    joinedload(Application.owner),
    selectinload(Application.partners).joinedload(Partner.organisation),
    selectinload(Application.budget_lines),
    selectinload(Application.answers),
    lazyload(Application.documents), lazyload(Application.collaborators),
)


def _call_for_intake(call_id: int) -> Call:
    # Only staff get this far (role_required); they may see every call.
    return load_or_404(Call, call_id)


@bp.route("/manage/calls/<int:call_id>/applications")
@role_required(permissions.can_view_intake)
def intake(call_id: int):
    call = _call_for_intake(call_id)
    filters = _filters()
    applications = db.session.scalars(_received(call, filters).options(*LIST_LOADING)).all()
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

def _cell(value):
    """A value as a spreadsheet will not run: text that would start a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"  # exact: no float on the way


def _utc_iso(instant) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if instant else ""


def _local_iso(instant, zone: str) -> str:
    return in_zone(instant, zone).isoformat(timespec="seconds") if instant else ""


def _csv_response(call: Call, kind: str, header: list[str], rows: list[list], filters: dict) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(value) for value in header])
    writer.writerows([_cell(value) for value in row] for row in rows)
    slug = re.sub(r"[^a-z0-9]+", "-", call.title.lower()).strip("-")[:50].strip("-") or "call"
    filename = f"{slug}-{call.id}-{kind}-{utcnow():%Y-%m-%d}.csv"
    # Exports carry applicants' personal data: who took one is on the record.
    record_event("call.applications_exported", actor=_me(), target=call,
                 details={"file": kind, "rows": len(rows),
                          "filters": {key: (value.value if hasattr(value, "value") else value)
                                      for key, value in filters.items() if value and key != "sort"}})
    db.session.commit()
    # The byte-order mark makes Excel read the file as UTF-8 (names with accents stay right).
    return Response(buffer.getvalue().encode("utf-8-sig"), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


@bp.route("/manage/calls/<int:call_id>/applications.csv")
@role_required(permissions.can_view_intake)
def intake_csv(call_id: int):
    """One row per received application, with the figures and the length of each answer."""
    call = _call_for_intake(call_id)
    filters = _filters()
    applications = db.session.scalars(_received(call, filters).options(*CSV_LOADING)).all()
    questions = call.questions
    header = ["Reference", "Title", "Status", "Lead organisation", "Lead organisation kind", "Owner", "Owner e-mail",
              "Requested (cents)", "Requested (USD)", "Community share (cents)", "Community share (%)", "Partners",
              "Submitted at (UTC)", f"Submitted at ({call.time_zone})", "Screening reason"]
    header += [f"Q{number} words: {question.prompt[:80]}" for number, question in enumerate(questions, 1)]
    rows = []
    for application in applications:
        row = [application.reference_number, application.title, application.status.label,
               application.lead_organisation.name, application.lead_organisation.kind.label,
               application.owner.full_name, application.owner.email,
               application.requested_cents, _dollars(application.requested_cents),
               application.community_share_cents, f"{application.community_share_percent:.1f}",
               len(application.partners), _utc_iso(application.submitted_at),
               _local_iso(application.submitted_at, call.time_zone), application.screening_reason]
        for question in questions:
            answer = application.answer_to(question.id)
            row.append(answer.word_count if answer else 0)
        rows.append(row)
    return _csv_response(call, "applications", header, rows, filters)


@bp.route("/manage/calls/<int:call_id>/partners.csv")
@role_required(permissions.can_view_intake)
def intake_partners_csv(call_id: int):
    """One row per partner of each received application: who they are and their share."""
    call = _call_for_intake(call_id)
    filters = _filters()
    applications = db.session.scalars(_received(call, filters).options(*LIST_LOADING)).all()
    header = ["Reference", "Application title", "Application status", "Partner organisation", "Partner kind",
              "Community partner", "Contact", "Contact e-mail", "Role in the project", "Budget share (cents)",
              "Budget share (USD)", "Share of the application's budget (%)", "Signed off at (UTC)"]
    rows = []
    for application in applications:
        requested = application.requested_cents
        for partner in application.partners:
            share = application.partner_share_cents(partner)
            rows.append([application.reference_number, application.title, application.status.label,
                         partner.organisation.name, partner.organisation.kind.label,
                         "yes" if partner.organisation.kind.is_community_partner else "no",
                         partner.contact_name, partner.contact_email, partner.role_in_project, share, _dollars(share),
                         f"{100 * share / requested:.1f}" if requested else "0.0", _utc_iso(partner.signed_off_at)])
    return _csv_response(call, "partners", header, rows, filters)


# --- one application, and screening -------------------------------------------------------

def _application_for_staff(application_id: int) -> Application:
    """The application; 404 while it is a draft (drafts are private to the applicants)."""
    application = load_or_404(Application, application_id)
    require(permissions.can_view_application(current_user, application), target=application, hide=True)
    return application


def _history(application: Application) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "Application",
                                 AuditEvent.object_id == str(application.id))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)).all()


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
