"""Scoring pages: the reviewer's read-only application, review form and the other reviews; the
officers' ranking, one application's review detail and the scores CSV.

Every reviewer page loads the assignment (404 if missing or someone else's: its existence is
not revealed) and re-checks the conflict rules on each request (403 with the reason).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from grants.accounts.models import User
from grants.applications import services as application_services
from grants.applications.enums import ApplicationStatus
# The intake's CSV formula guard and document listing, shared rather than copied.
from grants.applications.intake_views import _document_slots, _utc_iso
from grants.applications.models import Application, ApplicationDocument
from grants.attachments.views import serve_stored_file
from grants.audit.services import record_event, record_security_event
from grants.calls.models import Call, RubricCriterion
from grants.core.errors import PermissionDenied
from grants.core.csv_export import csv_download, filename_slug
from grants.core.dates import format_instant
from grants.core.pagination import count_rows, paginate_list
from grants.core.types import utcnow
from grants.core.web import (
    commit_or_refuse,
    enum_arg,
    int_arg,
    keeps_input_on_csrf_error,
    load_or_404,
    require,
    role_required,
)
from grants.extensions import db
from grants.reviews import permissions, scoring
from grants.reviews.blueprint import bp
from grants.reviews.enums import AssignmentStatus, RankingFigure
from grants.reviews.models import CriterionScore, Review, ReviewAssignment
from grants.reviews.scoring_forms import review_form_class


def _me():
    return current_user._get_current_object()


# --- the reviewer's pages -------------------------------------------------------------------

def _why_not_readable(assignment: ReviewAssignment) -> str:
    if permissions.is_conflicted(current_user, assignment.application):
        return ("You cannot read or score this application: you have a conflict of interest with it (you work at "
                "its lead or a partner organisation, or on the application itself). Tell the program officer if "
                "this assignment should be removed.")
    if assignment.status is AssignmentStatus.CONFLICTED:
        return "You declared a conflict of interest with this application, so you cannot read or score it."
    if assignment.status is AssignmentStatus.DECLINED:
        return "You declined this assignment, so you cannot read or score the application."
    return ("Confirm that you have no conflict of interest with this application before you read or score it: "
            "answer the conflict declaration in your list of review assignments.")


def load_assignment(assignment_id: int) -> ReviewAssignment:
    """The current user's assignment whose application they may read: 404 when it is missing
    or someone else's; 403 with the reason when they are conflicted or have not attested."""
    assignment = load_or_404(ReviewAssignment, assignment_id)
    require(permissions.can_respond_to_assignment(current_user, assignment), target=assignment, hide=True)
    if not permissions.can_read_application_for_review(current_user, assignment):
        message = _why_not_readable(assignment)
        record_security_event("access.denied", target=assignment, details={
            "endpoint": request.endpoint or "", "method": request.method, "path": request.path, "status": 403,
            "reason": "conflicted or not attested", "assignment_status": assignment.status.value})
        raise PermissionDenied(message)
    return assignment


def _reviewer_context(assignment: ReviewAssignment) -> dict:
    call = assignment.call
    return {"assignment": assignment, "application": assignment.application, "call": call,
            "closes_at": scoring.review_closes_at(call), "phase_open": scoring.is_review_phase_open(call),
            "can_see_others": scoring.can_see_other_reviews(assignment)}


@bp.route("/reviews/assignments/<int:assignment_id>/application")
@login_required
def read_application(assignment_id: int):
    """The application as submitted, read-only, with its documents."""
    assignment = load_assignment(assignment_id)
    application = assignment.application
    return render_template(
        "reviews/scoring/application.html", **_reviewer_context(assignment),
        budget_by_category=application_services.budget_by_category(application),
        lead_share_cents=sum(line.amount_cents for line in application.budget_lines if line.partner_id is None),
        document_slots=_document_slots(application))


@bp.route("/reviews/assignments/<int:assignment_id>/documents/<int:document_id>")
@login_required
def review_document(assignment_id: int, document_id: int):
    assignment = load_assignment(assignment_id)
    document = load_or_404(ApplicationDocument, document_id)
    if document.application_id != assignment.application_id:
        require(False, target=document, hide=True)
    record_event("attachment.downloaded", target=document.stored_file, details={
        "application_id": assignment.application_id, "document_id": document.id, "assignment_id": assignment.id})
    db.session.commit()
    return serve_stored_file(document.stored_file)


def _version(form) -> int | None:
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        return None


