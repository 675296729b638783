"""Panels, assignments and conflicts of interest: the program officer's review set-up and
assignment pages, and the reviewer's list, assignment page and panel invitation.

Same shape as every view here: load or 404, check, one service, commit once. A reviewer
conflicted automatically on an application is refused every page of its assignment, even
if one exists (defence in depth); before attesting, a reviewer sees only what they need to
judge a conflict: title, reference, lead and partner organisation names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload
from wtforms import SelectChoice

from grants.accounts.forms import ActionForm
from grants.accounts.models import User
from grants.applications.models import Application, Partner
from grants.calls.models import Call
from grants.calls.permissions import can_view_call
from grants.core.errors import DomainError
from grants.core.pagination import paginate
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db
from grants.reviews import services, stipends
from grants.reviews.blueprint import bp
from grants.reviews.enums import AssignmentStatus, PanelMemberStatus
from grants.reviews.forms import (
    DeclareConflictForm,
    DeclineForm,
    InviteReviewerForm,
    ManualAssignmentForm,
    PanelMemberForm,
    ProposalForm,
    ReviewSettingsForm,
    WaiverForm,
)
from grants.reviews.models import PanelMember, ReviewAssignment
from grants.reviews.scoring import assignment_counts
from grants.reviews.permissions import (
    can_manage_review,
    can_respond_to_assignment,
    conflict_reasons,
    is_reviewer,
)


def _me():
    return current_user._get_current_object()


def _act(form, change) -> int | None:
    """Run ``change`` and commit once. On a refusal roll back, put the message on the form and
    return the refusal's status; None when it went through."""
    try:
        change()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return exc.status_code
    return None


# --- the officer: review settings and the panel ---------------------------------------------

def _call_to_manage(call_id: int) -> Call:
    call = load_or_404(Call, call_id)
    # Staff only; a draft call is not even acknowledged to others.
    require(can_manage_review(current_user), target=call, hide=not can_view_call(current_user, call))
    return call


def _settings_form_data(call) -> dict:
    settings = services.settings_for(call)
    closes = call.local(settings.review_closes_at)
    return dict(review_closes_on=closes.date() if closes else None,
                review_closes_time=closes.time() if closes else None,
                reviewers_per_application=settings.reviewers_per_application,
                default_workload_cap=settings.default_workload_cap,
                disagreement_threshold=settings.disagreement_threshold,
                show_other_reviews=settings.show_other_reviews, stipend=settings.stipend_cents)


def _member_form(member: PanelMember, form: PanelMemberForm | None = None, *,
                 funder_ids: set[int]) -> PanelMemberForm:
    """One row's form; its ids are the member's own, as the page holds one per member."""
    if form is None:
        form = PanelMemberForm(formdata=None, sub_panel=member.sub_panel, workload_cap=member.workload_cap,
                               stipend_eligible=stipends.is_eligible(member, funder_ids))
    for name in ("sub_panel", "workload_cap", "stipend_eligible"):
        form[name].id = form[name].label.field_id = f"{name.replace('_', '-')}-{member.id}"
    return form


def _render_setup(call, status: int = 200, *, settings_form=None, invite_form=None, failed_member=None,
                  failed_member_form=None):
    settings = services.settings_for(call)
    if settings_form is None:
        settings_form = ReviewSettingsForm(formdata=None, **_settings_form_data(call))
    if invite_form is None:
        invite_form = InviteReviewerForm(formdata=None)
    pool = services.reviewer_pool(call)
    invite_form.reviewer_id.choices = [SelectChoice(0, "— choose a reviewer —" if pool else "— nobody yet —")] + [
        SelectChoice(reviewer.user.id, reviewer.label) for reviewer in pool]
    members = services.panel_members(call)
    funder_ids = stipends.funder_organisation_ids()
    member_forms = {m.id: _member_form(m, failed_member_form if failed_member == m.id else None,
                                       funder_ids=funder_ids) for m in members
                    if m.status in (PanelMemberStatus.ACTIVE, PanelMemberStatus.INVITED)}
    funder_staff = {m.id for m in members if m.user is not None and stipends.is_funder_staff(m.user, funder_ids)}
    return render_template("reviews/setup.html", call=call, settings=settings, settings_form=settings_form,
                           invite_form=invite_form, members=members, member_forms=member_forms,
                           funder_staff=funder_staff,
                           loads=services.reviewer_loads(call), sub_panels=services.sub_panels(call),
                           failed_member=failed_member, action_form=ActionForm()), status


