"""Milestone reports: the grantee's report page and partner sign-off; the officer's milestone
review and its payment buttons. Registered on the awards blueprint, so endpoints keep their
``awards.`` names.

Same shape as every view: load or 404, check the permission, call one service, commit once.
Drafts are private to the grantee's team: staff see submitted versions only.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from grants.accounts.forms import ActionForm
from grants.applications.enums import BudgetCategory
from grants.attachments.views import serve_stored_file
from grants.audit.services import record_event
from grants.awards import payments, targets
from grants.awards.blueprint import bp
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentMethod
from grants.awards.models import Award, Milestone, MilestoneReport, Payment, ReportDocument
from grants.awards.permissions import can_decide, can_file_report, can_view_award, is_grantee
from grants.checkins import services as checkins
from grants.core.dates import format_date
from grants.core.errors import DomainError
from grants.core.money import format_money
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db
from grants.reports import services as reporting
from grants.reports.forms import (
    DecisionForm,
    PaidForm,
    ReleasePaymentForm,
    ReturnPlanForm,
    RevisedPlanForm,
    RevisionForm,
    report_form_class,
    spending_field_name,
    targets_form_class,
)


def _me():
    return current_user._get_current_object()


def _act(form, change) -> int | None:
    """Run ``change`` and commit once. On a refusal roll back, put the message on the form and
    return the refusal's status (400, 403, 409); None when it went through."""
    try:
        change()
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # Someone acted on the same rows between our checks and our write.
        db.session.rollback()
        form.form_errors.append(reporting.stale_report_message())
        return 409
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return exc.status_code
    return None


def load_award_milestone(award_id: int, milestone_id: int) -> tuple[Award, Milestone]:
    """The award and its milestone if the user may see the award (404 otherwise: its
    existence is private to the grantee's team and funder staff)."""
    award = load_or_404(Award, award_id)
    require(can_view_award(current_user, award), target=award, hide=True)
    milestone = load_or_404(Milestone, milestone_id)
    if milestone.award_id != award.id:
        require(False, target=milestone, hide=True)
    return award, milestone


# --- the grantee's report ---------------------------------------------------------------------

def _prefill(form, milestone: Milestone) -> None:
    report = reporting.working_version(milestone)
    form.basis.data = reporting.report_basis(milestone)
    if report is None:
        return
    form.narrative.data = report.narrative
    for metric in milestone.award.call.metrics:
        form[f"metric_{metric.id}"].data = reporting.metric_value(report, metric.id)
    for category in BudgetCategory:
        form[spending_field_name(category)].data = reporting.spending_in(report, category)


def _content(form, milestone: Milestone) -> reporting.ReportContent:
    uploads = [reporting.Upload(upload.stream, upload.filename) for upload in (form.files.data or [])
               if upload is not None and getattr(upload, "filename", "")]
    return reporting.ReportContent(
        narrative=form.narrative.data or "",
        metric_values={metric.id: form[f"metric_{metric.id}"].data for metric in milestone.award.call.metrics},
        spending={category: form[spending_field_name(category)].data for category in BudgetCategory},
        remove_file_ids=form.remove_files.data or [],
        uploads=uploads)


def _carried_files(milestone: Milestone):
    """The files the next saved version starts with: the draft's, else the latest version's."""
    report = reporting.working_version(milestone)
    return report.documents if report is not None else []


