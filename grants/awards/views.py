"""Decision and award pages. Officers: a call's decisions (from the ranking, one at a time or
in bulk, and their release) and an award's amendments, milestones and payments. Grantees:
their awards, the offer with its terms (accept or decline), then milestones and payments.

Each view loads (404 when missing), checks the permission, calls one service, commits once.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.exc import StaleDataError

from grants.applications.enums import ApplicationStatus
from grants.applications.models import Application
from grants.applications.permissions import can_view_application
from grants.audit.models import AuditEvent
from grants.awards import permissions, services
from grants.awards.blueprint import bp
from grants.awards.enums import AwardStatus, DecisionOutcome
from grants.awards.forms import (
    AcceptAwardForm,
    AmendmentForm,
    BulkDecisionForm,
    DecisionForm,
    DeclineAwardForm,
    MilestoneForm,
    ReleaseForm,
)
from grants.awards.models import Award, Decision, Milestone
from grants.calls.models import Call
from grants.core.errors import DomainError, PermissionDenied
from grants.core.money import format_money
from grants.core.pagination import paginate_list
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db

CONCURRENT_MESSAGE = ("Someone else changed this at the same moment, so your change was not saved. Reload the "
                      "page to see theirs, then try again.")


def _me():
    return current_user._get_current_object()


def _save(form, change) -> int | None:
    """Run ``change`` and commit once. On a refusal, roll back, put the message on the form
    and return the HTTP status to answer with; None when saved."""
    try:
        change()
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # Another request won a race the rules did not see coming (the same row, at once).
        db.session.rollback()
        form.form_errors.append(CONCURRENT_MESSAGE)
        return 409
    except services.EarlyReleaseNotConfirmed:
        db.session.rollback()
        raise
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return exc.status_code
    return None


# --- the officer's decisions ----------------------------------------------------------------

@dataclass
class DecisionRow:
    ranking_row: object  # grants.reviews.scoring.RankingRow
    decision: Decision | None
    award: Award | None
    can_decide: bool  # in review: a decision may still be recorded or changed

    @property
    def application(self) -> Application:
        return self.ranking_row.application


def _decision_form(application: Application, decision: Decision | None, requested_cents: int) -> DecisionForm:
    """The row's form as the decision stands (the requested amount proposed for a new one)."""
    data = {"amount": requested_cents}
    if decision is not None:
        data = {"outcome": decision.outcome.value, "amount": decision.amount_cents, "start_on": decision.start_on,
                "end_on": decision.end_on, "terms": decision.terms, "rationale": decision.rationale,
                "include_review_comments": decision.include_review_comments}
    return DecisionForm(formdata=None, prefix=f"d{application.id}", data=data)


def _render_decisions(call: Call, *, bulk_form: BulkDecisionForm | None = None, status: int = 200):
    from grants.reviews.scoring import attach_applications, rank_call

    ranking = rank_call(call, with_applications=False)
    page = paginate_list(ranking.rows)
    attach_applications(page.items)
    # A fixed number of queries for any number of rows: the decisions and awards of the rows
    # shown; the page's applications are already loaded, so they are not joined again.
    shown = [row.application_id for row in page.items]
    decisions = {d.application_id: d for d in db.session.scalars(
        select(Decision).where(Decision.call_id == call.id, Decision.application_id.in_(shown))
        .options(lazyload(Decision.application), joinedload(Decision.decided_by)))}
    awards = {a.application_id: a for a in db.session.scalars(
        select(Award).where(Award.call_id == call.id, Award.application_id.in_(shown))
        .options(lazyload(Award.application)))}
    rows = [DecisionRow(ranking_row, decisions.get(ranking_row.application_id), awards.get(ranking_row.application_id),
                        ranking_row.application.status is ApplicationStatus.IN_REVIEW)
            for ranking_row in page.items]
    return render_template(
        "awards/decisions.html", call=call, ranking=ranking, rows=rows, page=page, totals=services.decision_totals(call),
        bulk_form=bulk_form or BulkDecisionForm(formdata=None), release_form=ReleaseForm(formdata=None),
        early_warnings=services.early_release_warnings(call),
        outcomes=DecisionOutcome), status


@bp.route("/manage/calls/<int:call_id>/decisions")
@role_required(permissions.can_decide)
def decisions(call_id: int):
    return _render_decisions(load_or_404(Call, call_id))