@bp.route("/manage/calls/<int:call_id>/review", methods=["GET", "POST"])
@role_required(can_manage_review)
@keeps_input_on_csrf_error
def review_setup(call_id: int):
    call = _call_to_manage(call_id)
    if request.method == "GET":
        return _render_setup(call)
    form = ReviewSettingsForm()
    form.zone_name = call.time_zone
    if not form.validate_on_submit():
        return _render_setup(call, 400, settings_form=form)
    status = _act(form, lambda: services.update_review_settings(
        call, changed_by=_me(), review_closes_at=form.review_closes_at,
        show_other_reviews=form.show_other_reviews.data, disagreement_threshold=form.disagreement_threshold.data,
        reviewers_per_application=form.reviewers_per_application.data,
        default_workload_cap=form.default_workload_cap.data, stipend_cents=form.stipend.data))
    if status is not None:
        return _render_setup(call, status, settings_form=form)
    flash("The review settings are saved.", "success")
    return redirect(url_for("reviews.review_setup", call_id=call.id))


@bp.route("/manage/calls/<int:call_id>/review/invite", methods=["POST"])
@role_required(can_manage_review)
@keeps_input_on_csrf_error
def invite_reviewer(call_id: int):
    call = _call_to_manage(call_id)
    form = InviteReviewerForm()
    if not form.validate_on_submit():
        return _render_setup(call, 400, invite_form=form)
    picked = db.session.get(User, form.reviewer_id.data) if form.reviewer_id.data else None
    if form.reviewer_id.data and (picked is None or picked.id not in {r.user.id for r in services.reviewer_pool(call)}):
        form.reviewer_id.errors.append("That reviewer cannot be invited to this panel (already on it, invited, or "
                                       "no longer active): choose another from the list.")
        return _render_setup(call, 400, invite_form=form)
    email = picked.email if picked is not None else form.email.data
    status = _act(form, lambda: services.invite_panel_member(
        call, email=email, sub_panel=form.sub_panel.data or "", workload_cap=form.workload_cap.data,
        invited_by=_me()))
    if status is not None:
        return _render_setup(call, status, invite_form=form)
    who = f"{picked.full_name} ({picked.email})" if picked is not None else email.strip().lower()
    flash(f"An invitation is on its way to {who}. The link in it works once; it is also listed on their home "
          "page.", "success")
    return redirect(url_for("reviews.review_setup", call_id=call.id) + "#panel")


def _member_to_manage(member_id: int) -> PanelMember:
    member = load_or_404(PanelMember, member_id)
    _call_to_manage(member.call_id)
    return member


@bp.route("/manage/panel-members/<int:member_id>", methods=["POST"])
@role_required(can_manage_review)
@keeps_input_on_csrf_error
def update_panel_member(member_id: int):
    member = _member_to_manage(member_id)
    form = PanelMemberForm()
    status = 400 if not form.validate_on_submit() else _act(form, lambda: services.update_panel_member(
        member, changed_by=_me(), sub_panel=form.sub_panel.data or "", workload_cap=form.workload_cap.data,
        stipend_eligible=form.stipend_eligible.data))
    if status is not None:
        return _render_setup(member.call, status, failed_member=member.id, failed_member_form=form)
    flash(f"{member.email}: sub-panel, cap and stipend saved.", "success")
    return redirect(url_for("reviews.review_setup", call_id=member.call_id) + "#panel")


@bp.route("/manage/panel-members/<int:member_id>/remove", methods=["POST"])
@role_required(can_manage_review)
def remove_panel_member(member_id: int):
    member = _member_to_manage(member_id)
    form = ActionForm()
    if form.validate_on_submit():
        was_invited = member.status is PanelMemberStatus.INVITED
        if _act(form, lambda: services.remove_panel_member(member, removed_by=_me())) is None:
            flash(f"The invitation to {member.email} is withdrawn; its link no longer works." if was_invited
                  else f"{member.email} is no longer on the panel.", "success")
        else:
            flash(" ".join(form.form_errors), "danger")
    return redirect(url_for("reviews.review_setup", call_id=member.call_id) + "#panel")