def _save(form, change) -> int | None:
    """Commit ``change`` or put its refusal on the form (see commit_or_refuse). A lost race: a
    save from another window, or both creating the first draft at once."""
    def mark(exc):
        if isinstance(exc, scoring.ReviewIncomplete):
            form.mark_incomplete(exc.unscored, exc.needs_recommendation, exc.needs_confidence)

    return commit_or_refuse(form, change, stale_message=scoring.STALE_MESSAGE, mark=mark)


def _render_review(assignment: ReviewAssignment, form, status: int = 200):
    call = assignment.call
    review = assignment.review
    return render_template(
        "reviews/scoring/review.html", **_reviewer_context(assignment), form=form, review=review,
        criteria=call.criteria, editable=scoring.can_change_review(assignment),
        weighted_score=scoring.review_weighted_score(review, call.criteria)), status


@bp.route("/reviews/assignments/<int:assignment_id>/review", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_review(assignment_id: int):
    """The review: "Save draft" keeps any part; "Submit review" needs every score. A
    submitted review is revised by submitting it again until the review phase closes."""
    assignment = load_assignment(assignment_id)
    form = review_form_class(assignment.call.criteria)()
    if request.method == "GET":
        form.fill(assignment.review)
        return _render_review(assignment, form)
    if not form.validate_on_submit():
        return _render_review(assignment, form, 400)
    submitting = request.form.get("action") == "submit" or assignment.status is AssignmentStatus.SUBMITTED
    was_submitted = assignment.status is AssignmentStatus.SUBMITTED
    service = scoring.submit_review if submitting else scoring.save_review_draft
    status = _save(form, lambda: service(assignment, reviewer=_me(), expected_version=_version(form),
                                         entry=form.entry()))
    if status is not None:
        return _render_review(assignment, form, status)
    closes_at = scoring.review_closes_at(assignment.call)
    until = (f" until the review phase closes on {format_instant(closes_at, assignment.call.time_zone)}"
             if closes_at else " while the review phase is open")
    if was_submitted:
        flash(f"Your revised review is saved. You can revise it{until}.", "success")
    elif submitting:
        flash(f"Your review is submitted. You can still revise it{until}.", "success")
    else:
        flash("Your draft is saved. It counts only once you submit it.", "success")
    return redirect(url_for("reviews.edit_review", assignment_id=assignment.id))


@bp.route("/reviews/assignments/<int:assignment_id>/others")
@login_required
def other_reviews(assignment_id: int):
    """The other submitted reviews of the application, as "Reviewer 1, 2, …", never by name:
    only after the reviewer submitted their own, and only if the call shows them."""
    assignment = load_assignment(assignment_id)
    if assignment.status is not AssignmentStatus.SUBMITTED:
        raise PermissionDenied("The other reviews of this application are shown once you have submitted your own.")
    if not scoring.shows_other_reviews(assignment.call):
        raise PermissionDenied("In this call, reviewers do not see each other's reviews.")
    others = db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.application_id == assignment.application_id,
                                       ReviewAssignment.status == AssignmentStatus.SUBMITTED,
                                       ReviewAssignment.id != assignment.id)
        .options(lazyload(ReviewAssignment.reviewer), lazyload(ReviewAssignment.application),
                 selectinload(ReviewAssignment.review))
        .order_by(ReviewAssignment.id)).all()
    criteria = assignment.call.criteria
    return render_template(
        "reviews/scoring/others.html", **_reviewer_context(assignment), criteria=criteria,
        own=assignment.review, own_score=scoring.review_weighted_score(assignment.review, criteria),
        others=[(number, other.review, scoring.review_weighted_score(other.review, criteria))
                for number, other in enumerate(others, 1)])


# --- the officers' pages ------------------------------------------------------------------------

def _ranking_args(figures: scoring.CallFigures) -> tuple[RankingFigure, str | None]:
    figure = enum_arg("figure", RankingFigure) or RankingFigure.MEAN
    sub_panel = request.args.get("sub_panel") or None
    return figure, sub_panel if sub_panel in figures.sub_panels else None


@bp.route("/manage/calls/<int:call_id>/ranking")
@role_required(permissions.can_manage_review)
def ranking(call_id: int):
    call = load_or_404(Call, call_id)
    figures = scoring.call_figures(call)
    figure, sub_panel = _ranking_args(figures)
    reserve = int_arg("reserve", low=0, high=scoring.MAX_RESERVE_COUNT)
    reserve = scoring.DEFAULT_RESERVE_COUNT if reserve is None else reserve
    result = scoring.rank_call(call, figure=figure, sub_panel=sub_panel, figures=figures, with_applications=False,
                               reserve_count=reserve, fund_top=int_arg("fund_top", low=0, high=100_000))
    page = paginate_list(result.rows)
    scoring.attach_applications(page.items)
    return render_template("reviews/scoring/ranking.html", call=call, ranking=result, page=page,
                           figures=list(RankingFigure), reserve_count=reserve,
                           statuses=AssignmentStatus, counts=scoring.assignment_counts(call),
                           phase_open=scoring.is_review_phase_open(call), closes_at=scoring.review_closes_at(call))


