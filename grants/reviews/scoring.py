"""Online scoring: saving, submitting and revising a review, and the figures the funder ranks by.

Rules (issue #4):

- A review follows the call's rubric: per criterion a score on the criterion's scale
  [scale_min, scale_max] and a comment; overall strengths, weaknesses and a recommendation.
- Drafts save with any subset of scores. Submission requires every criterion scored and a
  recommendation; a refused submission changes nothing.
- The review phase is open until ``ReviewSettings.review_closes_at`` by the server clock
  (open while it is not set). After that nothing about a review changes.
- Revising: a SUBMITTED review stays SUBMITTED while it is revised. A revision must be as
  complete as a submission (so a submitted review is never left half-scored and always
  counts in the figures) and is audited with each changed field's value before and after.
  The assignment table's SUBMITTED → IN_PROGRESS move is not used by scoring.
- Every save is checked against the version of the review the reviewer's form was built from;
  a save over a newer version is refused (StaleEdit), never merged silently.

Figures (all over SUBMITTED reviews only; drafts never count):

- Weighted score of a review, on 0–100::

      100 × Σ_c w_c · (s_c − min_c) / (max_c − min_c)  /  Σ_c w_c

  over the criteria c the review scored (all of them, for a submitted review), with w_c the
  criterion's weight and [min_c, max_c] its scale. Computed for the whole call by ONE grouped
  SQL query (GROUP BY review), never per application.
- Per application: count, mean, median (the mean of the middle two for an even count),
  spread = max − min, and a disagreement flag when spread > the call's
  ``ReviewSettings.disagreement_threshold`` (25 when the call has no settings row).
- z-score of a review = (its weighted score − the reviewer's mean) / the reviewer's population
  standard deviation, both over all of that reviewer's submitted reviews in the call. With
  fewer than 2 reviews, or no spread at all, a reviewer's z-scores are undefined (shown as
  "—", left out of means).
- Normalised figure of an application = the mean of its reviews' defined z-scores (undefined
  when none is defined).
- Per sub-panel: the same figures over the reviews by members of that sub-panel (the
  reviewer's ``PanelMember.sub_panel`` on the call); z-scores stay those of the whole call.
- Confidence: each submitted review says how sure its reviewer is (low, medium, high). The
  confidence-weighted mean weighs the weighted scores 1, 2, 3 (a review from before
  confidence was asked counts as medium). It is shown beside the plain mean, never instead.
- Percentile of an application within the ranked applications (of the call, or of the
  sub-panel's figures) by the chosen figure: 100 × (those below + half of the others equal
  to it + ½) / how many are ranked; the top of 10 distinct figures is at 95.

Ranking: the applications that went to review (in review, awarded, declined), ordered by the
chosen figure (highest first), ties broken by more reviews first, then by reference number;
those without the figure (no submitted review, or no defined z-score) follow, unranked. The
funding line: walking down the ranked applications accumulating their requested amounts,
those whose cumulative amount is within the call's total funds are above the line, and the
line is drawn after the last of them. The reserve list: the next few below the line, in
rank order, should an award be declined. A tie: applications with the same figure; a tie
across the funding line is flagged, with the rule that broke it. "What if": the officer
draws the line after any rank and sees what those above it request against the total funds.

Service functions change objects and record audit events; none commits.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import joinedload, lazyload

from grants.applications.enums import ApplicationStatus
from grants.applications.models import Application, BudgetLine
from grants.audit.services import record_event
from grants.calls.models import Call, RubricCriterion
from grants.core.errors import DomainError, PermissionDenied, StaleEdit, TransitionNotAllowed
from grants.core.lifecycle import apply_transition
from grants.core.dates import format_instant
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.enums import ASSIGNMENT_TRANSITIONS, AssignmentStatus, Confidence, Recommendation, RankingFigure
from grants.reviews.models import CriterionScore, PanelMember, Review, ReviewAssignment, ReviewSettings

DEFAULT_DISAGREEMENT_THRESHOLD = 25
# How many applications below the funding line the reserve list shows unless the officer asks.
DEFAULT_RESERVE_COUNT = 3
MAX_RESERVE_COUNT = 20
# A review from before confidence was asked weighs as a medium one.
UNSTATED_CONFIDENCE_WEIGHT = Confidence.MEDIUM.weight
TIE_RULE = "more submitted reviews first, then the lower reference number"
# Applications that went to review; their figures are ranked.
RANKED_STATUSES = (ApplicationStatus.IN_REVIEW, ApplicationStatus.AWARDED, ApplicationStatus.DECLINED)

STALE_MESSAGE = ("You (in another window) or someone else saved this review after you opened this page, so "
                 "your change was not saved. What you entered is kept below: reload the page to see the saved "
                 "review, then apply your change again.")


class ReviewPhaseClosed(DomainError):
    status_code = 409


class ReviewIncomplete(DomainError):
    """Submission refused: criteria unscored, no recommendation or no confidence.
    ``unscored``: the criteria's names."""

    status_code = 400

    def __init__(self, unscored: list[str], needs_recommendation: bool, needs_confidence: bool = False):
        parts = []
        if unscored:
            parts.append("score every criterion — not yet scored: " + "; ".join(unscored))
        if needs_recommendation:
            parts.append("choose a recommendation")
        if needs_confidence:
            parts.append("say how confident you are in this review")
        super().__init__("The review was not submitted. Before submitting, " + ", and ".join(parts) + ". "
                         "Nothing was saved: what you entered is kept below.")
        self.unscored = unscored
        self.needs_recommendation = needs_recommendation
        self.needs_confidence = needs_confidence