# --- the officer: assignments ---------------------------------------------------------------

# What the page and the conflict rules read of each listed application, loaded with the page.
ASSIGNMENT_PAGE_LOADING = (
    lazyload(Application.call),
    selectinload(Application.partners).joinedload(Partner.organisation),
    selectinload(Application.collaborators),
    lazyload(Application.answers), lazyload(Application.budget_lines), lazyload(Application.documents),
)

@dataclass
class GridCell:
    member: PanelMember
    value: str = ""  # the checkbox value; empty when there is no checkbox
    ticked: bool = False
    note: str = ""  # why there is no checkbox: an assignment's status, or a conflict


@dataclass
class GridRow:
    application: Application
    cells: list[GridCell] = field(default_factory=list)
    unfilled: str = ""


def _proposal_grid(call, proposal, members, ticked: set[str] | None) -> list[GridRow]:
    """Applications × active panel members: a checkbox where a pair is possible, ticked as the
    assigner proposed (or as the officer left it), the reason where it is not."""
    member_of_user = {m.user_id: m for m in members}
    proposed = {f"{a}-{member_of_user[r].id}" for a, r in proposal.pairs if r in member_of_user}
    ticked = proposed if ticked is None else ticked
    existing = {(a.application_id, a.reviewer_id): a for a in services.assignments_of_call(call)}
    rows = []
    for application in services.applications_in_review(call):
        row = GridRow(application, unfilled=proposal.unfilled.get(application.id, ""))
        for member in members:
            assignment = existing.get((application.id, member.user_id))
            if assignment is not None:
                # "Conflicted" beside the automatic "Conflict" read as the same thing; it is the reviewer's word.
                row.cells.append(GridCell(member, note="Conflict declared" if assignment.status is
                                          AssignmentStatus.CONFLICTED else assignment.status.label))
            elif conflict_reasons(member.user, application):
                row.cells.append(GridCell(member, note="Conflict"))
            else:
                value = f"{application.id}-{member.id}"
                row.cells.append(GridCell(member, value=value, ticked=value in ticked))
        rows.append(row)
    return rows


def _render_assignments(call, status: int = 200, *, manual_form=None, proposal_form=None, failed_waiver=None,
                        waiver_form=None, ticked: set[str] | None = None):
    settings = services.settings_for(call)
    members = services.active_members(call)
    # One page of the applications in review, with their assignments; then one page of the
    # assignments of applications that left review (kept on record).
    applications = paginate(services.applications_in_review_query(call).options(*ASSIGNMENT_PAGE_LOADING))
    assignments = services.assignments_of(call, [a.id for a in applications])
    by_application = {a.id: [] for a in applications}
    for assignment in assignments:
        by_application[assignment.application_id].append(assignment)
    others = paginate(services.assignments_out_of_review_query(call).options(
        joinedload(ReviewAssignment.reviewer), lazyload(ReviewAssignment.application)), param="others_page")
    loads = services.reviewer_loads(call)
    default_due = settings.review_closes_at and call.local(settings.review_closes_at).date()
    if manual_form is None:
        manual_form = ManualAssignmentForm(formdata=None, due_on=default_due)
    # The applications of this page of the list (a choice among thousands would be a list no
    # one can read, and megabytes of HTML).
    manual_form.application_id.choices = [SelectChoice(0, "— choose —")] + [
        SelectChoice(a.id, f"{a.reference_number} · {a.title}") for a in applications]
    manual_form.member_id.choices = [SelectChoice(0, "— choose —")] + [
        SelectChoice(m.id, f"{m.user.full_name}{' · ' + m.sub_panel if m.sub_panel else ''} "
                           f"({loads.get(m.user_id, 0)} of {m.workload_cap})") for m in members]

    # The automatic proposal: asked for with ?propose, or shown again after a refused confirm.
    grid = None
    per_application = request.args.get("per_application", type=int) or settings.reviewers_per_application
    mix = request.args.get("mix") == "1"
    if proposal_form is not None:
        per_application = int(proposal_form.per_application.data or per_application)
        mix = proposal_form.mix_sub_panels.data == "1"
    per_application = max(1, min(per_application, 20))
    if "propose" in request.args or proposal_form is not None:
        proposal = services.propose(call, per_application=per_application, mix_sub_panels=mix)
        if proposal_form is None:
            proposal_form = ProposalForm(formdata=None, due_on=default_due, per_application=per_application,
                                         mix_sub_panels="1" if mix else "")
        grid = _proposal_grid(call, proposal, members, ticked)
        # The page holds the manual form's due date too; ids must differ.
        proposal_form.due_on.id = proposal_form.due_on.label.field_id = "proposal-due-on"
    conflicted_automatically = {a.id: conflict_reasons(a.reviewer, a.application)
                                for a in [*assignments, *others] if a.status is AssignmentStatus.CONFLICTED}
    return render_template(
        "reviews/assignments.html", call=call, settings=settings, members=members, applications=applications,
        by_application=by_application, others=others, loads=loads, manual_form=manual_form,
        proposal_form=proposal_form, grid=grid, per_application=per_application, mix=mix,
        sub_panels=services.sub_panels(call), conflicted_automatically=conflicted_automatically,
        failed_waiver=failed_waiver, waiver_form=waiver_form, action_form=ActionForm(),
        counts=assignment_counts(call)), status


