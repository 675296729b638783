"""Applicant pages: start an application, edit its sections, submit and withdraw it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms import TextAreaField
from wtforms import SelectChoice

from grants.accounts.enums import OrganisationKind, OrganisationStatus
from grants.accounts.forms import ActionForm
from grants.accounts.models import Organisation, User
from grants.applications import letters_of_intent, permissions, services
from grants.applications.blueprint import bp
from grants.applications.enums import BudgetCategory, TaskStatus
from grants.applications.forms import (
    AnswersForm,
    BudgetLineForm,
    OverviewForm,
    PartnerEditForm,
    PartnerForm,
    StartApplicationForm,
)
from grants.applications.models import Application, BudgetLine, Collaborator, Partner
from grants.calls.models import Call
from grants.calls.permissions import can_view_call
from grants.core.errors import DomainError, StaleEdit
from grants.core.pagination import paginate
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require
from grants.extensions import db


def _me():
    return current_user._get_current_object()


def load_application(application_id: int, *, edit: bool = False) -> Application:
    """The application if the user may see it (404 otherwise: its existence is private);
    with ``edit``, 403 when they may see but not change it."""
    application = load_or_404(Application, application_id)
    require(permissions.can_view_application(current_user, application), target=application, hide=True)
    if edit:
        require(permissions.can_edit_application(current_user, application), target=application,
                reason="read-only")
    return application


def load_part(model, part_id: int, application: Application):
    part = load_or_404(model, part_id)
    if part.application_id != application.id:
        require(False, target=part, hide=True)
    return part


def _version(form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


def save_or_explain(application: Application, form, change) -> bool:
    """Run ``change``; commit once. On a refusal or a conflicting save, roll back, put the
    message on the form (what was typed stays in it) and return False."""
    try:
        change()
        db.session.commit()
    except StaleEdit as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return False
    except StaleDataError:
        # Someone saved between our version check and our write.
        db.session.rollback()
        form.form_errors.append(services.STALE_MESSAGE)
        return False
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return False
    return True


def _saved_to(application: Application, endpoint: str) -> str:
    """Where a saved section goes: back to "Check your answers" when its Change link led
    here (?return_to=check), else ``endpoint``."""
    if request.args.get("return_to") == "check":
        return url_for("applications.check_answers", application_id=application.id)
    return url_for(endpoint, application_id=application.id)


def _render_section(template: str, application: Application, status: int = 200, **context):
    return render_template(template, application=application, call=application.call,
                           can_edit=permissions.can_edit_application(current_user, application),
                           missing=services.missing_items(application), **context), status


def _failed_status(form) -> int:
    """200 for a clean form; 409 when a conflicting save refused it; 400 for other errors."""
    if not (form.errors or form.form_errors):
        return 200
    return 409 if services.STALE_MESSAGE in form.form_errors else 400


def _button_action(application: Application, change, done, back_to: str):
    """A button that changes the application (remove, submit, withdraw): act, then go back
    to ``back_to`` with what happened, or with the refusal, as a message."""
    form = ActionForm()
    if form.validate_on_submit():
        if save_or_explain(application, form, change):
            flash(done() if callable(done) else done, "success")
        else:
            flash(" ".join(form.form_errors), "danger")
    return redirect(url_for(back_to, application_id=application.id))


# --- start and list ---------------------------------------------------------------------

@bp.route("/calls/<int:call_id>/apply", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def start_application(call_id: int):
    call = load_or_404(Call, call_id)
    require(can_view_call(current_user, call), target=call, hide=True)
    require(permissions.can_start_application(current_user, call), target=call, reason="cannot lead")
    form = StartApplicationForm()
    if form.validate_on_submit():
        try:
            application = services.start_application(call, owner=_me(), title=form.title.data)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Your application is started. Work through the tasks below; each says what it still needs."),
                  "success")
            return redirect(url_for("applications.application_detail", application_id=application.id))
    return render_template("applications/start.html", call=call, form=form), 400 if form.errors else 200


@bp.route("/applications")
@login_required
def my_applications():
    query = (select(Application)
             .outerjoin(Collaborator, (Collaborator.application_id == Application.id)
                        & (Collaborator.user_id == current_user.id) & Collaborator.accepted_at.is_not(None)
                        & Collaborator.revoked_at.is_(None))
             .where(or_(Application.owner_id == current_user.id, Collaborator.id.is_not(None)))
             .order_by(Application.updated_at.desc()))
    return render_template("applications/mine.html", applications=paginate(query))


# --- the application and its sections ---------------------------------------------------

@dataclass(frozen=True)
class TaskRow:
    task: services.Task
    url: str | None  # where the current user does it; None where they cannot (or not yet)
    # A partner's task, shown to that partner's people: what is theirs to do among the lead's.
    is_yours: bool


SECTION_ENDPOINTS = {"overview": "applications.edit_overview", "answers": "applications.edit_answers",
                     "partners": "applications.partners", "budget": "applications.budget",
                     "documents": "applications.documents"}


def _task_rows(application: Application) -> list[TaskRow]:
    user = current_user
    can_edit = permissions.can_edit_application(user, application)
    rows = []
    for task in services.task_list(application):
        partner = next((p for p in application.partners if p.id == task.partner_id), None)
        url = None
        if task.status is not TaskStatus.CANNOT_START:
            if task.key == "sign_off":
                if permissions.can_sign_off_partner(user, partner):
                    url = url_for("applications.partner_sign_off", application_id=application.id, partner_id=partner.id)
            elif task.key == "submit":
                url = url_for("applications.check_answers", application_id=application.id)
            elif can_edit:
                url = url_for(SECTION_ENDPOINTS[task.key], application_id=application.id)
        rows.append(TaskRow(task, url, partner is not None and user.organisation_id == partner.organisation_id))
    return rows


@bp.route("/applications/<int:application_id>")
@login_required
def application_detail(application_id: int):
    application = load_application(application_id)
    return render_template(
        "applications/detail.html", application=application, call=application.call,
        tasks=_task_rows(application) if application.is_draft else [],
        missing=services.missing_items(application),
        budget_by_category=services.budget_by_category(application), action_form=ActionForm(),
        can_edit=permissions.can_edit_application(current_user, application),
        can_submit=permissions.can_submit_application(current_user, application),
        can_withdraw=permissions.can_withdraw_application(current_user, application),
        can_discard=permissions.can_discard_application(current_user, application),
        can_start_full_proposal=permissions.can_start_full_proposal(current_user, application),
        can_manage_collaborators=permissions.can_manage_collaborators(current_user, application))


@bp.route("/applications/<int:application_id>/full-proposal", methods=["POST"])
@login_required
def start_full_proposal(application_id: int):
    """The invited lead starts the full proposal from the letter of intent."""
    loi = load_application(application_id)
    require(permissions.can_start_full_proposal(current_user, loi), target=loi, reason="not invited")
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("applications.application_detail", application_id=loi.id))
    try:
        proposal = letters_of_intent.start_full_proposal(loi, owner=_me())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("applications.application_detail", application_id=loi.id))
    db.session.commit()
    flash(_("Your full proposal is started from the letter of intent. Work through the tasks below."), "success")
    return redirect(url_for("applications.application_detail", application_id=proposal.id))


@bp.route("/applications/<int:application_id>/overview", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_overview(application_id: int):
    application = load_application(application_id, edit=True)
    form = OverviewForm(obj=application if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = application.version
    if form.validate_on_submit() and save_or_explain(application, form, lambda: services.update_overview(
            application, editor=_me(), expected_version=_version(form), title=form.title.data,
            summary=form.summary.data)):
        flash(_("Overview saved."), "success")
        return redirect(_saved_to(application, "applications.application_detail"))
    return _render_section("applications/overview.html", application, _failed_status(form), form=form)


def _answers_form(application: Application):
    class Form(AnswersForm):
        pass

    for question in application.questions:
        setattr(Form, f"answer_{question.id}", TextAreaField(
            question.prompt, description=question.help_text, render_kw={
                "rows": 8, "data-word-limit": question.word_limit or "",
                "aria-describedby": f"answer_{question.id}-count"}))
    return Form


@bp.route("/applications/<int:application_id>/answers", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_answers(application_id: int):
    application = load_application(application_id, edit=True)
    form = _answers_form(application)()
    if request.method == "GET":
        form.version.data = application.version
        for question in application.questions:
            answer = application.answer_to(question.id)
            form[f"answer_{question.id}"].data = answer.text if answer else ""
    if form.validate_on_submit():
        texts = {q.id: form[f"answer_{q.id}"].data or "" for q in application.questions}
        if save_or_explain(application, form, lambda: services.save_answers(
                application, editor=_me(), expected_version=_version(form), texts=texts)):
            flash(_("Answers saved."), "success")
            return redirect(_saved_to(application, "applications.application_detail"))
        for question_id, problem in services.word_limit_problems(application, texts).items():
            form[f"answer_{question_id}"].errors = [problem]
    status = _failed_status(form)
    return _render_section("applications/answers.html", application, status, form=form)


# --- partners ---------------------------------------------------------------------------

def _partner_organisations(application: Application) -> list[Organisation]:
    """The registered organisations that can still be added as partners."""
    taken = {application.lead_organisation_id} | {p.organisation_id for p in application.partners}
    return list(db.session.scalars(select(Organisation).where(
        Organisation.status == OrganisationStatus.APPROVED, Organisation.id.not_in(taken)).order_by(Organisation.name)))


NOT_IN_THE_LIST = SelectChoice(0, "— not in the list: type the contact below —")


def _contact_choices(organisations: list[Organisation]) -> list[SelectChoice]:
    """The people of each organisation, grouped under its name (one query for all of them)."""
    people = services.people_of(o.id for o in organisations)
    return [NOT_IN_THE_LIST] + [SelectChoice(u.id, u.full_name, optgroup=o.name)
                                for o in organisations for u in people[o.id]]


def _contact_user(form):
    """The person picked as contact, or None; someone who is not a user at all is refused."""
    if not form.contact_user_id.data:
        return None
    user = db.session.get(User, form.contact_user_id.data)
    if user is None:
        raise DomainError("Choose the contact from the list, or type their name and e-mail address.")
    return user


@bp.route("/applications/<int:application_id>/partners", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def partners(application_id: int):
    application = load_application(application_id)
    form = PartnerForm()
    organisations = _partner_organisations(application)
    form.organisation_id.choices = [SelectChoice(0, "— choose —")] + [
        SelectChoice(o.id, f"{o.name} ({o.kind.label})") for o in organisations]
    form.contact_user_id.choices = _contact_choices(organisations)
    if request.method == "GET":
        form.version.data = application.version
    if request.method == "POST":
        require(permissions.can_edit_application(current_user, application), target=application)
        if form.validate_on_submit():
            existing = db.session.get(Organisation, form.organisation_id.data or 0) \
                if form.organisation_choice.data == "existing" else None
            new = None if form.organisation_choice.data == "existing" else dict(
                name=form.name.data or "", kind=OrganisationKind(form.kind.data), city=form.city.data or "",
                region=form.region.data or "")
            if form.organisation_choice.data == "existing" and existing is None:
                form.organisation_id.errors = ["Choose the partner organisation, or add a new one."]
            elif save_or_explain(application, form, lambda: services.add_partner(
                    application, editor=_me(), expected_version=_version(form), organisation=existing,
                    new_organisation=new, contact_user=_contact_user(form), contact_name=form.contact_name.data,
                    contact_email=form.contact_email.data, role_in_project=form.role_in_project.data)):
                flash(_("Partner added."), "success")
                return redirect(url_for("applications.partners", application_id=application.id))
    status = _failed_status(form)
    return _render_section("applications/partners.html", application, status, form=form, action_form=ActionForm())


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_partner(application_id: int, partner_id: int):
    application = load_application(application_id, edit=True)
    partner = load_part(Partner, partner_id, application)
    form = PartnerEditForm(obj=partner if request.method == "GET" else None)
    people = services.people_of([partner.organisation_id])[partner.organisation_id]
    form.contact_user_id.choices = [NOT_IN_THE_LIST] + [SelectChoice(u.id, u.full_name) for u in people]
    if request.method == "GET":
        form.version.data = application.version
        # A contact who is one of the organisation's people shows as picked, not typed.
        picked = next((u for u in people if u.email == partner.contact_email.lower()), None)
        if picked is not None:
            form.contact_user_id.data, form.contact_name.data, form.contact_email.data = picked.id, "", ""
        else:
            form.contact_user_id.data = 0
    if form.validate_on_submit() and save_or_explain(application, form, lambda: services.update_partner(
            partner, editor=_me(), expected_version=_version(form), contact_user=_contact_user(form),
            contact_name=form.contact_name.data, contact_email=form.contact_email.data,
            role_in_project=form.role_in_project.data)):
        flash(_("Partner saved."), "success")
        return redirect(_saved_to(application, "applications.partners"))
    status = _failed_status(form)
    return _render_section("applications/partner_edit.html", application, status, form=form, partner=partner)


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/remove", methods=["POST"])
@login_required
def remove_partner(application_id: int, partner_id: int):
    application = load_application(application_id, edit=True)
    partner = load_part(Partner, partner_id, application)
    version = request.form.get("version", type=int)
    return _button_action(application, lambda: services.remove_partner(partner, editor=_me(), expected_version=version),
                          "Partner removed.", "applications.partners")


# --- budget -----------------------------------------------------------------------------

def _budget_form(application: Application, line: BudgetLine | None = None) -> BudgetLineForm:
    form = BudgetLineForm(obj=line if request.method == "GET" and line else None)
    form.partner_id.choices = [SelectChoice(0, _("Lead organisation"))] + [
        SelectChoice(p.id, p.organisation.name) for p in application.partners]
    if request.method == "GET":
        form.version.data = application.version
        if line is not None:
            form.amount.data = line.amount_cents
            form.partner_id.data = line.partner_id or 0
            form.category.data = line.category.value
    return form


@bp.route("/applications/<int:application_id>/budget", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def budget(application_id: int):
    application = load_application(application_id)
    form = _budget_form(application)
    if request.method == "POST":
        require(permissions.can_edit_application(current_user, application), target=application)
        if form.validate_on_submit() and save_or_explain(application, form, lambda: services.add_budget_line(
                application, editor=_me(), expected_version=_version(form),
                category=BudgetCategory(form.category.data), description=form.description.data,
                amount_cents=form.amount.data, partner_id=form.partner_id.data or None)):
            flash(_("Budget line added."), "success")
            return redirect(url_for("applications.budget", application_id=application.id))
    status = _failed_status(form)
    return _render_section("applications/budget.html", application, status, form=form, action_form=ActionForm(),
                           budget_by_category=services.budget_by_category(application))


@bp.route("/applications/<int:application_id>/budget/<int:line_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_budget_line(application_id: int, line_id: int):
    application = load_application(application_id, edit=True)
    line = load_part(BudgetLine, line_id, application)
    form = _budget_form(application, line)
    if form.validate_on_submit() and save_or_explain(application, form, lambda: services.update_budget_line(
            line, editor=_me(), expected_version=_version(form), category=BudgetCategory(form.category.data),
            description=form.description.data, amount_cents=form.amount.data,
            partner_id=form.partner_id.data or None)):
        flash(_("Budget line saved."), "success")
        return redirect(_saved_to(application, "applications.budget"))
    status = _failed_status(form)
    return _render_section("applications/budget_line_edit.html", application, status, form=form, line=line)


@bp.route("/applications/<int:application_id>/budget/<int:line_id>/remove", methods=["POST"])
@login_required
def remove_budget_line(application_id: int, line_id: int):
    application = load_application(application_id, edit=True)
    line = load_part(BudgetLine, line_id, application)
    version = request.form.get("version", type=int)
    return _button_action(application, lambda: services.remove_budget_line(line, editor=_me(), expected_version=version),
                          "Budget line removed.", "applications.budget")


# --- submit and withdraw ----------------------------------------------------------------

@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@login_required
def submit_application(application_id: int):
    application = load_application(application_id)
    require(permissions.can_submit_application(current_user, application), target=application)
    version = request.form.get("version", type=int)
    form = ActionForm()
    if form.validate_on_submit() and save_or_explain(application, form, lambda: services.submit_application(
            application, submitted_by=_me(), expected_version=version)):
        return redirect(url_for("applications.submitted", application_id=application.id))
    if form.form_errors:
        flash(" ".join(form.form_errors), "danger")
    return redirect(url_for("applications.check_answers", application_id=application.id))


@bp.route("/applications/<int:application_id>/check")
@login_required
def check_answers(application_id: int):
    """Every answer, partner, budget line and document on one page, each with a way to change
    it, and the submit button (GOV.UK "check answers")."""
    application = load_application(application_id)
    if not application.is_draft:
        return redirect(url_for("applications.application_record", application_id=application.id))
    return render_template(
        "applications/check.html", application=application, call=application.call,
        missing=services.missing_items(application), can_edit=permissions.can_edit_application(current_user, application),
        can_submit=permissions.can_submit_application(current_user, application),
        budget_by_category=services.budget_by_category(application))


@bp.route("/applications/<int:application_id>/submitted")
@login_required
def submitted(application_id: int):
    """The confirmation page: the reference number, what happens next, whom to contact."""
    application = load_application(application_id)
    if application.submitted_at is None:
        return redirect(url_for("applications.application_detail", application_id=application.id))
    return render_template("applications/submitted.html", application=application, call=application.call,
                           next_steps=services.what_happens_next(application))


@bp.route("/applications/<int:application_id>/record")
@login_required
def application_record(application_id: int):
    """The whole submission as it was sent, to print or save (a print stylesheet hides the rest)."""
    application = load_application(application_id)
    if application.submitted_at is None:
        return redirect(url_for("applications.check_answers", application_id=application.id))
    return render_template("applications/record.html", application=application, call=application.call,
                           budget_label=lambda value: BudgetCategory(value).label)


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@login_required
def withdraw_application(application_id: int):
    application = load_application(application_id)
    require(permissions.can_withdraw_application(current_user, application), target=application)
    return _button_action(application, lambda: services.withdraw_application(application, withdrawn_by=_me()),
                          "The application is withdrawn.", "applications.application_detail")


@bp.route("/applications/<int:application_id>/discard", methods=["GET", "POST"])
@login_required
def discard_application(application_id: int):
    """Discard a draft: a page that says what goes with it and asks to confirm (no script)."""
    application = load_application(application_id)
    require(permissions.can_discard_application(current_user, application), target=application)
    form = ActionForm()
    if form.validate_on_submit():
        title = application.title
        if save_or_explain(application, form, lambda: services.discard_application(application, discarded_by=_me())):
            flash(_("The draft “%(title)s” is discarded.", title=title), "success")
            return redirect(url_for("applications.my_applications"))
    return _render_section("applications/discard.html", application, _failed_status(form), form=form)