@dataclass
class ReviewEntry:
    """What a reviewer's form holds: scores and comments by criterion id, the overall parts."""

    scores: dict[int, int | None] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)
    strengths: str = ""
    weaknesses: str = ""
    recommendation: Recommendation | None = None
    confidence: Confidence | None = None


# --- the review phase ---------------------------------------------------------------------

def review_settings(call: Call) -> ReviewSettings | None:
    return call.review_settings


def review_closes_at(call: Call) -> datetime | None:
    settings = review_settings(call)
    return settings.review_closes_at if settings is not None else None


def is_review_phase_open(call: Call, now: datetime | None = None) -> bool:
    """Open until ``review_closes_at`` (exclusive) by the server clock; open while it is not set."""
    closes_at = review_closes_at(call)
    return closes_at is None or (now or utcnow()) < closes_at


def shows_other_reviews(call: Call) -> bool:
    settings = review_settings(call)
    return settings.show_other_reviews if settings is not None else True


def disagreement_threshold(call: Call) -> int:
    settings = review_settings(call)
    return settings.disagreement_threshold if settings is not None else DEFAULT_DISAGREEMENT_THRESHOLD


def can_change_review(assignment: ReviewAssignment, now: datetime | None = None) -> bool:
    """Whether the reviewer's form is editable: in progress or submitted, phase open, application in review."""
    return (assignment.status in (AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED)
            and assignment.application.status is ApplicationStatus.IN_REVIEW
            and is_review_phase_open(assignment.call, now))


def can_see_other_reviews(assignment: ReviewAssignment) -> bool:
    """After submitting their own review, unless the call keeps reviews to themselves."""
    return assignment.status is AssignmentStatus.SUBMITTED and shows_other_reviews(assignment.call)


# --- saving, submitting, revising ---------------------------------------------------------

def _check_may_change(assignment: ReviewAssignment, reviewer, now: datetime | None) -> None:
    if reviewer is None or assignment.reviewer_id != reviewer.id:
        raise PermissionDenied("Only the assigned reviewer can change this review.")
    if assignment.status not in (AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED):
        raise TransitionNotAllowed(f"This assignment is {assignment.status.label.lower()}; it has no review to "
                                   "change.")
    if assignment.application.status is not ApplicationStatus.IN_REVIEW:
        raise DomainError(f"This application is {assignment.application.status.label.lower()}; its reviews can "
                          "no longer change. Nothing was saved.")
    if not is_review_phase_open(assignment.call, now):
        when = format_instant(review_closes_at(assignment.call), assignment.call.time_zone)
        raise ReviewPhaseClosed(f"The review phase closed on {when}; reviews can no longer be changed. "
                                "Nothing was saved.")


def _check_version(review: Review | None, expected_version: int | None) -> None:
    """``expected_version`` 0 means the form was built before any draft existed."""
    if expected_version is None:
        return
    current = review.version if review is not None else 0
    if int(expected_version) != current:
        raise StaleEdit(STALE_MESSAGE)