@bp.route("/manage/calls/<int:call_id>/assignments")
@role_required(can_manage_review)
def assignments(call_id: int):
    return _render_assignments(_call_to_manage(call_id))


@bp.route("/manage/calls/<int:call_id>/assignments/manual", methods=["POST"])
@role_required(can_manage_review)
@keeps_input_on_csrf_error
def assign_manually(call_id: int):
    call = _call_to_manage(call_id)
    form = ManualAssignmentForm()
    # Choices are filled when the page renders; here any id goes and the service checks it.
    form.application_id.validate_choice = form.member_id.validate_choice = False
    form.application_id.choices = form.member_id.choices = []
    if not form.validate_on_submit():
        return _render_assignments(call, 400, manual_form=form)
    application = db.session.get(Application, form.application_id.data)
    member = db.session.get(PanelMember, form.member_id.data)
    if application is None or application.call_id != call.id or member is None or member.call_id != call.id:
        form.form_errors.append("Choose an application in review and a reviewer of this call's panel.")
        return _render_assignments(call, 400, manual_form=form)
    status = _act(form, lambda: services.assign_reviewer(application, member, due_on=form.due_on.data,
                                                         assigned_by=_me()))
    if status is not None:
        return _render_assignments(call, status, manual_form=form)
    flash(f"{member.user.full_name} is assigned to {application.reference_number} and was e-mailed.", "success")
    return redirect(url_for("reviews.assignments", call_id=call.id))


@bp.route("/manage/calls/<int:call_id>/assignments/confirm", methods=["POST"])
@role_required(can_manage_review)
@keeps_input_on_csrf_error
def confirm_proposal(call_id: int):
    call = _call_to_manage(call_id)
    form = ProposalForm()
    ticked = set(form.pairs.data or [])
    if not form.validate_on_submit():
        return _render_assignments(call, 400, proposal_form=form, ticked=ticked)
    pairs = form.pair_values()
    if pairs is None:
        form.form_errors.append("The proposal was not understood; ask for a new one.")
        return _render_assignments(call, 400, proposal_form=form, ticked=ticked)
    created = []
    status = _act(form, lambda: created.extend(services.confirm_assignments(call, pairs, due_on=form.due_on.data,
                                                                            assigned_by=_me())))
    if status is not None:
        return _render_assignments(call, status, proposal_form=form, ticked=ticked)
    reviewers = len({a.reviewer_id for a in created})
    flash(f"{len(created)} assignment{'s' if len(created) != 1 else ''} made; {reviewers} reviewer"
          f"{'s were' if reviewers != 1 else ' was'} e-mailed.", "success")
    return redirect(url_for("reviews.assignments", call_id=call.id))