def _render_report(award: Award, milestone: Milestone, form, status: int = 200, plan_form=None):
    grantee = is_grantee(current_user, award)
    may_file = can_file_report(current_user, award) and milestone.status in reporting.REPORTABLE
    today = reporting.local_today(award.call)
    latest = reporting.latest_submitted(milestone)
    return render_template(
        "reports/report.html", award=award, call=award.call, milestone=milestone, form=form,
        may_file=may_file, is_grantee=grantee, draft=reporting.current_draft(milestone) if grantee else None,
        versions=reporting.submitted_versions(milestone), latest=latest,
        carried_files=_carried_files(milestone) if may_file else [],
        waiting_for=reporting.partners_to_sign(latest) if latest is not None else [],
        my_partner=reporting.partner_of(current_user, award),
        check_in=checkins.summary_for(milestone, current_user),
        overdue=reporting.is_overdue(milestone, today), days_left=reporting.days_until_due(milestone, today),
        spending_total=reporting.spending_total, categories=list(BudgetCategory),
        metric_value=reporting.metric_value, spending_in=reporting.spending_in,
        # After a conflicting save: the report as someone else saved it, beside what was typed.
        saved_now=reporting.working_version(milestone) if status == 409 and grantee else None,
        shortfalls=targets.shortfalls(milestone, latest), target_of=targets.target_of,
        plan_form=plan_form or RevisedPlanForm(formdata=None),
    ), status