def _checked_scores(criteria: list[RubricCriterion], entry: ReviewEntry) -> dict[int, int | None]:
    scores = {}
    for criterion in criteria:
        score = entry.scores.get(criterion.id)
        if score is not None and not (criterion.scale_min <= score <= criterion.scale_max):
            raise DomainError(f"{criterion.name} is scored from {criterion.scale_min} to {criterion.scale_max}; "
                              f"{score} is not on its scale. Nothing was saved.")
        scores[criterion.id] = score
    return scores


def _snapshot(review: Review | None, criteria: list[RubricCriterion]) -> dict[str, object]:
    """A review's content by readable field name, for before/after records."""
    snapshot: dict[str, object] = {}
    for criterion in criteria:
        score = review.score_for(criterion.id) if review is not None else None
        snapshot[f"score: {criterion.name}"] = score.score if score is not None else None
        snapshot[f"comment: {criterion.name}"] = score.comment if score is not None else ""
    snapshot["strengths"] = review.strengths if review is not None else ""
    snapshot["weaknesses"] = review.weaknesses if review is not None else ""
    recommendation = review.recommendation if review is not None else None
    snapshot["recommendation"] = recommendation.label if recommendation is not None else None
    confidence = review.confidence if review is not None else None
    snapshot["confidence"] = confidence.label if confidence is not None else None
    return snapshot


def _changes(before: dict, after: dict) -> dict[str, dict]:
    return {key: {"from": before[key], "to": after[key]} for key in after if before.get(key) != after[key]}


def _write(assignment: ReviewAssignment, entry: ReviewEntry, scores: dict[int, int | None]) -> Review:
    review = assignment.review
    if review is None:
        review = Review(assignment=assignment)
        db.session.add(review)
    for criterion_id, score in scores.items():
        row = review.score_for(criterion_id)
        if row is None:
            row = CriterionScore(criterion_id=criterion_id)
            review.scores.append(row)
        row.score = score
        row.comment = (entry.comments.get(criterion_id) or "").strip()
    review.strengths = (entry.strengths or "").strip()
    review.weaknesses = (entry.weaknesses or "").strip()
    review.recommendation = entry.recommendation
    review.confidence = entry.confidence
    # Always touch the row: its version goes up even when only scores changed, so a second
    # window's save based on the older version is refused.
    review.updated_at = utcnow()
    db.session.flush()
    return review


def _refuse_if_incomplete(criteria: list[RubricCriterion], scores: dict[int, int | None],
                          entry: ReviewEntry) -> None:
    unscored = [criterion.name for criterion in criteria if scores.get(criterion.id) is None]
    if unscored or entry.recommendation is None or entry.confidence is None:
        raise ReviewIncomplete(unscored, entry.recommendation is None, entry.confidence is None)


def save_review_draft(assignment: ReviewAssignment, *, reviewer, expected_version: int | None, entry: ReviewEntry,
                      now: datetime | None = None) -> Review:
    """Save what the reviewer entered so far (any score may be missing) as the IN_PROGRESS draft.

    Refused (nothing changed): not the assigned reviewer (PermissionDenied); assignment not in
    progress — a submitted review is changed through submit_review (TransitionNotAllowed);
    phase closed (ReviewPhaseClosed); application no longer in review, a score off its scale
    (DomainError); the review changed since ``expected_version`` (StaleEdit).
    Side effects: creates the Review on the first save; audit event ``review.draft_saved``.
    """
    _check_may_change(assignment, reviewer, now)
    if assignment.status is AssignmentStatus.SUBMITTED:
        raise TransitionNotAllowed("This review is submitted, so it stays complete: save your changes with "
                                   "“Submit revised review”. Nothing was saved.")
    _check_version(assignment.review, expected_version)
    criteria = assignment.call.criteria
    scores = _checked_scores(criteria, entry)
    review = _write(assignment, entry, scores)
    record_event("review.draft_saved", actor=reviewer, target=review, details={
        "assignment_id": assignment.id, "application_id": assignment.application_id,
        "scored": sum(1 for score in scores.values() if score is not None), "criteria": len(criteria)})
    return review