def _assignment_to_manage(assignment_id: int) -> ReviewAssignment:
    assignment = load_or_404(ReviewAssignment, assignment_id)
    _call_to_manage(assignment.call_id)
    return assignment


@bp.route("/manage/assignments/<int:assignment_id>/waive", methods=["POST"])
@role_required(can_manage_review)
@keeps_input_on_csrf_error
def waive_conflict(assignment_id: int):
    assignment = _assignment_to_manage(assignment_id)
    call = assignment.call
    form = WaiverForm()
    status = 400 if not form.validate_on_submit() else _act(form, lambda: services.waive_conflict(
        assignment, officer=_me(), reason=form.waiver_reason.data))
    if status is not None:
        return _render_assignments(call, status, failed_waiver=assignment.id, waiver_form=form)
    flash(f"The conflict is waived. {assignment.reviewer.full_name} was e-mailed and must attest before reading "
          "the application.", "success")
    return redirect(url_for("reviews.assignments", call_id=call.id) + f"#application-{assignment.application_id}")


@bp.route("/manage/assignments/<int:assignment_id>/withdraw", methods=["POST"])
@role_required(can_manage_review)
def withdraw_assignment(assignment_id: int):
    assignment = _assignment_to_manage(assignment_id)
    call_id, application_id, name = assignment.call_id, assignment.application_id, assignment.reviewer.full_name
    form = ActionForm()
    if form.validate_on_submit():
        if _act(form, lambda: services.withdraw_assignment(assignment, withdrawn_by=_me())) is None:
            flash(f"The assignment is withdrawn from {name}, who was e-mailed.", "success")
        else:
            flash(" ".join(form.form_errors), "danger")
    return redirect(url_for("reviews.assignments", call_id=call_id) + f"#application-{application_id}")


# --- the reviewer ---------------------------------------------------------------------------

@bp.route("/reviews")
@role_required(is_reviewer)
def my_reviews():
    def page_of(statuses, param):
        query = (select(ReviewAssignment).where(ReviewAssignment.reviewer_id == current_user.id,
                                                ReviewAssignment.status.in_(statuses))
                 .options(joinedload(ReviewAssignment.call),
                          joinedload(ReviewAssignment.application).options(*ASSIGNMENT_PAGE_LOADING))
                 .order_by(ReviewAssignment.due_on, ReviewAssignment.id))
        return paginate(query, param=param)

    open_ones = page_of(services.OPEN_STATUSES, "page")
    done = page_of([s for s in AssignmentStatus if s not in services.OPEN_STATUSES], "done_page")
    # Defence in depth: an assignment the rules would refuse is not even listed.
    for listed in (open_ones, done):
        listed.items = [a for a in listed.items if not conflict_reasons(current_user, a.application)]
    calls = {a.call_id: a.call for a in [*open_ones, *done]}
    return render_template("reviews/mine.html", open_assignments=open_ones, done_assignments=done,
                           today={call_id: services.local_today(call) for call_id, call in calls.items()},
                           stipends=stipends.stipends_of_reviewer(current_user))


def load_assignment_for_reviewer(assignment_id: int) -> ReviewAssignment:
    """The assignment if it is the current user's (404 otherwise: it is private), and only
    while they are not conflicted automatically on its application (403, checked again on
    every request, whatever the assignment's status)."""
    assignment = load_or_404(ReviewAssignment, assignment_id)
    require(can_respond_to_assignment(current_user, assignment), target=assignment, hide=True)
    require(not conflict_reasons(current_user, assignment.application), target=assignment,
            reason="conflicted automatically")
    return assignment


def _scoring_links(assignment: ReviewAssignment) -> dict[str, str]:
    """Links to the scoring pages (grants.reviews.scoring_views) that exist, by label."""
    links = {}
    for label, endpoint in (("Read the application", "reviews.read_application"),
                            ("Your review", "reviews.edit_review")):
        if endpoint in current_app.view_functions:
            links[label] = url_for(endpoint, assignment_id=assignment.id)
    return links