def _application_for_decision(application_id: int) -> Application:
    application = load_or_404(Application, application_id)
    # Drafts are private to their applicants, even to funder staff.
    require(can_view_application(current_user, application), target=application, hide=True)
    return application


def _render_decision(application: Application, form: DecisionForm, status: int = 200):
    """One application's decision on a page of its own: at 10,000 applications the list
    cannot carry a full form per row (it was 60% of the list's time and most of its bytes)."""
    from grants.reviews.scoring import rank_call

    call = application.call
    ranking = rank_call(call, with_applications=False)
    row = next((each for each in ranking.rows if each.application_id == application.id), None)
    return render_template("awards/decision.html", call=call, application=application, form=form,
                           ranking=ranking, ranking_row=row, decision=services.decision_for(application),
                           totals=services.decision_totals(call),
                           award=db.session.scalar(select(Award).where(Award.application_id == application.id))), status


@bp.route("/manage/applications/<int:application_id>/decision", methods=["GET", "POST"])
@role_required(permissions.can_decide)
@keeps_input_on_csrf_error
def decide(application_id: int):
    application = _application_for_decision(application_id)
    if request.method == "GET":
        form = _decision_form(application, services.decision_for(application), application.requested_cents)
        return _render_decision(application, form)
    form = DecisionForm(prefix=f"d{application.id}")
    if not form.validate_on_submit():
        return _render_decision(application, form, 400)
    status = _save(form, lambda: services.decide_application(
        application, officer=_me(), outcome=form.chosen_outcome, amount_cents=form.amount.data,
        start_on=form.start_on.data, end_on=form.end_on.data, terms=form.terms.data or "",
        rationale=form.rationale.data or "", include_review_comments=form.include_review_comments.data))
    if status is not None:
        return _render_decision(application, form, status)
    outcome = form.chosen_outcome
    flash(f"Decision on {application.reference_number} recorded: "
          + (f"award of {format_money(form.amount.data)}" if outcome is DecisionOutcome.AWARD else "decline")
          + ". It stays internal until you release it.", "success")
    return redirect(url_for("awards.decisions", call_id=application.call_id, _anchor=f"application-{application.id}"))


def _ticked_applications(call: Call, ids: list[int]) -> list[Application] | None:
    """The ticked applications of ``call`` in the order ticked; None if one is not of the call."""
    found = {a.id: a for a in db.session.scalars(select(Application).where(Application.id.in_(ids),
                                                                            Application.call_id == call.id))}
    wanted = list(dict.fromkeys(ids))
    return [found[i] for i in wanted] if all(i in found for i in wanted) else None


@bp.route("/manage/calls/<int:call_id>/decisions/bulk", methods=["POST"])
@role_required(permissions.can_decide)
@keeps_input_on_csrf_error
def decide_in_bulk(call_id: int):
    call = load_or_404(Call, call_id)
    form = BulkDecisionForm()
    if not form.validate_on_submit():
        return _render_decisions(call, bulk_form=form, status=400)
    applications = _ticked_applications(call, form.application_ids.data)
    if applications is None:
        form.form_errors.append("A ticked application is not one of this call's. Nothing was changed.")
        return _render_decisions(call, bulk_form=form, status=400)
    outcome = DecisionOutcome(form.outcome.data)
    status = _save(form, lambda: services.decide_many(
        applications, officer=_me(), outcome=outcome, start_on=form.start_on.data, end_on=form.end_on.data,
        terms=form.terms.data or "", rationale=form.rationale.data or "",
        include_review_comments=form.include_review_comments.data))
    if status is not None:
        return _render_decisions(call, bulk_form=form, status=status)
    flash(f"{len(applications)} decision{'s' if len(applications) != 1 else ''} recorded "
          f"({'awards' if outcome is DecisionOutcome.AWARD else 'declines'}). They stay internal until you release "
          "them.", "success")
    return redirect(url_for("awards.decisions", call_id=call.id))