def submit_review(assignment: ReviewAssignment, *, reviewer, expected_version: int | None, entry: ReviewEntry,
                  now: datetime | None = None) -> Review:
    """Submit the review, or save a revision of a submitted one.

    Requires every criterion scored, a recommendation and the reviewer's confidence
    (ReviewIncomplete lists what is missing). An IN_PROGRESS assignment becomes SUBMITTED (submitted_at set; audit
    ``review.submitted`` with the weighted score). A SUBMITTED one stays SUBMITTED; the
    change is audited as ``review.revised`` with every changed field before and after (no
    event when nothing changed). Other refusals as in save_review_draft; nothing changes.
    """
    _check_may_change(assignment, reviewer, now)
    _check_version(assignment.review, expected_version)
    criteria = assignment.call.criteria
    scores = _checked_scores(criteria, entry)
    _refuse_if_incomplete(criteria, scores, entry)
    revising = assignment.status is AssignmentStatus.SUBMITTED
    before = _snapshot(assignment.review, criteria)
    review = _write(assignment, entry, scores)
    score = review_weighted_score(review, criteria)
    if revising:
        changes = _changes(before, _snapshot(review, criteria))
        if changes:
            record_event("review.revised", actor=reviewer, target=review, details={
                "assignment_id": assignment.id, "application_id": assignment.application_id,
                "weighted_score": round(score, 2), **changes})
    else:
        apply_transition(assignment, AssignmentStatus.SUBMITTED, ASSIGNMENT_TRANSITIONS, actor=reviewer,
                         action="review.submitted", details={"review_id": review.id,
                                                             "application_id": assignment.application_id,
                                                             "weighted_score": round(score, 2)})
    return review


# --- arithmetic ---------------------------------------------------------------------------

def weighted_score(scored: Iterable[tuple[int, int, int, int]]) -> float | None:
    """100 × Σ w·(s − min)/(max − min) / Σ w over (weight, scale_min, scale_max, score) tuples.

    The same formula the ranking's grouped query computes; None when nothing is scored.
    """
    total = weight_sum = 0.0
    for weight, low, high, score in scored:
        total += weight * (score - low) / (high - low)
        weight_sum += weight
    return 100.0 * total / weight_sum if weight_sum else None


def review_weighted_score(review: Review | None, criteria: list[RubricCriterion]) -> float | None:
    if review is None:
        return None
    scored = []
    for criterion in criteria:
        row = review.score_for(criterion.id)
        if row is not None and row.score is not None:
            scored.append((criterion.weight, criterion.scale_min, criterion.scale_max, row.score))
    return weighted_score(scored)


def z_scores(scores: list[float]) -> list[float | None]:
    """Each score's z against the mean and population standard deviation of ``scores`` (one
    reviewer's scores); all None with fewer than 2 scores or no spread."""
    if len(scores) < 2:
        return [None] * len(scores)
    mean = statistics.fmean(scores)
    spread = statistics.pstdev(scores)
    if spread <= 1e-9:
        return [None] * len(scores)
    return [(score - mean) / spread for score in scores]


@dataclass(frozen=True)
class ApplicationFigures:
    """The figures of one application's submitted reviews (or of one sub-panel's of them)."""

    count: int = 0
    mean: float | None = None
    median: float | None = None
    spread: float | None = None
    mean_z: float | None = None
    is_disagreement: bool = False
    confidence_weighted_mean: float | None = None
    # How many of the reviews are of each confidence (None: given before confidence was asked).
    confidences: tuple[tuple[Confidence | None, int], ...] = ()

    def figure(self, which: RankingFigure) -> float | None:
        return {RankingFigure.MEAN: self.mean, RankingFigure.MEDIAN: self.median,
                RankingFigure.NORMALISED: self.mean_z,
                RankingFigure.CONFIDENCE_WEIGHTED: self.confidence_weighted_mean}[which]

    @property
    def confidence_summary(self) -> str:
        """"2 high · 1 low" (most confident first)."""
        return " · ".join(f"{count} {confidence.label.lower() if confidence else 'not stated'}"
                          for confidence, count in self.confidences)