@bp.route("/manage/calls/<int:call_id>/ranking/<int:application_id>")
@role_required(permissions.can_manage_review)
def ranking_detail(call_id: int, application_id: int):
    """One application's reviews criterion by criterion, with reviewers' names (officers only)."""
    call = load_or_404(Call, call_id)
    application = load_or_404(Application, application_id)
    if application.call_id != call.id or application.status is ApplicationStatus.DRAFT:
        require(False, target=application, hide=True)
    figures = scoring.call_figures(call)
    assignments = db.session.scalars(
        select(ReviewAssignment).where(ReviewAssignment.application_id == application.id)
        .options(lazyload(ReviewAssignment.application), selectinload(ReviewAssignment.review))
        .order_by(ReviewAssignment.id)).all()
    submitted = [a for a in assignments if a.status is AssignmentStatus.SUBMITTED and a.review is not None]
    by_review = figures.by_review()
    sub_panels = scoring.sub_panels_of(call)
    panel_figures = [(name, figures.for_application(application.id, name)) for name in figures.sub_panels]
    return render_template(
        "reviews/scoring/ranking_detail.html", call=call, application=application, criteria=call.criteria,
        overall=figures.for_application(application.id), panel_figures=panel_figures, assignments=assignments,
        submitted=submitted, by_review=by_review, sub_panels=sub_panels, threshold=figures.threshold,
        requested_cents=application.requested_cents)


@bp.route("/manage/calls/<int:call_id>/ranking.csv")
@role_required(permissions.can_manage_review)
def ranking_csv(call_id: int):
    """One row per submitted review and criterion, with the review's figures."""
    call = load_or_404(Call, call_id)
    figures = scoring.call_figures(call)
    _figure, sub_panel = _ranking_args(figures)
    by_review = figures.by_review()
    query = (
        select(Application.reference_number, Application.title, User.full_name, ReviewAssignment.reviewer_id,
               Review.id.label("review_id"), RubricCriterion.name, RubricCriterion.weight, RubricCriterion.scale_min,
               RubricCriterion.scale_max, CriterionScore.score, CriterionScore.comment, Review.recommendation,
               Review.confidence, ReviewAssignment.submitted_at)
        .select_from(CriterionScore)
        .join(Review, Review.id == CriterionScore.review_id)
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .join(Application, Application.id == ReviewAssignment.application_id)
        .join(User, User.id == ReviewAssignment.reviewer_id)
        .join(RubricCriterion, RubricCriterion.id == CriterionScore.criterion_id)
        .where(ReviewAssignment.call_id == call.id, ReviewAssignment.status == AssignmentStatus.SUBMITTED,
               Application.status.in_(scoring.RANKED_STATUSES))
        .order_by(Application.reference_number, User.full_name, Review.id, RubricCriterion.position,
                  RubricCriterion.id))
    if sub_panel is not None:
        # The reviewers of that sub-panel (the figures place each review by its reviewer's).
        query = query.where(Review.id.in_([r.review_id for r in figures.reviews if r.sub_panel == sub_panel]))
    header = ["Reference", "Title", "Reviewer", "Reviewer sub-panel", "Criterion", "Weight", "Score", "Scale",
              "Comment", "Review weighted score (0-100)", "Review z-score", "Recommendation", "Confidence", "Submitted at (UTC)"]

    def rows():
        for row in db.session.execute(query.execution_options(yield_per=1000)):
            review = by_review.get(row.review_id)
            yield [row.reference_number, row.title, row.full_name, review.sub_panel if review else "", row.name,
                   row.weight, row.score, f"{row.scale_min}–{row.scale_max}", row.comment,
                   f"{review.weighted_score:.2f}" if review else "",
                   f"{review.z_score:.4f}" if review and review.z_score is not None else "",
                   row.recommendation.label if row.recommendation else "",
                   row.confidence.label if row.confidence else "", _utc_iso(row.submitted_at)]

    slug = filename_slug(call.title)
    # Reviewers' names and scores: who took them is on the record.
    record_event("call.review_scores_exported", actor=_me(), target=call,
                 details={"rows": count_rows(query, scalars=False), "sub_panel": sub_panel or ""})
    db.session.commit()
    return csv_download(f"{slug}-{call.id}-review-scores-{utcnow():%Y-%m-%d}.csv", header, rows())
