"""The ranking: order by the chosen figure, ties, the funding line, sub-panels, and a constant
number of queries whatever the number of applications."""

from __future__ import annotations

import pytest

from grants.accounts.enums import OrganisationKind, Role
from grants.applications.enums import ApplicationStatus
from grants.reviews import scoring
from grants.reviews.enums import Confidence, RankingFigure
from tests.applications.fixtures import make_applicant, make_call
from tests.reviews.fixtures import make_panel_member
from tests.reviews.scoring_factories import counted_statements, light_application, submitted_review

MILLION = 100_000_000  # $1,000,000 in cents


@pytest.fixture
def call():
    return make_call(total_cents=MILLION, ceiling_cents=MILLION // 2)


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def reviewers(make_user, make_organisation):
    university = make_organisation("Northgate University", kind=OrganisationKind.MEMBER_INSTITUTION)
    return [make_user(Role.REVIEWER, organisation=university, full_name=f"Reviewer {n}") for n in range(4)]


def _titles(ranking) -> list[str]:
    return [row.application.title for row in ranking.rows]


# --- the funding line, as arithmetic ------------------------------------------------------------

@pytest.mark.parametrize("requested, total, above", [
    ([40, 30, 30, 10], 100, 3),  # exact fit: the cumulative 100 is within 100
    ([40, 30, 31, 10], 100, 2),  # the first one over stops the line, even if a later one would fit
    ([60, 50], 100, 1),
    ([150, 10], 100, 0),  # none fits: the line is drawn above the first
    ([10, 20], 100, 2),  # all fit
    ([], 100, 0),
])
def test_funding_line_position(requested, total, above):
    assert scoring.funding_line_position(requested, total) == above


def test_no_funding_line_without_total_funds():
    assert scoring.funding_line_position([10, 20], None) is None


# --- the ranking of a call -------------------------------------------------------------------

def test_ranking_orders_by_mean_and_accumulates_requested_amounts(call, lead, reviewers):
    apps = {name: light_application(call, lead, title=name, requested_cents=cents)
            for name, cents in (("Low", 30_000_000), ("High", 40_000_000), ("Mid", 30_000_000))}
    for name, scores in (("Low", (40, 50)), ("High", (90, 100)), ("Mid", (70, 60))):
        for reviewer, weighted in zip(reviewers, scores):
            submitted_review(apps[name], reviewer, weighted)
    ranking = scoring.rank_call(call)
    assert _titles(ranking) == ["High", "Mid", "Low"]
    assert [row.rank for row in ranking.rows] == [1, 2, 3]
    assert [row.figures.mean for row in ranking.rows] == [pytest.approx(95), pytest.approx(65), pytest.approx(45)]
    assert [row.cumulative_cents for row in ranking.rows] == [40_000_000, 70_000_000, 100_000_000]
    # Exactly the total funds: all three are above the line.
    assert ranking.funded_count == 3 and all(row.is_above_line for row in ranking.rows)


def test_funding_line_after_the_last_application_that_fits(call, lead, reviewers):
    apps = [light_application(call, lead, title=f"App {n}", requested_cents=cents)
            for n, cents in enumerate((50_000_000, 40_000_000, 20_000_000, 5_000_000))]
    for application, weighted in zip(apps, (100, 90, 80, 70)):
        submitted_review(application, reviewers[0], weighted)
    ranking = scoring.rank_call(call)
    # 50 + 40 = 90 fits; + 20 = 110 passes $1,000,000: the line is after the second, and the
    # fourth stays below it although it alone would fit.
    assert ranking.funded_count == 2
    assert [row.is_above_line for row in ranking.rows] == [True, True, False, False]


def test_funding_line_above_the_first_when_none_fits(call, lead, reviewers):
    application = light_application(call, lead, requested_cents=MILLION + 1)
    submitted_review(application, reviewers[0], 80)
    ranking = scoring.rank_call(call)
    assert ranking.funded_count == 0 and ranking.rows[0].is_above_line is False


def test_ties_go_to_more_reviews_then_the_reference(call, lead, reviewers):
    one = light_application(call, lead, title="One review", reference="R-0003")
    two = light_application(call, lead, title="Two reviews", reference="R-0009")
    later = light_application(call, lead, title="Same, later reference", reference="R-0002")
    earlier = light_application(call, lead, title="Same, earlier reference", reference="R-0001")
    submitted_review(one, reviewers[0], 70)
    for reviewer, weighted in zip(reviewers, (60, 80)):  # mean 70
        submitted_review(two, reviewer, weighted)
    submitted_review(later, reviewers[2], 50)
    submitted_review(earlier, reviewers[3], 50)
    assert _titles(scoring.rank_call(call)) == ["Two reviews", "One review", "Same, earlier reference",
                                                "Same, later reference"]


def test_ranking_by_median_differs_from_the_mean(call, lead, reviewers):
    skewed = light_application(call, lead, title="Skewed")  # 0, 80, 90: mean 56.7, median 80
    even = light_application(call, lead, title="Even")  # 70, 70, 70: mean 70, median 70
    for reviewer, weighted in zip(reviewers, (0, 80, 90)):
        submitted_review(skewed, reviewer, weighted)
    for reviewer in reviewers[:3]:
        submitted_review(even, reviewer, 70)
    assert _titles(scoring.rank_call(call, figure=RankingFigure.MEAN)) == ["Even", "Skewed"]
    assert _titles(scoring.rank_call(call, figure=RankingFigure.MEDIAN)) == ["Skewed", "Even"]


def test_ranking_by_the_normalised_figure_corrects_for_harsh_and_lenient_reviewers(call, lead, reviewers):
    harsh, lenient = reviewers[:2]
    a, b, c = (light_application(call, lead, title=title) for title in ("A", "B", "C"))
    # The harsh reviewer scores A 40 and B 0; the lenient one scores A and B 100, C 90.
    # Harsh: 40, 0 → z(A) = +1, z(B) = −1. Lenient: 100, 100, 90 → mean 96.67, sd 4.714:
    # z(A) = z(B) = +0.7071, z(C) = −1.4142.
    submitted_review(a, harsh, 40)
    submitted_review(b, harsh, 0)
    for application, weighted in ((a, 100), (b, 100), (c, 90)):
        submitted_review(application, lenient, weighted)
    ranking = scoring.rank_call(call, figure=RankingFigure.NORMALISED)
    assert _titles(ranking) == ["A", "B", "C"]
    mean_z = {row.application.title: row.figures.mean_z for row in ranking.rows}
    assert mean_z["A"] == pytest.approx((1 + 0.70711) / 2, abs=1e-4)
    assert mean_z["B"] == pytest.approx((-1 + 0.70711) / 2, abs=1e-4)
    assert mean_z["C"] == pytest.approx(-1.41421, abs=1e-4)
    # By the raw mean C (90, from the lenient reviewer alone) would come first: A 70, B 50.
    assert _titles(scoring.rank_call(call)) == ["C", "A", "B"]


def test_applications_without_the_figure_follow_unranked_and_take_no_funds(call, lead, reviewers):
    reviewed = light_application(call, lead, title="Reviewed", requested_cents=MILLION)
    waiting = light_application(call, lead, title="Waiting", requested_cents=10)
    submitted_review(reviewed, reviewers[0], 80)
    submitted_review(waiting, reviewers[1], 80, submit=False)  # a draft only
    ranking = scoring.rank_call(call)
    assert _titles(ranking) == ["Reviewed", "Waiting"]
    assert [row.rank for row in ranking.rows] == [1, None]
    assert ranking.funded_count == 1 and ranking.rows[1].cumulative_cents is None
    # One review per reviewer: no z-score, so nothing is ranked by the normalised figure.
    assert [row.rank for row in scoring.rank_call(call, figure=RankingFigure.NORMALISED).rows] == [None, None]


def test_ranking_holds_applications_that_went_to_review_only(call, lead, reviewers):
    light_application(call, lead, title="In review")
    light_application(call, lead, title="Awarded", status=ApplicationStatus.AWARDED)
    light_application(call, lead, title="Only submitted", status=ApplicationStatus.SUBMITTED)
    light_application(call, lead, title="Withdrawn", status=ApplicationStatus.WITHDRAWN)
    assert sorted(_titles(scoring.rank_call(call))) == ["Awarded", "In review"]


def test_ranking_per_sub_panel(call, lead, reviewers):
    academic, community = reviewers[:2]
    make_panel_member(call, academic, sub_panel="Academic")
    make_panel_member(call, community, sub_panel="Community")
    a = light_application(call, lead, title="Academics prefer")
    b = light_application(call, lead, title="Community prefers")
    submitted_review(a, academic, 90)
    submitted_review(b, academic, 60)
    submitted_review(a, community, 40)
    submitted_review(b, community, 100)
    assert _titles(scoring.rank_call(call, sub_panel="Academic")) == ["Academics prefer", "Community prefers"]
    assert _titles(scoring.rank_call(call, sub_panel="Community")) == ["Community prefers", "Academics prefer"]
    community_view = scoring.rank_call(call, sub_panel="Community")
    assert [row.figures.count for row in community_view.rows] == [1, 1]
    # An unknown sub-panel shows everyone's reviews.
    assert scoring.rank_call(call, sub_panel="Nobody").sub_panel is None


def test_ranking_without_total_funds_draws_no_line(lead, reviewers):
    call = make_call(title="Open-ended")
    call.total_funds_cents = None
    call.award_ceiling_cents = None
    application = light_application(call, lead)
    submitted_review(application, reviewers[0], 80)
    ranking = scoring.rank_call(call)
    assert ranking.funded_count is None and ranking.rows[0].is_above_line is False


def _world(call, lead, reviewers, count: int):
    for number in range(count):
        application = light_application(call, lead, title=f"Application {number}")
        for reviewer, weighted in zip(reviewers[:3], (40, 60, 80)):
            submitted_review(application, reviewer, weighted)


def test_ranking_runs_as_many_queries_for_10_applications_as_for_3(lead, reviewers):
    small, large = make_call(title="Small call"), make_call(title="Large call")
    _world(small, lead, reviewers, 3)
    _world(large, lead, reviewers, 10)
    counts = []
    for call in (small, large):
        with counted_statements() as statements:
            ranking = scoring.rank_call(call)
        assert ranking.rows and all(row.figures.count == 3 for row in ranking.rows)
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{counts[0]} queries for 3 applications, {counts[1]} for 10"


def test_weighted_scores_come_from_one_grouped_query(lead, reviewers):
    call = make_call(title="Grouped")
    _world(call, lead, reviewers, 4)
    with counted_statements() as statements:
        scoring.call_figures(call)
    grouped = [s for s in statements if "GROUP BY" in s and "criterion_score" in s]
    assert len(grouped) == 1


# --- confidence, percentiles, ties, the reserve list and "what if" ---------------------------

def test_confidence_weighted_mean_weighs_high_three_times_low():
    figures = scoring.summarise([90.0, 30.0], confidences=[Confidence.HIGH, Confidence.LOW])
    assert figures.mean == pytest.approx(60)
    assert figures.confidence_weighted_mean == pytest.approx((3 * 90 + 1 * 30) / 4)
    assert figures.confidence_summary == "1 high · 1 low"


def test_a_review_without_a_stated_confidence_weighs_as_medium():
    figures = scoring.summarise([90.0, 30.0], confidences=[None, Confidence.HIGH])
    assert figures.confidence_weighted_mean == pytest.approx((2 * 90 + 3 * 30) / 5)
    assert figures.confidence_summary == "1 high · 1 not stated"
    # Figures given no confidences at all weigh every review alike.
    assert scoring.summarise([90.0, 30.0]).confidence_weighted_mean == pytest.approx(60)


def test_ranking_by_confidence_keeps_the_plain_mean_beside_it(call, lead, reviewers):
    sure = light_application(call, lead, title="Sure reviewer liked it")
    unsure = light_application(call, lead, title="Unsure reviewer liked it")
    submitted_review(sure, reviewers[0], 90, confidence=Confidence.HIGH)
    submitted_review(sure, reviewers[1], 40, confidence=Confidence.LOW)
    submitted_review(unsure, reviewers[0], 40, confidence=Confidence.HIGH)
    submitted_review(unsure, reviewers[1], 100, confidence=Confidence.LOW)
    # Plain means: 65 and 70. Weighted: (270 + 40) / 4 = 77.5 and (120 + 100) / 4 = 55.
    assert _titles(scoring.rank_call(call)) == ["Unsure reviewer liked it", "Sure reviewer liked it"]
    ranking = scoring.rank_call(call, figure=RankingFigure.CONFIDENCE_WEIGHTED)
    assert _titles(ranking) == ["Sure reviewer liked it", "Unsure reviewer liked it"]
    assert [row.figures.mean for row in ranking.rows] == [pytest.approx(65), pytest.approx(70)]
    assert [row.figures.confidence_weighted_mean for row in ranking.rows] == [pytest.approx(77.5),
                                                                              pytest.approx(55)]


@pytest.mark.parametrize("values, expected", [
    ([10, 20, 30, 40], [12.5, 37.5, 62.5, 87.5]),
    ([50], [50.0]),
    ([70, 70, 10], [66.6667, 66.6667, 16.6667]),  # tied values share one percentile
    (list(range(10)), [5.0 + 10 * n for n in range(10)]),  # the top of ten is at 95
])
def test_percentiles(values, expected):
    assert scoring.percentiles(values) == pytest.approx(expected, abs=1e-3)


def test_percentile_per_sub_panel_is_within_that_sub_panel(call, lead, reviewers):
    academic, community = reviewers[:2]
    make_panel_member(call, academic, sub_panel="Academic")
    make_panel_member(call, community, sub_panel="Community")
    a, b = light_application(call, lead, title="A"), light_application(call, lead, title="B")
    submitted_review(a, academic, 90)
    submitted_review(b, academic, 60)
    submitted_review(b, community, 100)
    whole = scoring.rank_call(call)
    assert [(row.application.title, row.percentile) for row in whole.rows] == [("A", 75.0), ("B", 25.0)]
    # The community sub-panel reviewed B only: it is the whole of that panel's ranking.
    panel = scoring.rank_call(call, sub_panel="Community")
    assert [(row.application.title, row.percentile) for row in panel.ranked] == [("B", 50.0)]


def _ranked_world(call, lead, reviewers, figures_and_amounts):
    for number, (weighted, cents) in enumerate(figures_and_amounts):
        application = light_application(call, lead, title=f"App {number}", requested_cents=cents,
                                         reference=f"W-{number:04d}")
        submitted_review(application, reviewers[0], weighted)


def test_a_tie_across_the_funding_line_is_flagged_with_its_rule(call, lead, reviewers):
    # $400k + $400k fit in $1M; the third ($400k) does not, and has the same figure as the second.
    _ranked_world(call, lead, reviewers, [(90, 40_000_000), (80, 40_000_000), (80, 40_000_000)])
    ranking = scoring.rank_call(call)
    assert ranking.funded_count == 2 and ranking.is_tie_at_line
    assert [row.is_tied for row in ranking.rows] == [False, True, True]
    # The rule: equal figures go to the one with more reviews, then the lower reference.
    assert [row.application.reference_number for row in ranking.rows] == ["W-0000", "W-0001", "W-0002"]
    assert "lower reference number" in ranking.tie_rule


def test_a_tie_inside_the_funded_group_is_not_a_tie_at_the_line(call, lead, reviewers):
    _ranked_world(call, lead, reviewers, [(90, 30_000_000), (90, 30_000_000), (50, 50_000_000)])
    ranking = scoring.rank_call(call)
    assert ranking.funded_count == 2 and not ranking.is_tie_at_line
    assert [row.is_tied for row in ranking.rows] == [True, True, False]


def test_the_reserve_list_is_the_next_ranked_under_the_line(call, lead, reviewers):
    _ranked_world(call, lead, reviewers, [(100, 60_000_000), (90, 50_000_000), (80, 10_000_000),
                                          (70, 10_000_000), (60, 10_000_000), (50, 10_000_000)])
    ranking = scoring.rank_call(call)
    assert ranking.funded_count == 1
    assert [(row.application.title, row.reserve_position) for row in ranking.reserve] == [
        ("App 1", 1), ("App 2", 2), ("App 3", 3)]
    assert [row.application.title for row in scoring.rank_call(call, reserve_count=1).reserve] == ["App 1"]
    assert scoring.rank_call(call, reserve_count=0).reserve == []
    # Asking for more than there are gives what there is; a huge number is capped.
    assert len(scoring.rank_call(call, reserve_count=10_000).reserve) == 5


def test_no_reserve_list_without_a_funding_line(lead, reviewers):
    call = make_call(title="Open-ended")
    call.total_funds_cents = None
    _ranked_world(call, lead, reviewers, [(90, 10), (80, 10)])
    assert scoring.rank_call(call).reserve == []


def test_what_if_totals_as_the_line_moves(call, lead, reviewers):
    _ranked_world(call, lead, reviewers, [(100, 60_000_000), (90, 50_000_000), (80, 10_000_000)])
    assert scoring.rank_call(call).what_if is None
    what_if = scoring.rank_call(call, fund_top=2).what_if
    assert (what_if.count, what_if.requested_cents, what_if.remaining_cents) == (2, 110_000_000, -10_000_000)
    assert scoring.rank_call(call, fund_top=1).what_if.remaining_cents == 40_000_000
    # Past the end or below zero: clamped to what is ranked.
    assert scoring.rank_call(call, fund_top=99).what_if.count == 3
    assert scoring.rank_call(call, fund_top=-4).what_if.requested_cents == 0