def _render_assignment(assignment: ReviewAssignment, status: int = 200, *, declare_form=None, decline_form=None,
                       attest_form=None):
    call = assignment.call
    return render_template(
        "reviews/assignment.html", assignment=assignment, application=assignment.application, call=call,
        declare_form=declare_form or DeclareConflictForm(formdata=None),
        decline_form=decline_form or DeclineForm(formdata=None), attest_form=attest_form or ActionForm(formdata=None),
        today=services.local_today(call), scoring_links=_scoring_links(assignment)), status


@bp.route("/reviews/assignments/<int:assignment_id>")
@login_required
def assignment_detail(assignment_id: int):
    return _render_assignment(load_assignment_for_reviewer(assignment_id))


@bp.route("/reviews/assignments/<int:assignment_id>/attest", methods=["POST"])
@login_required
def attest(assignment_id: int):
    assignment = load_assignment_for_reviewer(assignment_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _render_assignment(assignment, 400, attest_form=form)
    status = _act(form, lambda: services.attest_no_conflict(assignment, reviewer=_me()))
    if status is not None:
        return _render_assignment(assignment, status, attest_form=form)
    flash("Thank you. You can now read the application and write your review.", "success")
    return redirect(url_for("reviews.assignment_detail", assignment_id=assignment.id))


@bp.route("/reviews/assignments/<int:assignment_id>/declare-conflict", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def declare_conflict(assignment_id: int):
    assignment = load_assignment_for_reviewer(assignment_id)
    form = DeclareConflictForm()
    status = 400 if not form.validate_on_submit() else _act(form, lambda: services.declare_conflict(
        assignment, reviewer=_me(), reason=form.conflict_reason.data))
    if status is not None:
        return _render_assignment(assignment, status, declare_form=form)
    flash("Your declaration is recorded. The program officer will assign someone else or, if they waive it, ask "
          "you to attest.", "success")
    return redirect(url_for("reviews.assignment_detail", assignment_id=assignment.id))


@bp.route("/reviews/assignments/<int:assignment_id>/decline", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def decline_assignment(assignment_id: int):
    assignment = load_assignment_for_reviewer(assignment_id)
    form = DeclineForm()
    status = 400 if not form.validate_on_submit() else _act(form, lambda: services.decline_assignment(
        assignment, reviewer=_me(), reason=form.decline_reason.data))
    if status is not None:
        return _render_assignment(assignment, status, decline_form=form)
    flash("You have declined this assignment. The program officer sees your reason.", "success")
    return redirect(url_for("reviews.my_reviews"))


@bp.route("/panel-invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_panel_invitation(token: str):
    """The e-mailed link's page."""
    return _panel_invitation_page(services.find_panel_invitation(token))


@bp.route("/my/panel-invitations/<int:member_id>", methods=["GET", "POST"])
@login_required
def open_panel_invitation(member_id: int):
    """The same page from the invitation listed on the invited person's home page: only theirs."""
    return _panel_invitation_page(services.find_open_panel_invitation_of(member_id, user=current_user))


def _panel_invitation_page(member: PanelMember | None):
    if member is None:
        # Used, withdrawn or never issued: the same answer, so a link reveals nothing.
        return render_template("reviews/panel_invitation.html", member=None), 404
    form = ActionForm()
    status = 200
    try:
        services.check_panel_invitation_acceptable(member, user=current_user)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        status = exc.status_code
    if request.method == "POST" and status == 200 and form.validate_on_submit():
        accepting = request.form.get("answer", "accept") != "decline"
        call_title = member.call.title
        status = _act(form, lambda: (services.accept_panel_membership if accepting
                                     else services.decline_panel_membership)(member, user=_me()))
        if status is None:
            if accepting:
                flash(f"You are on the review panel of “{call_title}”. Your assignments will appear here.", "success")
                return redirect(url_for("reviews.my_reviews"))
            flash(f"You have declined to review for “{call_title}”. Thank you for letting us know.", "success")
            return redirect(url_for("core.home"))
    return render_template("reviews/panel_invitation.html", member=member, form=form,
                           # Someone logged in under another address learns nothing about the call's panel.
                           show_details=current_user.email == member.email), status