@bp.route("/manage/calls/<int:call_id>/decisions/release", methods=["POST"])
@role_required(permissions.can_decide)
def release(call_id: int):
    """Release every waiting decision (the button), or the ticked ones (from the bulk form)."""
    call = load_or_404(Call, call_id)
    form = ReleaseForm()
    if form.validate_on_submit():
        ids = form.application_ids.data or None
        expected = form.expected_count.data
        expected = int(expected) if expected and expected.isdigit() and ids is None else None
        released = []
        try:
            status = _save(form, lambda: released.extend(services.release_decisions(
                call, officer=_me(), application_ids=ids, expected_count=expected,
                confirm_early=form.confirm_early.data == "1")))
        except services.EarlyReleaseNotConfirmed as exc:
            # Say why it is early and ask again (a page of its own: no script needed).
            return render_template("awards/release_confirm.html", call=call, form=form, warnings=exc.warnings,
                                   application_ids=ids or [], expected_count=form.expected_count.data or "")
        if status is None:
            awards = sum(1 for d in released if d.outcome is DecisionOutcome.AWARD)
            flash(f"{len(released)} decision{'s' if len(released) != 1 else ''} released ({awards} award"
                  f"{'s' if awards != 1 else ''}, {len(released) - awards} decline"
                  f"{'s' if len(released) - awards != 1 else ''}). The letters are on their way.", "success")
        else:
            flash(" ".join(form.form_errors), "danger")
    else:
        flash(" ".join(form.form_errors) or "Nothing was released.", "danger")
    return redirect(url_for("awards.decisions", call_id=call.id))


# --- the officer's award page -------------------------------------------------------------------

def _milestone_form(milestone: Milestone, formdata=None) -> MilestoneForm:
    return MilestoneForm(formdata=formdata, prefix=f"m{milestone.id}", data={
        "name": milestone.name, "due_on": milestone.due_on,
        "payment": milestone.payment.amount_cents if milestone.payment else None})


def _award_history(award: Award) -> list[AuditEvent]:
    """The award's events and its payments' (release, hold, revised plan, paid with its reference)."""
    payments = [str(payment.id) for payment in award.payments]
    return db.session.scalars(select(AuditEvent).where(
        or_(and_(AuditEvent.object_type == "Award", AuditEvent.object_id == str(award.id)),
            and_(AuditEvent.object_type == "Payment", AuditEvent.object_id.in_(payments))))
        .order_by(AuditEvent.occurred_at, AuditEvent.id)).all()


def _render_manage_award(award: Award, *, amendment_form: AmendmentForm | None = None,
                         failed_milestone_form: MilestoneForm | None = None, failed_milestone_id: int | None = None,
                         new_milestone_form: MilestoneForm | None = None, status: int = 200):
    if amendment_form is None:
        amendment_form = AmendmentForm(formdata=None, data={"amount": award.amount_cents, "end_on": award.end_on})
    milestone_forms = {m.id: failed_milestone_form if m.id == failed_milestone_id else _milestone_form(m)
                       for m in award.milestones}
    history = _award_history(award)
    declined = next((e for e in reversed(history) if e.action == "award.declined"), None)
    return render_template(
        "awards/manage_award.html", award=award, application=award.application, call=award.call,
        decision=services.decision_for(award.application), amendment_form=amendment_form,
        milestone_forms=milestone_forms, new_milestone_form=new_milestone_form or MilestoneForm(formdata=None,
                                                                                              prefix="new"),
        is_editable=award.status in services.AMENDABLE_STATUSES, history=history,
        decline_reason=(declined.details or {}).get("reason") if declined else None,
        spent=services.spent_cents(award), scheduled=services.scheduled_cents(award),
        unscheduled=services.unscheduled_cents(award)), status


@bp.route("/manage/awards/<int:award_id>")
@role_required(permissions.can_decide)
def manage_award(award_id: int):
    return _render_manage_award(load_or_404(Award, award_id))


@bp.route("/manage/awards/<int:award_id>/amend", methods=["POST"])
@role_required(permissions.can_decide)
@keeps_input_on_csrf_error
def amend_award(award_id: int):
    award = load_or_404(Award, award_id)
    form = AmendmentForm()
    if not form.validate_on_submit():
        return _render_manage_award(award, amendment_form=form, status=400)
    status = _save(form, lambda: services.amend_award(award, officer=_me(), new_amount_cents=form.amount.data,
                                                      new_end_on=form.end_on.data, reason=form.reason.data))
    if status is not None:
        return _render_manage_award(load_or_404(Award, award_id), amendment_form=form, status=status)
    flash("The award is amended; the grantees were e-mailed the change.", "success")
    return redirect(url_for("awards.manage_award", award_id=award.id, _anchor="amendments"))