@bp.route("/awards/<int:award_id>/milestones/<int:milestone_id>/report", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def milestone_report(award_id: int, milestone_id: int):
    award, milestone = load_award_milestone(award_id, milestone_id)
    form_class = report_form_class(award.call)
    if request.method == "GET":
        form = form_class(formdata=None)
        _prefill(form, milestone)
        return _render_report(award, milestone, form)
    # Funder staff see the report; only the grantee's team files it.
    require(is_grantee(current_user, award), target=milestone, reason="not the grantee")
    form = form_class()
    form.remove_files.choices = [(d.stored_file_id, d.stored_file.original_filename)
                                 for d in _carried_files(milestone)]
    status = 400
    if form.validate_on_submit():
        submitting = form.is_submission
        content = _content(form, milestone)
        action = reporting.submit_report if submitting else reporting.save_report_draft
        status = _act(form, lambda: action(milestone, author=_me(), content=content,
                                           expected_basis=form.basis.data or None))
        if status is None:
            report = milestone.reports[-1]
            if submitting:
                message = _("Version %(version)s of the report is submitted. The program officer will accept it "
                            "or ask for a revision; you will get an e-mail either way.", version=report.version)
                if award.call.requires_partner_signoff:
                    message += " " + _("Each partner's contact now signs it off; they have been e-mailed.")
            else:
                message = _("Draft saved (version %(version)s, not submitted). Only your team can see it.",
                            version=report.version)
            flash(message, "success")
            return redirect(url_for("awards.milestone_report", award_id=award.id, milestone_id=milestone.id))
        if submitting:
            for name, problem in reporting.submission_problems(milestone, content).items():
                form[name].errors = list(form[name].errors or []) + [problem]
        if status == 409:
            # What was typed stays; the next save is based on the report as it is now.
            form.basis.data = reporting.report_basis(milestone)
    return _render_report(award, milestone, form, status)


@bp.route("/awards/<int:award_id>/milestones/<int:milestone_id>/revised-plan", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def submit_revised_plan(award_id: int, milestone_id: int):
    """The grantee's revised plan for the milestone's held payment."""
    award, milestone = load_award_milestone(award_id, milestone_id)
    require(is_grantee(current_user, award), target=milestone, reason="not the grantee")
    form = RevisedPlanForm()
    status = 400
    if form.validate_on_submit():
        if milestone.payment is None:
            form.form_errors.append(_("This milestone has no payment, so no revised plan is taken. Nothing was saved."))
        else:
            status = _act(form, lambda: targets.submit_revised_plan(milestone.payment, author=_me(),
                                                                    plan=form.plan.data))
            if status is None:
                flash(_("Your revised plan is submitted. The program officer reads it and then releases the payment."),
                      "success")
                return redirect(url_for("awards.milestone_report", award_id=award.id, milestone_id=milestone.id,
                                        _anchor="payment"))
    form_class = report_form_class(award.call)
    report_form = form_class(formdata=None)
    _prefill(report_form, milestone)
    return _render_report(award, milestone, report_form, status, plan_form=form)


@bp.route("/awards/<int:award_id>/milestones/<int:milestone_id>/report/files/<int:document_id>")
@login_required
def report_document(award_id: int, milestone_id: int, document_id: int):
    award, milestone = load_award_milestone(award_id, milestone_id)
    document = load_or_404(ReportDocument, document_id)
    report = document.report
    visible = report.submitted_at is not None or is_grantee(current_user, award)
    if report.milestone_id != milestone.id or not visible:
        require(False, target=document, hide=True)
    record_event("attachment.downloaded", target=document.stored_file,
                 details={"award_id": award.id, "milestone_id": milestone.id, "report_id": report.id,
                          "version": report.version})
    db.session.commit()
    return serve_stored_file(document.stored_file)


@bp.route("/awards/<int:award_id>/milestones/<int:milestone_id>/report/sign-off", methods=["GET", "POST"])
@login_required
def report_sign_off(award_id: int, milestone_id: int):
    award, milestone = load_award_milestone(award_id, milestone_id)
    report = reporting.latest_submitted(milestone)
    partner = reporting.partner_of(current_user, award)
    form = ActionForm()
    status = 200
    if request.method == "POST":
        require(partner is not None, target=milestone, reason="not a partner contact")
        status = 400
        if form.validate_on_submit():
            if report is None or request.form.get("report_id", type=int) != report.id:
                form.form_errors.append(_("A newer version of the report was submitted after you opened this page. "
                                          "Read it below, then sign off again."))
                status = 409
            else:
                status = _act(form, lambda: reporting.sign_off_report(report, user=_me()))
                if status is None:
                    flash(_("Thank you. %(name)s has signed off version %(version)s of the report for “%(milestone)s”.",
                            name=partner.organisation.name, version=report.version, milestone=milestone.name),
                          "success")
                    return redirect(url_for("awards.report_sign_off", award_id=award.id, milestone_id=milestone.id))
    signed = {sign_off.partner_id: sign_off for sign_off in report.sign_offs} if report is not None else {}
    return render_template(
        "reports/sign_off.html", award=award, call=award.call, milestone=milestone, report=report,
        partner=partner, signed=signed, form=form, categories=list(BudgetCategory),
        metric_value=reporting.metric_value, spending_in=reporting.spending_in,
        can_sign=(partner is not None and report is not None and milestone.status is MilestoneStatus.SUBMITTED
                  and award.status is AwardStatus.ACTIVE and award.call.requires_partner_signoff
                  and partner.id not in signed),
    ), status


# --- what the award pages show of reports (templates/reports/_*_award.html) ------------

@dataclass
class MilestoneOverview:
    milestone: Milestone
    overdue: bool
    days_left: int
    latest: MilestoneReport | None  # the latest submitted version
    waiting_for: list  # partners still to sign it off


@bp.app_template_global("report_overview")
def report_overview(award: Award) -> list[MilestoneOverview]:
    """Each milestone of ``award`` with its overdue flag and its latest submitted report."""
    today = reporting.local_today(award.call)
    rows = []
    for milestone in award.milestones:
        latest = reporting.latest_submitted(milestone)
        rows.append(MilestoneOverview(milestone, reporting.is_overdue(milestone, today),
                                      reporting.days_until_due(milestone, today), latest,
                                      reporting.partners_to_sign(latest) if latest is not None else []))
    return rows


@bp.app_template_global("report_partner_of")
def report_partner_of(award: Award):
    """The partner of the award whose contact the current user is (they sign reports off), or None."""
    return reporting.partner_of(current_user, award)


@bp.app_template_global("payment_methods")
def payment_methods():
    return list(PaymentMethod)


@bp.app_template_global("local_today_of")
def local_today_of(call):
    return reporting.local_today(call)


# --- the officer's review of a milestone --------------------------------------------------------

def _targets_form(milestone: Milestone, formdata=None):
    form = targets_form_class(milestone.award.call)(formdata=formdata)
    if formdata is None:
        for metric in milestone.award.call.metrics:
            form[f"target_{metric.id}"].data = targets.target_of(milestone, metric.id)
    return form


def _render_review(milestone: Milestone, *, accept_form=None, revision_form=None, paid_form=None,
                   targets_form=None, status: int = 200):
    award = milestone.award
    today = reporting.local_today(award.call)
    latest = reporting.latest_submitted(milestone)
    if paid_form is None:
        paid_form = PaidForm(formdata=None)
        paid_form.paid_on.data = today
    return render_template(
        "reports/milestone.html", award=award, call=award.call, milestone=milestone,
        versions=reporting.submitted_versions(milestone), latest=latest,
        waiting_for=reporting.partners_to_sign(latest) if latest is not None else [],
        check_in=checkins.summary_for(milestone, current_user),
        deciding=latest is not None and milestone.status is MilestoneStatus.SUBMITTED
        and award.status is AwardStatus.ACTIVE,
        accept_form=accept_form or DecisionForm(formdata=None),
        revision_form=revision_form or RevisionForm(formdata=None),
        paid_form=paid_form, payment=milestone.payment, overdue=reporting.is_overdue(milestone, today),
        categories=list(BudgetCategory), metric_value=reporting.metric_value, spending_in=reporting.spending_in,
        spending_total=reporting.spending_total, has_award_page="awards.manage_award" in _endpoints(),
        targets_form=targets_form or _targets_form(milestone), target_of=targets.target_of,
        targets_editable=award.status in targets.TARGETS_EDITABLE and milestone.status is not MilestoneStatus.ACCEPTED,
        shortfalls=targets.shortfalls(milestone, latest),
        needs_choice=targets.needs_shortfall_choice(milestone, latest),
    ), status


def _endpoints() -> set[str]:
    return set(current_app.view_functions)


@bp.route("/manage/milestones/<int:milestone_id>")
@role_required(can_decide)
def review_milestone(milestone_id: int):
    milestone = load_or_404(Milestone, milestone_id)
    return _render_review(milestone)


@bp.route("/manage/milestones/<int:milestone_id>/accept", methods=["POST"])
@role_required(can_decide)
def accept_milestone_report(milestone_id: int):
    milestone = load_or_404(Milestone, milestone_id)
    form = DecisionForm()
    status = 400
    if form.validate_on_submit():
        completes = milestone.is_final
        status = _act(form, lambda: reporting.accept_report(
            milestone, officer=_me(), comments=form.comments.data, shortfall_choice=form.chosen_shortfall,
            shortfall_reason=form.shortfall_reason.data or ""))
        if status is None:
            held = milestone.payment is not None and milestone.payment.hold is not None
            flash(f"The report for “{milestone.name}” is accepted." + (
                " Its payment is held until you accept the grantee's revised plan." if held else
                " It was the final report: the award is completed." if completes else
                " Its payment can now be released." if milestone.payment is not None else ""), "success")
            return redirect(url_for("awards.review_milestone", milestone_id=milestone.id))
        if targets.needs_shortfall_choice(milestone, reporting.latest_submitted(milestone)):
            problems = targets.shortfall_problems(form.chosen_shortfall, form.shortfall_reason.data)
            for name, problem in problems.items():
                form[name].errors = list(form[name].errors or []) + [problem]
    return _render_review(milestone, accept_form=form, status=status)


@bp.route("/manage/milestones/<int:milestone_id>/revision", methods=["POST"])
@role_required(can_decide)
def request_milestone_revision(milestone_id: int):
    milestone = load_or_404(Milestone, milestone_id)
    form = RevisionForm()
    status = 400
    if form.validate_on_submit():
        status = _act(form, lambda: reporting.request_revision(milestone, officer=_me(), comments=form.comments.data))
        if status is None:
            flash(f"The report for “{milestone.name}” is returned to the grantee with your comments.", "success")
            return redirect(url_for("awards.review_milestone", milestone_id=milestone.id))
    return _render_review(milestone, revision_form=form, status=status)


@bp.route("/manage/milestones/<int:milestone_id>/targets", methods=["POST"])
@role_required(can_decide)
@keeps_input_on_csrf_error
def set_milestone_targets(milestone_id: int):
    milestone = load_or_404(Milestone, milestone_id)
    form = _targets_form(milestone, formdata=request.form)
    status = 400
    if form.validate_on_submit():
        chosen = {metric.id: form[f"target_{metric.id}"].data for metric in milestone.award.call.metrics}
        status = _act(form, lambda: targets.set_milestone_targets(milestone, officer=_me(), targets=chosen))
        if status is None:
            flash(f"The targets of “{milestone.name}” are saved.", "success")
            return redirect(url_for("awards.review_milestone", milestone_id=milestone.id, _anchor="targets-title"))
    return _render_review(milestone, targets_form=form, status=status)


# --- payments -----------------------------------------------------------------------------------

def _problems(form) -> str:
    """What kept a payment form from going through, for the flash message of the page it returns to."""
    return " ".join(form.form_errors + [error for name, errors in form.errors.items() if name != "csrf_token"
                                        for error in errors])

def _back(payment: Payment):
    """Back to the page the button was on: the officer's award page or the milestone's."""
    where = request.form.get("back", "")
    if (where == "award" or payment.milestone_id is None) and "awards.manage_award" in _endpoints():
        return redirect(url_for("awards.manage_award", award_id=payment.award_id))
    if payment.milestone_id is not None:
        return redirect(url_for("awards.review_milestone", milestone_id=payment.milestone_id))
    return redirect(url_for("awards.portfolio"))


def _payment_action(payment: Payment, form, change, done, refused: str):
    """Run ``change`` on the posted ``form`` and go back to the page the button was on, with
    ``done()`` (read after the change) or what kept it from going through."""
    if form.validate_on_submit() and _act(form, change) is None:
        flash(done(), "success")
    else:
        flash(_problems(form) or refused, "danger")
    return _back(payment)


@bp.route("/manage/payments/<int:payment_id>/release", methods=["POST"])
@role_required(can_decide)
def release_payment(payment_id: int):
    payment = load_or_404(Payment, payment_id)
    form = ReleasePaymentForm()
    return _payment_action(
        payment, form, lambda: payments.release_payment(payment, officer=_me(), method=form.chosen_method,
                                                        confirmed=bool(form.confirm.data)),
        lambda: f"The payment of {format_money(payment.amount_cents)} is released, to be paid by "
                f"{payment.payment_method.in_words}. Mark it paid once the money has gone out.",
        "The payment was not released.")


@bp.route("/manage/payments/<int:payment_id>/plan/accept", methods=["POST"])
@role_required(can_decide)
def accept_revised_plan(payment_id: int):
    payment = load_or_404(Payment, payment_id)
    return _payment_action(payment, ActionForm(), lambda: targets.accept_revised_plan(payment, officer=_me()),
                           lambda: "The revised plan is accepted. The payment can now be released.",
                           "The revised plan was not accepted.")


@bp.route("/manage/payments/<int:payment_id>/plan/return", methods=["POST"])
@role_required(can_decide)
def return_revised_plan(payment_id: int):
    payment = load_or_404(Payment, payment_id)
    form = ReturnPlanForm()
    return _payment_action(
        payment, form, lambda: targets.return_revised_plan(payment, officer=_me(), comments=form.comments.data),
        lambda: "The revised plan is returned to the grantee with your comments; the payment stays held.",
        "The revised plan was not returned.")


@bp.route("/manage/payments/<int:payment_id>/paid", methods=["POST"])
@role_required(can_decide)
def mark_payment_paid(payment_id: int):
    payment = load_or_404(Payment, payment_id)
    form = PaidForm()
    return _payment_action(
        payment, form, lambda: payments.mark_paid(payment, officer=_me(), paid_on=form.paid_on.data,
                                                  reference=form.reference.data, confirmed=bool(form.confirm.data)),
        lambda: f"The payment of {format_money(payment.amount_cents)} is recorded as paid on "
                f"{format_date(payment.paid_on)}, reference {payment.payment_reference}.",
        "The payment was not marked paid.")
