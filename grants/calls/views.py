"""Call pages: program officers write, check and publish calls under /manage/calls; anyone
reads the published ones under /calls."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind
from grants.accounts.forms import ActionForm
from grants.calls import eligibility, services
from grants.calls.enums import CallPhase, CallStatus
from grants.calls.forms import (
    CallForm,
    CriterionForm,
    DocumentForm,
    MetricForm,
    CheckInStatementForm,
    eligibility_form_class,
    MilestoneForm,
    PartnershipRulesForm,
    QuestionForm,
)
from grants.calls.models import (
    Call,
    CallDocument,
    CallQuestion,
    CheckInStatement,
    MilestoneTemplate,
    OutcomeMetric,
    RubricCriterion,
)
from grants.calls.permissions import can_manage_calls, can_view_call
from grants.core.errors import DomainError, StaleEdit
from grants.core.types import utcnow
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db

bp = Blueprint("calls", __name__)


@dataclass(frozen=True)
class Section:
    """One list of items a call defines, edited on its own small form."""

    slug: str
    model: type
    form: type
    heading: str
    noun: str
    # What an officer may still do to these items once the call is published.
    published_note: str
    # Whether items (optional ones) may still be added once the call is published.
    addable_when_published: bool = False


SECTIONS = {section.slug: section for section in (
    Section("questions", CallQuestion, QuestionForm, "Narrative questions", "question",
            "The call is published: you can reword a question, raise its word limit or make it optional, "
            "and add optional questions. Questions cannot be removed.", addable_when_published=True),
    Section("documents", CallDocument, DocumentForm, "Documents", "document",
            "The call is published: you can reword a document's name and help or make it optional, and add "
            "optional documents. Documents cannot be removed.", addable_when_published=True),
    Section("criteria", RubricCriterion, CriterionForm, "Review rubric", "criterion",
            "The call is published: you can reword a criterion, its description and what the scores mean. "
            "Weights and scales are fixed."),
    Section("metrics", OutcomeMetric, MetricForm, "Outcome metrics", "metric",
            "The call is published: you can fix a metric's wording. Metrics cannot be added or removed."),
    Section("check-in", CheckInStatement, CheckInStatementForm, "Partnership check-in", "statement",
            "The call is published: you can reword a statement and add new ones (they are asked from the next "
            "check-in on). Statements cannot be removed: partnerships may already have rated them.",
            addable_when_published=True),
    Section("milestones", MilestoneTemplate, MilestoneForm, "Milestones and payments", "milestone",
            "The call is published: you can rename a milestone. Due days and payment shares are fixed."),
)}


def _me():
    return current_user._get_current_object()


def _call_to_manage(call_id: int) -> Call:
    call = load_or_404(Call, call_id)
    # Staff only; a draft is not even acknowledged to others, a published call is public anyway.
    require(can_manage_calls(current_user), target=call, hide=not can_view_call(current_user, call))
    return call


def _section(slug: str) -> Section:
    if slug not in SECTIONS:
        abort(404)
    return SECTIONS[slug]


def _item_of(call: Call, section: Section, item_id: int):
    item = load_or_404(section.model, item_id)
    if item.call_id != call.id:
        abort(404)
    return item


def _to_call(call: Call, anchor: str | None = None):
    return redirect(url_for("calls.manage_call", call_id=call.id, _anchor=anchor))


def _version(form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


# The call form's names for the services' fields, where they differ.
CALL_FORM_FIELDS = {"opens_at": "opens_on", "closes_at": "closes_on", "loi_closes_at": "loi_closes_on", "award_floor_cents": "award_floor",
                    "award_ceiling_cents": "award_ceiling", "total_funds_cents": "total_funds"}


def _refused(form, exc: DomainError, call: Call | None = None, field_names: dict | None = None) -> int:
    """Undo the attempt and show each reason at its field (or above the form); the form
    keeps what was typed. Returns the status to answer with."""
    db.session.rollback()
    problems = exc.problems if isinstance(exc, services.ChangesRefused) else [(None, exc.message)]
    for field, message in problems:
        name = (field_names or {}).get(field, field)
        if name and name in form:
            form[name].errors.append(message)
        else:
            form.form_errors.append(message)
    if isinstance(exc, StaleEdit) and call is not None:
        # Saving again now is a deliberate overwrite of what the other person saved.
        form.version.data = call.version
    return exc.status_code


# --- the officers' list and a new call ----------------------------------------------------

@bp.route("/manage/calls")
@role_required(can_manage_calls)
def manage_calls():
    now = utcnow()
    calls = db.session.scalars(select(Call).order_by(Call.created_at.desc(), Call.id.desc())).all()
    phase_order = {CallPhase.OPEN: 0, CallPhase.UPCOMING: 1, CallPhase.CLOSED: 2}
    groups = [
        (CallStatus.DRAFT, [call for call in calls if call.is_draft]),
        # Open calls first, then those opening soon, then the closed ones, most recent first.
        (CallStatus.PUBLISHED, sorted((call for call in calls if call.is_published),
                                      key=lambda call: (phase_order[call.phase(now)],
                                                        -call.closes_at.timestamp()))),
        (CallStatus.ARCHIVED, [call for call in calls if call.is_archived]),
    ]
    missing = {call.id: len(services.publication_problems(call, now)) for call in calls if call.is_draft}
    return render_template("calls/manage/list.html", groups=groups, missing=missing, now=now)


def _call_fields(form: CallForm) -> dict:
    fields = dict(
        title=form.title.data, summary=form.summary.data or "", description=form.description.data or "",
        eligibility=form.eligibility.data or "", closes_at=form.closes_at, loi_closes_at=form.loi_closes_at,
        title_es=form.title_es.data or "", summary_es=form.summary_es.data or "",
        description_es=form.description_es.data or "", eligibility_es=form.eligibility_es.data or "",
        award_floor_cents=form.award_floor.data, award_ceiling_cents=form.award_ceiling.data,
        total_funds_cents=form.total_funds.data, expected_awards=form.expected_awards.data,
    )
    if form.time_zone is not None:
        fields["time_zone"] = form.time_zone.data
    if form.opens_on is not None:
        fields["opens_at"] = form.opens_at
    return fields


@bp.route("/manage/calls/new", methods=["GET", "POST"])
@role_required(can_manage_calls)
@keeps_input_on_csrf_error
def new_call():
    form = CallForm() if request.method == "POST" else CallForm(
        data={"time_zone": current_app.config["CALL_DEFAULT_TIME_ZONE"]})
    if form.validate_on_submit():
        try:
            call = services.create_call(created_by=_me(), **_call_fields(form))
        except DomainError as exc:
            status = _refused(form, exc, field_names=CALL_FORM_FIELDS)
            return render_template("calls/manage/call_form.html", form=form, call=None), status
        db.session.commit()
        flash("The draft call is saved. Add its questions, rubric and milestones, then publish it.", "success")
        return _to_call(call)
    return render_template("calls/manage/call_form.html", form=form, call=None), 400 if form.errors else 200


# --- one call -----------------------------------------------------------------------------

@bp.route("/manage/calls/<int:call_id>")
@login_required
def manage_call(call_id: int):
    call = _call_to_manage(call_id)
    now = utcnow()
    return render_template("calls/manage/call.html", call=call, now=now, sections=SECTIONS.values(),
                           problems=services.publication_problems(call, now) if call.is_draft else [],
                           action_form=ActionForm())


def _call_form_data(call: Call) -> dict:
    opens, closes, loi_closes = call.local(call.opens_at), call.local(call.closes_at), call.local(call.loi_closes_at)
    return dict(version=call.version, title=call.title, summary=call.summary, description=call.description,
                eligibility=call.eligibility, time_zone=call.time_zone, title_es=call.title_es,
                summary_es=call.summary_es, description_es=call.description_es, eligibility_es=call.eligibility_es,
                opens_on=opens.date() if opens else None, opens_time=opens.time() if opens else None,
                closes_on=closes.date() if closes else None, closes_time=closes.time() if closes else None,
                loi_closes_on=loi_closes.date() if loi_closes else None,
                loi_closes_time=loi_closes.time() if loi_closes else None,
                award_floor=call.award_floor_cents, award_ceiling=call.award_ceiling_cents,
                total_funds=call.total_funds_cents, expected_awards=call.expected_awards)


PUBLISHED_HINTS = {
    "closes_on": "Can only move later (an extension). Applicants with an application in progress are e-mailed.",
    "award_floor": "Can only go down now that the call is published.",
    "award_ceiling": "Can only go up now that the call is published.",
    "total_funds": "Can only go up now that the call is published.",
    "expected_awards": "Can only go up now that the call is published.",
}


def _fit_to_call(form: CallForm, call: Call) -> None:
    """Leave out what can no longer change, and say on each field what still can."""
    if call.is_draft:
        return
    form.zone_name = call.time_zone
    del form.time_zone
    if call.opens_at is not None and call.opens_at <= utcnow():
        del form.opens_on
        del form.opens_time
    for name, hint in PUBLISHED_HINTS.items():
        form[name].description = hint


@bp.route("/manage/calls/<int:call_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_call(call_id: int):
    call = _call_to_manage(call_id)
    if call.is_archived:
        flash("This call is archived; it can no longer be changed.", "info")
        return _to_call(call)
    form = CallForm() if request.method == "POST" else CallForm(data=_call_form_data(call))
    _fit_to_call(form, call)
    if form.validate_on_submit():
        try:
            changes = services.update_call(call, changed_by=_me(), expected_version=_version(form),
                                           **_call_fields(form))
        except DomainError as exc:
            status = _refused(form, exc, call, CALL_FORM_FIELDS)
            return render_template("calls/manage/call_form.html", form=form, call=call), status
        db.session.commit()
        flash("Saved." if changes else "Nothing had changed.", "success" if changes else "info")
        if "closes_at" in changes and call.is_published:
            flash("The deadline is extended; applicants with an application in progress are being e-mailed.",
                  "info")
        return _to_call(call)
    return render_template("calls/manage/call_form.html", form=form, call=call), 400 if form.errors else 200


@bp.route("/manage/calls/<int:call_id>/rules", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_rules(call_id: int):
    call = _call_to_manage(call_id)
    if call.is_archived:
        flash("This call is archived; it can no longer be changed.", "info")
        return _to_call(call)
    form = PartnershipRulesForm() if request.method == "POST" else PartnershipRulesForm(data=dict(
        version=call.version, lead_kinds=call.lead_kinds, partner_kinds=call.partner_kinds,
        min_partners=call.min_partners, min_community_share_percent=call.min_community_share_percent,
        requires_partner_signoff=call.requires_partner_signoff, loi_min_partners=call.loi_min_partners))
    if form.validate_on_submit():
        try:
            changes = services.update_call(
                call, changed_by=_me(), expected_version=_version(form), lead_kinds=form.lead_kinds.data,
                partner_kinds=form.partner_kinds.data, min_partners=form.min_partners.data,
                min_community_share_percent=form.min_community_share_percent.data,
                requires_partner_signoff=form.requires_partner_signoff.data,
                loi_min_partners=form.loi_min_partners.data or 0)
        except DomainError as exc:
            status = _refused(form, exc, call)
            return render_template("calls/manage/rules_form.html", form=form, call=call), status
        db.session.commit()
        flash("Saved." if changes else "Nothing had changed.", "success" if changes else "info")
        return _to_call(call, "rules")
    return render_template("calls/manage/rules_form.html", form=form, call=call), 400 if form.errors else 200


@bp.route("/manage/calls/<int:call_id>/preview")
@login_required
def preview_call(call_id: int):
    call = _call_to_manage(call_id)
    return render_template("calls/public/call.html", call=call, now=utcnow(), preview=True, can_manage=True)


@bp.route("/manage/calls/<int:call_id>/publish", methods=["POST"])
@login_required
def publish_call(call_id: int):
    call = _call_to_manage(call_id)
    if ActionForm().validate_on_submit():
        try:
            services.publish_call(call, published_by=_me())
        except services.CallNotReady as exc:
            db.session.rollback()
            flash(f"Not published: {len(exc.problems)} thing{'s' if len(exc.problems) != 1 else ''} still "
                  "missing. See “Before you can publish” below.", "danger")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash("The call is published: anyone can now read it on the funding calls page.", "success")
    return _to_call(call)


@bp.route("/manage/calls/<int:call_id>/archive", methods=["POST"])
@login_required
def archive_call(call_id: int):
    call = _call_to_manage(call_id)
    if ActionForm().validate_on_submit():
        try:
            services.archive_call(call, archived_by=_me())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash("The call is archived: it is no longer on the public pages and can no longer be changed.",
                  "success")
    return _to_call(call)


# --- the call's items: questions, documents, rubric, metrics, milestones -------------------

def _item_page(form, call: Call, section: Section, item=None):
    return render_template("calls/manage/item_form.html", form=form, call=call, section=section, item=item)


@bp.route("/manage/calls/<int:call_id>/<section>/new", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def new_item(call_id: int, section: str):
    call, section = _call_to_manage(call_id), _section(section)
    if call.is_archived:
        flash("This call is archived; it can no longer be changed.", "info")
        return _to_call(call)
    form = section.form()
    if form.validate_on_submit():
        try:
            services.add_call_item(call, section.model, changed_by=_me(), **form.service_fields())
        except DomainError as exc:
            status = _refused(form, exc)
            return _item_page(form, call, section), status
        db.session.commit()
        flash(f"The {section.noun} is added.", "success")
        return _to_call(call, section.slug)
    return _item_page(form, call, section), 400 if form.errors else 200


@bp.route("/manage/calls/<int:call_id>/<section>/<int:item_id>", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_item(call_id: int, section: str, item_id: int):
    call, section = _call_to_manage(call_id), _section(section)
    item = _item_of(call, section, item_id)
    if call.is_archived:
        flash("This call is archived; it can no longer be changed.", "info")
        return _to_call(call)
    form = section.form() if request.method == "POST" else section.form(data=section.form.data_from(item))
    if form.validate_on_submit():
        try:
            changes = services.update_call_item(item, changed_by=_me(), **form.service_fields())
        except DomainError as exc:
            status = _refused(form, exc)
            return _item_page(form, call, section, item), status
        db.session.commit()
        flash("Saved." if changes else "Nothing had changed.", "success" if changes else "info")
        return _to_call(call, section.slug)
    return _item_page(form, call, section, item), 400 if form.errors else 200


@bp.route("/manage/calls/<int:call_id>/<section>/<int:item_id>/remove", methods=["POST"])
@login_required
def remove_item(call_id: int, section: str, item_id: int):
    call, section = _call_to_manage(call_id), _section(section)
    item = _item_of(call, section, item_id)
    if ActionForm().validate_on_submit():
        try:
            services.remove_call_item(item, changed_by=_me())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(f"The {section.noun} is removed.", "success")
    return _to_call(call, section.slug)


@bp.route("/manage/calls/<int:call_id>/<section>/<int:item_id>/move", methods=["POST"])
@login_required
def move_item(call_id: int, section: str, item_id: int):
    call, section = _call_to_manage(call_id), _section(section)
    item = _item_of(call, section, item_id)
    if ActionForm().validate_on_submit():
        try:
            services.move_call_item(item, up=request.form.get("direction") != "down", changed_by=_me())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
    return _to_call(call, section.slug)


# --- public pages -------------------------------------------------------------------------

@bp.route("/calls")
def list_calls():
    now = utcnow()
    calls = services.open_and_upcoming_calls(now)
    return render_template("calls/public/list.html", now=now,
                           open_calls=[call for call in calls if call.phase(now) is CallPhase.OPEN],
                           upcoming_calls=sorted((call for call in calls if call.phase(now) is CallPhase.UPCOMING),
                                                 key=lambda call: call.opens_at))


@bp.route("/calls/<int:call_id>/can-we-apply")
def check_eligibility(call_id: int):
    """Check before you start: answers in the query string, a verdict with its reasons."""
    call = load_or_404(Call, call_id)
    require(can_view_call(current_user, call), target=call, hide=True)
    form = eligibility_form_class()(request.args)
    verdict = None
    # "checked": the form was sent (an unanswered question sends nothing of itself).
    if "checked" in request.args and form.validate():
        plan = eligibility.Plan(
            lead_kind=OrganisationKind(form.lead_kind.data) if form.lead_kind.data else None,
            partners={kind: form[f"partners_{kind.value}"].data or 0 for kind in OrganisationKind},
            amount_cents=form.amount.data)
        verdict = eligibility.check(call, plan)
    elif not request.args and current_user.is_authenticated and current_user.organisation is not None:
        form.lead_kind.data = current_user.organisation.kind.value
    return render_template("calls/public/eligibility.html", call=call, form=form, verdict=verdict,
                           allowed_partner_kinds=call.allowed_partner_kinds or list(OrganisationKind))


@bp.route("/calls/<int:call_id>")
def call_detail(call_id: int):
    call = load_or_404(Call, call_id)
    require(can_view_call(current_user, call), target=call, hide=True)
    return render_template("calls/public/call.html", call=call, now=utcnow(), preview=False,
                           can_manage=can_manage_calls(current_user))