def summarise(scores: list[float], z: list[float | None] = (), *,
              threshold: float = DEFAULT_DISAGREEMENT_THRESHOLD,
              confidences: list[Confidence | None] = ()) -> ApplicationFigures:
    """Count, mean, median, spread (max − min), mean of the defined z-scores, whether the
    spread exceeds ``threshold``, and the mean weighted by ``confidences`` (one per score)."""
    if not scores:
        return ApplicationFigures()
    spread = max(scores) - min(scores)
    defined = [value for value in z if value is not None]
    stated = list(confidences) or [None] * len(scores)
    weights = [c.weight if c is not None else UNSTATED_CONFIDENCE_WEIGHT for c in stated]
    weighted = sum(w * s for w, s in zip(weights, scores)) / sum(weights)
    order = [Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, None]
    counted = tuple((c, stated.count(c)) for c in order if stated.count(c))
    return ApplicationFigures(count=len(scores), mean=statistics.fmean(scores), median=statistics.median(scores),
                              spread=spread, mean_z=statistics.fmean(defined) if defined else None,
                              is_disagreement=spread > threshold, confidence_weighted_mean=weighted,
                              confidences=counted)


# --- the figures of a call ------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewFigure:
    """One submitted review's weighted score, its reviewer's sub-panel and its z-score."""

    review_id: int
    assignment_id: int
    application_id: int
    reviewer_id: int
    sub_panel: str
    weighted_score: float
    z_score: float | None
    confidence: Confidence | None = None


@dataclass
class CallFigures:
    reviews: list[ReviewFigure]
    threshold: int
    sub_panels: list[str]  # the call's named sub-panels, sorted

    def by_review(self) -> dict[int, ReviewFigure]:
        return {review.review_id: review for review in self.reviews}

    def by_application(self, sub_panel: str | None = None) -> dict[int, ApplicationFigures]:
        """Figures per application id over all submitted reviews, or over one sub-panel's."""
        grouped: dict[int, list[ReviewFigure]] = defaultdict(list)
        for review in self.reviews:
            if sub_panel is None or review.sub_panel == sub_panel:
                grouped[review.application_id].append(review)
        return {application_id: summarise([r.weighted_score for r in reviews], [r.z_score for r in reviews],
                                          threshold=self.threshold, confidences=[r.confidence for r in reviews])
                for application_id, reviews in grouped.items()}

    def for_application(self, application_id: int, sub_panel: str | None = None) -> ApplicationFigures:
        return self.by_application(sub_panel).get(application_id, ApplicationFigures())


def _weighted_scores_query(call_id: int):
    """One row per submitted review of the call: its weighted score, in one grouped query."""
    fraction = (cast(CriterionScore.score - RubricCriterion.scale_min, Float)
                / cast(RubricCriterion.scale_max - RubricCriterion.scale_min, Float))
    return (select(Review.id.label("review_id"), ReviewAssignment.id.label("assignment_id"),
                   ReviewAssignment.application_id, ReviewAssignment.reviewer_id, Review.confidence,
                   (100.0 * func.sum(RubricCriterion.weight * fraction)
                    / cast(func.sum(RubricCriterion.weight), Float)).label("weighted_score"))
            .join(ReviewAssignment, Review.assignment_id == ReviewAssignment.id)
            .join(CriterionScore, CriterionScore.review_id == Review.id)
            .join(RubricCriterion, RubricCriterion.id == CriterionScore.criterion_id)
            .where(ReviewAssignment.call_id == call_id, ReviewAssignment.status == AssignmentStatus.SUBMITTED,
                   CriterionScore.score.is_not(None))
            .group_by(Review.id, ReviewAssignment.id, ReviewAssignment.application_id, ReviewAssignment.reviewer_id,
                      Review.confidence)
            .order_by(Review.id))


def sub_panels_of(call: Call) -> dict[int, str]:
    """Each panel member's sub-panel on ``call``, by user id."""
    rows = db.session.execute(select(PanelMember.user_id, PanelMember.sub_panel)
                              .where(PanelMember.call_id == call.id, PanelMember.user_id.is_not(None))
                              .order_by(PanelMember.id)).all()
    return {user_id: sub_panel for user_id, sub_panel in rows}


