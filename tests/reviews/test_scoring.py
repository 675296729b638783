"""Scoring: the arithmetic (weights, mean, median, spread, z-scores) on hand-computed cases, the
grouped query that computes it for a call, and the services that save, submit and revise."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.audit.models import AuditEvent
from grants.calls.models import RubricCriterion
from grants.core.errors import DomainError, PermissionDenied, StaleEdit, TransitionNotAllowed
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews import scoring
from grants.reviews.enums import AssignmentStatus, Confidence, Recommendation
from grants.reviews.scoring import ReviewEntry, ReviewIncomplete, ReviewPhaseClosed
from tests.applications.fixtures import make_applicant, make_call
from tests.reviews.fixtures import assign, make_panel_member
from tests.reviews.scoring_factories import light_application, review_settings, scored, submitted_review


@pytest.fixture
def call():
    return make_call()


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def reviewers(make_user, make_organisation):
    university = make_organisation("Northgate University", kind=OrganisationKind.MEMBER_INSTITUTION)
    return [make_user(Role.REVIEWER, organisation=university, full_name=f"Reviewer {name}")
            for name in ("Ada", "Ben", "Cy")]


def _events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# --- weighted score -------------------------------------------------------------------------

def test_weighted_score_60_40_on_1_to_5():
    # 100 × (60·(5−1)/4 + 40·(3−1)/4) / 100 = 100 × (0.6·1 + 0.4·0.5) = 80.
    assert scoring.weighted_score([(60, 1, 5, 5), (40, 1, 5, 3)]) == pytest.approx(80.0)


@pytest.mark.parametrize("scores, expected", [
    ((1, 1), 0.0), ((5, 5), 100.0), ((3, 3), 50.0), ((1, 5), 40.0), ((5, 1), 60.0)])
def test_weighted_score_bounds_and_weights(scores, expected):
    assert scoring.weighted_score([(60, 1, 5, scores[0]), (40, 1, 5, scores[1])]) == pytest.approx(expected)


def test_weighted_score_mixes_scales_and_unequal_weights():
    # 0–10 with weight 1 scored 7: 0.7; 1–5 with weight 3 scored 2: 0.25.
    # 100 × (1·0.7 + 3·0.25) / 4 = 100 × 1.45 / 4 = 36.25.
    assert scoring.weighted_score([(1, 0, 10, 7), (3, 1, 5, 2)]) == pytest.approx(36.25)


def test_weighted_score_of_nothing_is_undefined():
    assert scoring.weighted_score([]) is None


# --- mean, median, spread, disagreement -----------------------------------------------------

def test_summary_of_an_odd_count():
    figures = scoring.summarise([80.0, 60.0, 70.0])
    assert (figures.count, figures.mean, figures.median, figures.spread) == (3, 70.0, 70.0, 20.0)
    assert figures.is_disagreement is False


def test_summary_of_an_even_count_takes_the_middle_two_for_the_median():
    figures = scoring.summarise([80.0, 60.0, 70.0, 100.0])
    # mean 310 / 4 = 77.5; median (70 + 80) / 2 = 75; spread 100 − 60 = 40.
    assert (figures.count, figures.mean, figures.median, figures.spread) == (4, 77.5, 75.0, 40.0)
    assert figures.is_disagreement is True


def test_disagreement_is_a_spread_over_the_threshold_not_at_it():
    assert scoring.summarise([50.0, 75.0], threshold=25).is_disagreement is False
    assert scoring.summarise([50.0, 75.5], threshold=25).is_disagreement is True
    assert scoring.summarise([50.0, 61.0], threshold=10).is_disagreement is True


def test_summary_of_one_review_has_no_spread_and_of_none_has_no_figures():
    one = scoring.summarise([42.0])
    assert (one.count, one.mean, one.median, one.spread, one.is_disagreement) == (1, 42.0, 42.0, 0.0, False)
    none = scoring.summarise([])
    assert (none.count, none.mean, none.median, none.spread, none.mean_z) == (0, None, None, None, None)


def test_mean_z_leaves_out_undefined_z_scores():
    assert scoring.summarise([80.0, 60.0, 50.0], [1.0, None, -0.5]).mean_z == pytest.approx(0.25)
    assert scoring.summarise([80.0], [None]).mean_z is None


# --- z-scores -------------------------------------------------------------------------------

def test_z_scores_against_the_reviewers_mean_and_population_spread():
    # mean 70; population sd √((100 + 100 + 0) / 3) = √(200/3) ≈ 8.165.
    z = scoring.z_scores([80.0, 60.0, 70.0])
    sd = math.sqrt(200 / 3)
    assert z == pytest.approx([10 / sd, -10 / sd, 0.0])
    assert z == pytest.approx([1.2247, -1.2247, 0.0], abs=1e-4)


def test_z_scores_are_undefined_for_one_review_or_no_spread():
    assert scoring.z_scores([80.0]) == [None]
    assert scoring.z_scores([70.0, 70.0, 70.0]) == [None, None, None]
    assert scoring.z_scores([]) == []


def test_z_scores_of_two_reviews_are_plus_and_minus_one():
    assert scoring.z_scores([40.0, 90.0]) == pytest.approx([-1.0, 1.0])


# --- the grouped query over a call ---------------------------------------------------------

def test_call_figures_compute_weighted_scores_in_the_database(call, lead, reviewers):
    application = light_application(call, lead)
    review = submitted_review(application, reviewers[0], 80)
    figures = scoring.call_figures(call)
    assert [(r.review_id, r.application_id, r.reviewer_id) for r in figures.reviews] == [
        (review.id, application.id, reviewers[0].id)]
    assert figures.reviews[0].weighted_score == pytest.approx(80.0)


def test_call_figures_on_mixed_scales(call, lead, reviewers):
    # Make the second criterion 0–10 with weight 3 (fixed once published, so set on the rows).
    first, second = call.criteria
    first.weight, second.weight, second.scale_min, second.scale_max = 1, 3, 0, 10
    application = light_application(call, lead)
    submitted_review(application, reviewers[0], scores={first.id: 4, second.id: 7})
    # 100 × (1·(4−1)/4 + 3·7/10) / 4 = 100 × (0.75 + 2.1) / 4 = 71.25.
    assert scoring.call_figures(call).reviews[0].weighted_score == pytest.approx(71.25)


def test_call_figures_per_application_and_per_reviewer_z(call, lead, reviewers):
    ada, ben, _ = reviewers
    apps = [light_application(call, lead, title=f"App {n}") for n in range(3)]
    # Ada: 80, 60, 70 → z = +1.2247, −1.2247, 0. Ben: one review → z undefined.
    for application, weighted in zip(apps, (80, 60, 70)):
        submitted_review(application, ada, weighted)
    submitted_review(apps[0], ben, 40)
    figures = scoring.call_figures(call)
    z = {(r.application_id, r.reviewer_id): r.z_score for r in figures.reviews}
    assert z[(apps[0].id, ada.id)] == pytest.approx(1.2247, abs=1e-4)
    assert z[(apps[1].id, ada.id)] == pytest.approx(-1.2247, abs=1e-4)
    assert z[(apps[2].id, ada.id)] == pytest.approx(0.0, abs=1e-9)
    assert z[(apps[0].id, ben.id)] is None
    first = figures.for_application(apps[0].id)
    # Reviews of 80 and 40: mean 60, median 60, spread 40 (> 25: reviewers disagree).
    assert (first.count, first.mean, first.median, first.spread) == (2, pytest.approx(60.0), pytest.approx(60.0),
                                                                      pytest.approx(40.0))
    assert first.is_disagreement is True
    # Ben's z is undefined, so the application's normalised figure is Ada's z alone.
    assert first.mean_z == pytest.approx(1.2247, abs=1e-4)


def test_call_figures_count_submitted_reviews_only(call, lead, reviewers):
    application = light_application(call, lead)
    submitted_review(application, reviewers[0], 80)
    submitted_review(application, reviewers[1], 0, submit=False)  # a draft
    figures = scoring.call_figures(call).for_application(application.id)
    assert (figures.count, figures.mean) == (1, pytest.approx(80.0))


def test_call_figures_of_another_call_are_not_mixed_in(call, lead, reviewers):
    other = make_call(title="Another call")
    submitted_review(light_application(other, lead), reviewers[0], 0)
    high = submitted_review(light_application(call, lead), reviewers[0], 80)
    submitted_review(light_application(call, lead), reviewers[0], 60)
    figures = scoring.call_figures(call)
    assert len(figures.reviews) == 2
    # Ada's z in this call uses this call's reviews only (80, 60 → ±1), not the other call's 0.
    assert figures.by_review()[high.id].z_score == pytest.approx(1.0)


def test_disagreement_threshold_comes_from_the_settings(call, lead, reviewers):
    application = light_application(call, lead)
    submitted_review(application, reviewers[0], 80)
    submitted_review(application, reviewers[1], 60)
    assert scoring.call_figures(call).for_application(application.id).is_disagreement is False  # 20 ≤ 25
    review_settings(call, disagreement_threshold=15)
    assert scoring.call_figures(call).threshold == 15
    assert scoring.call_figures(call).for_application(application.id).is_disagreement is True


def test_figures_per_sub_panel(call, lead, reviewers):
    ada, ben, cy = reviewers
    make_panel_member(call, ada, sub_panel="Academic")
    make_panel_member(call, ben, sub_panel="Academic")
    make_panel_member(call, cy, sub_panel="Community")
    application = light_application(call, lead)
    for reviewer, weighted in ((ada, 80), (ben, 60), (cy, 100)):
        submitted_review(application, reviewer, weighted)
    figures = scoring.call_figures(call)
    assert figures.sub_panels == ["Academic", "Community"]
    academic = figures.for_application(application.id, "Academic")
    community = figures.for_application(application.id, "Community")
    overall = figures.for_application(application.id)
    assert (academic.count, academic.mean, academic.spread) == (2, pytest.approx(70.0), pytest.approx(20.0))
    assert (community.count, community.mean, community.spread) == (1, pytest.approx(100.0), pytest.approx(0.0))
    assert (overall.count, overall.mean, overall.median) == (3, pytest.approx(80.0), pytest.approx(80.0))


# --- saving, submitting, revising ------------------------------------------------------------

@pytest.fixture
def assignment(call, lead, reviewers):
    return assign(light_application(call, lead), reviewers[0])


def _entry(call, weighted=None, **fields) -> ReviewEntry:
    scores = scored(call, weighted) if weighted is not None else {}
    return ReviewEntry(scores=scores, comments={c.id: f"On {c.name}." for c in call.criteria},
                       strengths=fields.get("strengths", "Deep community roots."),
                       weaknesses=fields.get("weaknesses", "Vague evaluation plan."),
                       recommendation=fields.get("recommendation", Recommendation.FUND),
                       confidence=fields.get("confidence", Confidence.HIGH))


def test_save_review_draft_keeps_a_partial_review_in_progress(call, assignment, reviewers):
    first = call.criteria[0]
    review = scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=0, entry=ReviewEntry(
        scores={first.id: 4}, comments={first.id: "  Good reach.  "}, strengths="Partners", recommendation=None))
    assert assignment.status is AssignmentStatus.IN_PROGRESS
    assert review.score_for(first.id).score == 4 and review.score_for(first.id).comment == "Good reach."
    assert review.score_for(call.criteria[1].id).score is None
    assert [e.details["scored"] for e in _events("review.draft_saved")] == [1]


def test_submit_with_a_missing_score_is_refused_listing_the_criterion(call, assignment, reviewers):
    first, second = call.criteria
    scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=0,
                              entry=ReviewEntry(scores={first.id: 4}))
    db.session.flush()
    version = assignment.review.version
    with pytest.raises(ReviewIncomplete) as refused:
        scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=version, entry=ReviewEntry(
            scores={first.id: 5}, recommendation=Recommendation.FUND))
    assert refused.value.unscored == ["Feasibility"]
    assert "Feasibility" in refused.value.message and "Community engagement" not in refused.value.message
    assert assignment.status is AssignmentStatus.IN_PROGRESS and assignment.submitted_at is None
    assert assignment.review.score_for(first.id).score == 4  # the refused entry changed nothing
    assert _events("review.submitted") == []


def test_submit_without_a_recommendation_is_refused(call, assignment, reviewers):
    with pytest.raises(ReviewIncomplete, match="choose a recommendation"):
        scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=0,
                              entry=_entry(call, 80, recommendation=None))
    assert assignment.review is None


def test_submit_review_submits_and_audits_the_weighted_score(call, assignment, reviewers):
    review = scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call, 80))
    assert assignment.status is AssignmentStatus.SUBMITTED and assignment.submitted_at is not None
    assert review.recommendation is Recommendation.FUND
    [event] = _events("review.submitted")
    assert event.details["weighted_score"] == 80.0 and event.details["from"] == "in_progress"


def test_a_submitted_review_is_revised_in_place_with_before_and_after(call, assignment, reviewers):
    scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call, 80))
    db.session.flush()
    scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=assignment.review.version,
                          entry=_entry(call, 60, weaknesses="No budget for evaluation."))
    assert assignment.status is AssignmentStatus.SUBMITTED
    [event] = _events("review.revised")
    assert event.details["score: Community engagement"] == {"from": 5, "to": 3}
    assert event.details["score: Feasibility"] == {"from": 3, "to": 4}
    assert event.details["weaknesses"] == {"from": "Vague evaluation plan.", "to": "No budget for evaluation."}
    assert "strengths" not in event.details
    assert event.details["weighted_score"] == 60.0
    assert len(_events("review.submitted")) == 1


def test_a_submitted_review_is_not_saved_back_to_a_draft(call, assignment, reviewers):
    scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call, 80))
    db.session.flush()
    with pytest.raises(TransitionNotAllowed):
        scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=assignment.review.version,
                                  entry=_entry(call))
    with pytest.raises(ReviewIncomplete):
        scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=assignment.review.version,
                              entry=_entry(call))
    assert assignment.review.score_for(call.criteria[0].id).score == 5


def test_nothing_changes_after_the_review_phase_closes(call, assignment, reviewers):
    closes_at = utcnow() + timedelta(days=1)
    review_settings(call, review_closes_at=closes_at)
    scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call, 80))
    db.session.flush()
    version = assignment.review.version
    # Revising up to the last moment works; at the closing instant it is refused.
    scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=version, entry=_entry(call, 70),
                          now=closes_at - timedelta(seconds=1))
    db.session.flush()
    with pytest.raises(ReviewPhaseClosed, match="closed"):
        scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=assignment.review.version,
                              entry=_entry(call, 40), now=closes_at)
    assert assignment.review.score_for(call.criteria[1].id).score == 2  # still the 70 review
    assert scoring.is_review_phase_open(call, closes_at - timedelta(seconds=1)) is True
    assert scoring.is_review_phase_open(call, closes_at) is False


def test_a_review_phase_without_a_closing_time_is_open(call):
    assert scoring.is_review_phase_open(call) is True
    review_settings(call)
    assert scoring.is_review_phase_open(call) is True


def test_a_save_from_an_older_version_is_refused(call, assignment, reviewers):
    scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call))
    db.session.flush()
    with pytest.raises(StaleEdit):
        scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call, 80))
    stale = assignment.review.version
    scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=stale, entry=_entry(call, 40))
    db.session.flush()
    assert assignment.review.version == stale + 1
    with pytest.raises(StaleEdit):
        scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=stale, entry=_entry(call, 80))


def test_a_score_off_the_scale_is_refused(call, assignment, reviewers):
    with pytest.raises(DomainError, match="from 1 to 5"):
        scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=0,
                                  entry=ReviewEntry(scores={call.criteria[0].id: 6}))


def test_only_the_assigned_reviewer_changes_the_review(call, assignment, reviewers):
    with pytest.raises(PermissionDenied):
        scoring.save_review_draft(assignment, reviewer=reviewers[1], expected_version=0, entry=_entry(call))


def test_an_assignment_not_attested_has_no_review_to_change(call, lead, reviewers):
    assignment = assign(light_application(call, lead), reviewers[0], attested=False)
    with pytest.raises(TransitionNotAllowed):
        scoring.save_review_draft(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call))


def test_review_weighted_score_of_a_saved_review(call, assignment, reviewers):
    review = scoring.submit_review(assignment, reviewer=reviewers[0], expected_version=0, entry=_entry(call, 90))
    assert scoring.review_weighted_score(review, call.criteria) == pytest.approx(90.0)
    assert scoring.review_weighted_score(None, call.criteria) is None


def test_rubric_criterion_factory_assumption(call):
    # The hand computations above rely on make_call's rubric.
    assert [(c.name, c.weight, c.scale_min, c.scale_max) for c in call.criteria] == [
        ("Community engagement", 60, 1, 5), ("Feasibility", 40, 1, 5)]
    assert isinstance(call.criteria[0], RubricCriterion)