@bp.route("/manage/awards/<int:award_id>/milestones", methods=["POST"])
@role_required(permissions.can_decide)
@keeps_input_on_csrf_error
def add_milestone(award_id: int):
    award = load_or_404(Award, award_id)
    form = MilestoneForm(prefix="new")
    if not form.validate_on_submit():
        return _render_manage_award(award, new_milestone_form=form, status=400)
    status = _save(form, lambda: services.add_milestone(award, officer=_me(), name=form.name.data,
                                                        due_on=form.due_on.data, payment_cents=form.payment.data))
    if status is not None:
        return _render_manage_award(load_or_404(Award, award_id), new_milestone_form=form, status=status)
    flash(f"Milestone “{form.name.data.strip()}” added.", "success")
    return redirect(url_for("awards.manage_award", award_id=award.id, _anchor="milestones"))


@bp.route("/manage/milestones/<int:milestone_id>", methods=["POST"])
@role_required(permissions.can_decide)
@keeps_input_on_csrf_error
def adjust_milestone(milestone_id: int):
    milestone = load_or_404(Milestone, milestone_id)
    award_id = milestone.award_id
    form = MilestoneForm(prefix=f"m{milestone.id}")
    if not form.validate_on_submit():
        return _render_manage_award(milestone.award, failed_milestone_form=form, failed_milestone_id=milestone.id,
                                    status=400)
    status = _save(form, lambda: services.adjust_milestone(milestone, officer=_me(), name=form.name.data,
                                                           due_on=form.due_on.data, payment_cents=form.payment.data))
    if status is not None:
        return _render_manage_award(load_or_404(Award, award_id), failed_milestone_form=form,
                                    failed_milestone_id=milestone_id, status=status)
    flash(f"Milestone “{form.name.data.strip()}” saved.", "success")
    return redirect(url_for("awards.manage_award", award_id=award_id, _anchor="milestones"))


# --- the grantee's pages ---------------------------------------------------------------------------

@bp.route("/awards")
@login_required
def my_awards():
    return render_template("awards/mine.html", awards=services.awards_of(current_user))


def load_award(award_id: int) -> Award:
    """The award if the user may see it: its grantees and funder staff (404 for anyone else)."""
    award = load_or_404(Award, award_id)
    require(permissions.can_view_award(current_user, award), target=award, hide=True)
    return award


def _render_award(award: Award, *, accept_form=None, decline_form=None, status: int = 200):
    return render_template(
        "awards/award.html", award=award, application=award.application, call=award.call,
        accept_form=accept_form or AcceptAwardForm(formdata=None),
        decline_form=decline_form or DeclineAwardForm(formdata=None),
        can_respond=permissions.can_respond_to_offer(current_user, award),
        is_grantee=permissions.is_grantee(current_user, award), statuses=AwardStatus,
        can_manage=permissions.can_decide(current_user)), status


@bp.route("/awards/<int:award_id>")
@login_required
def award_detail(award_id: int):
    return _render_award(load_award(award_id))


def _respond(award_id: int, form, verb: str, change, done: str):
    award = load_award(award_id)
    forms = {"accept_form" if verb == "accept" else "decline_form": form}
    # Who may answer, before what they typed: staff and collaborators are told why not.
    try:
        services.check_may_respond(award, _me(), verb)
    except PermissionDenied:
        # Staff and collaborators: the error page with the reason, never the award's content.
        raise
    except DomainError as exc:
        form.form_errors.append(exc.message)
        return _render_award(award, status=exc.status_code, **forms)
    if not form.validate_on_submit():
        return _render_award(award, status=400, **forms)
    status = _save(form, lambda: change(award))
    if status is not None:
        return _render_award(load_award(award_id), status=status, **forms)
    flash(done, "success")
    return redirect(url_for("awards.award_detail", award_id=award_id))


@bp.route("/awards/<int:award_id>/accept", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def accept_award(award_id: int):
    form = AcceptAwardForm()
    return _respond(award_id, form, "accept", lambda award: services.accept_award(
        award, user=_me(), confirm_terms=bool(form.confirm_terms.data)),
        "You accepted the award. It is active: its milestones and payments are below.")


@bp.route("/awards/<int:award_id>/decline", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def decline_award(award_id: int):
    form = DeclineAwardForm()
    return _respond(award_id, form, "decline", lambda award: services.decline_award(
        award, user=_me(), reason=form.reason.data or ""),
        "You declined the award. The program officer was told.")