def call_figures(call: Call) -> CallFigures:
    """Every submitted review's weighted score and z-score for ``call``: three queries (the
    grouped scores, the sub-panels, the settings) whatever the number of applications."""
    rows = db.session.execute(_weighted_scores_query(call.id)).all()
    panels = sub_panels_of(call)
    by_reviewer: dict[int, list] = defaultdict(list)
    for row in rows:
        by_reviewer[row.reviewer_id].append(row)
    z_by_review: dict[int, float | None] = {}
    for reviewer_rows in by_reviewer.values():
        # Rounded: the same arithmetic gives the same figure on every database.
        for row, z in zip(reviewer_rows, z_scores([round(r.weighted_score, 9) for r in reviewer_rows])):
            z_by_review[row.review_id] = z
    reviews = [ReviewFigure(review_id=row.review_id, assignment_id=row.assignment_id,
                            application_id=row.application_id, reviewer_id=row.reviewer_id,
                            sub_panel=panels.get(row.reviewer_id, ""), weighted_score=round(row.weighted_score, 9),
                            z_score=z_by_review[row.review_id], confidence=row.confidence)
               for row in rows]
    return CallFigures(reviews=reviews, threshold=disagreement_threshold(call),
                       sub_panels=sorted({name for name in panels.values() if name}))


# --- the ranking ------------------------------------------------------------------------------

def funding_line_position(requested: list[int], total_funds_cents: int | None) -> int | None:
    """How many of the ranked applications (``requested``, in rank order) are above the
    funding line: those whose cumulative requested amount is within the total funds. None
    when the call has no total."""
    if total_funds_cents is None:
        return None
    cumulative = 0
    for position, amount in enumerate(requested):
        cumulative += amount
        if cumulative > total_funds_cents:
            return position
    return len(requested)


@dataclass
class RankingRow:
    application_id: int
    reference_number: str
    requested_cents: int
    figures: ApplicationFigures
    rank: int | None = None  # None: no figure, so not ranked
    cumulative_cents: int | None = None
    is_above_line: bool = False
    percentile: float | None = None
    # Another ranked application has the same figure; the tie rule ordered them.
    is_tied: bool = False
    # 1, 2, … on the reserve list under the funding line; None when not on it.
    reserve_position: int | None = None
    # Loaded for the rows a page shows (attach_applications), not for every ranked row.
    application: Application | None = None


@dataclass
class Ranking:
    call: Call
    figure: RankingFigure
    sub_panel: str | None
    rows: list[RankingRow]
    # How many ranked rows are above the funding line (the line is drawn after that many);
    # None when the call has no total funds.
    funded_count: int | None
    sub_panels: list[str]
    threshold: int
    # The applications straddling the funding line have the same figure (TIE_RULE broke it).
    is_tie_at_line: bool = False
    what_if: WhatIf | None = None

    @property
    def reserve(self) -> list[RankingRow]:
        return [row for row in self.rows if row.reserve_position is not None]

    @property
    def tie_rule(self) -> str:
        return TIE_RULE

    @property
    def ranked(self) -> list[RankingRow]:
        return [row for row in self.rows if row.rank is not None]

    @property
    def funding_line_cents(self) -> int | None:
        """What the applications above the funding line request together."""
        if not self.funded_count:
            return None
        return self.ranked[self.funded_count - 1].cumulative_cents

    @property
    def unranked(self) -> list[RankingRow]:
        return [row for row in self.rows if row.rank is None]


@dataclass(frozen=True)
class WhatIf:
    """The officer's own line: fund the top ``count`` ranked applications."""

    count: int
    requested_cents: int
    total_funds_cents: int | None

    @property
    def remaining_cents(self) -> int | None:
        """What would be left of the total funds (negative: over by that much)."""
        return None if self.total_funds_cents is None else self.total_funds_cents - self.requested_cents


def percentiles(values: list[float]) -> list[float]:
    """Each value's percentile among ``values``: 100 × (below + (equal − 1)/2 + ½) / n."""
    count = len(values)
    ordered = sorted(values)
    result = []
    for value in values:
        below, equal = bisect_left(ordered, value), bisect_right(ordered, value) - bisect_left(ordered, value)
        result.append(100.0 * (below + equal / 2) / count)
    return result


def _ranked_applications(call: Call) -> list:
    """The ids and references of the ranked applications: ranking needs no more of them."""
    return db.session.execute(
        select(Application.id, Application.reference_number)
        .where(Application.call_id == call.id, Application.status.in_(RANKED_STATUSES))
        .order_by(Application.reference_number)).all()


def attach_applications(rows: list[RankingRow]) -> None:
    """Load the application (and its lead organisation) of each of ``rows``: one query."""
    ids = [row.application_id for row in rows if row.application is None]
    if not ids:
        return
    loaded = {application.id: application for application in db.session.scalars(
        select(Application).where(Application.id.in_(ids))
        .options(lazyload(Application.call), joinedload(Application.lead_organisation),
                 lazyload(Application.answers), lazyload(Application.partners), lazyload(Application.budget_lines),
                 lazyload(Application.documents), lazyload(Application.collaborators)))}
    for row in rows:
        row.application = row.application or loaded[row.application_id]


def _requested_by_application(call: Call) -> dict[int, int]:
    return dict(db.session.execute(
        select(BudgetLine.application_id, func.sum(BudgetLine.amount_cents))
        .join(Application, Application.id == BudgetLine.application_id)
        .where(Application.call_id == call.id, Application.status.in_(RANKED_STATUSES))
        .group_by(BudgetLine.application_id)).all())


def rank_key(figure: RankingFigure):
    """Highest figure first, then more reviews, then reference number."""
    return lambda row: (-row.figures.figure(figure), -row.figures.count, row.reference_number or "")


def rank_call(call: Call, *, figure: RankingFigure = RankingFigure.MEAN, sub_panel: str | None = None,
              figures: CallFigures | None = None, with_applications: bool = True,
              reserve_count: int = DEFAULT_RESERVE_COUNT, fund_top: int | None = None) -> Ranking:
    """The call's applications in review, ranked by ``figure`` (over ``sub_panel``'s reviews
    only, when given), with cumulative requested amounts and the funding line; percentiles,
    ties, the reserve list (``reserve_count`` under the line) and, with ``fund_top``, what
    funding the top that many would cost.

    A constant number of queries: the applications, their requested totals and call_figures.
    A page showing some of the rows passes ``with_applications=False`` and attaches the
    applications of those rows only (attach_applications).
    """
    figures = figures or call_figures(call)
    if sub_panel is not None and sub_panel not in figures.sub_panels:
        sub_panel = None
    by_application = figures.by_application(sub_panel)
    requested = _requested_by_application(call)
    rows = [RankingRow(application_id=row.id, reference_number=row.reference_number or "",
                       requested_cents=int(requested.get(row.id) or 0),
                       figures=by_application.get(row.id, ApplicationFigures()))
            for row in _ranked_applications(call)]
    ranked = sorted((row for row in rows if row.figures.figure(figure) is not None), key=rank_key(figure))
    unranked = [row for row in rows if row.figures.figure(figure) is None]
    funded = funding_line_position([row.requested_cents for row in ranked], call.total_funds_cents)
    cumulative = 0
    for rank, row in enumerate(ranked, 1):
        cumulative += row.requested_cents
        row.rank, row.cumulative_cents = rank, cumulative
        row.is_above_line = funded is not None and rank <= funded
    values = [round(row.figures.figure(figure), 9) for row in ranked]
    how_many = Counter(values)
    for row, value, percentile in zip(ranked, values, percentiles(values)):
        row.percentile = percentile
        row.is_tied = how_many[value] > 1
    tie_at_line = bool(funded) and funded < len(ranked) and values[funded - 1] == values[funded]
    if funded is not None:
        for position, row in enumerate(ranked[funded:funded + max(0, min(reserve_count, MAX_RESERVE_COUNT))], 1):
            row.reserve_position = position
    what_if = None
    if fund_top is not None and ranked:
        count = max(0, min(fund_top, len(ranked)))
        what_if = WhatIf(count=count, requested_cents=ranked[count - 1].cumulative_cents if count else 0,
                         total_funds_cents=call.total_funds_cents)
    if with_applications:
        attach_applications(ranked + unranked)
    return Ranking(call=call, figure=figure, sub_panel=sub_panel, rows=ranked + unranked, funded_count=funded,
                   sub_panels=figures.sub_panels, threshold=figures.threshold, is_tie_at_line=tie_at_line,
                   what_if=what_if)


def assignment_counts(call: Call) -> dict[AssignmentStatus, int]:
    counts = dict(db.session.execute(select(ReviewAssignment.status, func.count(ReviewAssignment.id))
                                     .where(ReviewAssignment.call_id == call.id)
                                     .group_by(ReviewAssignment.status)).all())
    return {status: counts.get(status, 0) for status in AssignmentStatus}
