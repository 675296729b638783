"""Factories for the scoring and ranking tests: light in-review applications (rows only, no
documents), submitted reviews with given scores, review settings, a statement counter.

The rubric of tests.applications.fixtures.make_call: "Community engagement" weight 60 and
"Feasibility" weight 40, both on 1–5, so a review scored (a, b) weighs
15·(a − 1) + 10·(b − 1) on 0–100: (5, 3) → 80, (3, 4) → 60, (5, 2) → 70, (3, 3) → 50,
(3, 2) → 40, (5, 4) → 90, (5, 5) → 100, (1, 1) → 0.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from grants.applications.enums import ApplicationStatus, BudgetCategory
from grants.applications.models import Application, BudgetLine
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus, Confidence, Recommendation
from grants.reviews.models import CriterionScore, Review, ReviewAssignment, ReviewSettings
from tests.reviews.fixtures import assign

# (a, b) scores giving these weighted scores on make_call's rubric.
SCORES_FOR = {0: (1, 1), 40: (3, 2), 50: (3, 3), 60: (3, 4), 70: (5, 2), 80: (5, 3), 90: (5, 4), 100: (5, 5)}

_references = itertools.count(1)


def light_application(call, owner, *, requested_cents: int = 10_000_000, title: str | None = None,
                      reference: str | None = None, status: ApplicationStatus = ApplicationStatus.IN_REVIEW):
    """An application in review as rows only (one budget line of ``requested_cents``)."""
    number = next(_references)
    now = utcnow()
    application = Application(
        call=call, lead_organisation=owner.organisation, owner=owner, title=title or f"Application {number}",
        status=status, reference_number=reference or f"T-{call.id}-{number:04d}", submitted_at=now - timedelta(days=5),
        in_review_at=now - timedelta(days=4), submitted_content={})
    application.budget_lines = [BudgetLine(category=BudgetCategory.PERSONNEL, description="Coordinator",
                                           amount_cents=requested_cents)]
    db.session.add(application)
    db.session.flush()
    return application


def scored(call, weighted: int) -> dict[int, int]:
    """Scores by criterion id that give ``weighted`` (a key of SCORES_FOR) on make_call's rubric."""
    return dict(zip((criterion.id for criterion in call.criteria), SCORES_FOR[weighted]))


def submitted_review(application, reviewer, weighted: int | None = None, *, scores: dict[int, int] | None = None,
                     recommendation: Recommendation = Recommendation.FUND, comment: str = "",
                     submit: bool = True, confidence: Confidence | None = Confidence.MEDIUM):
    """``reviewer``'s review of ``application`` (assigned if needed), SUBMITTED unless not ``submit``."""
    assignment = db.session.scalar(select(ReviewAssignment).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.reviewer_id == reviewer.id))
    assignment = assignment or assign(application, reviewer)
    scores = scores if scores is not None else scored(application.call, weighted)
    review = Review(assignment=assignment, strengths="Strong partners.", weaknesses="Thin evaluation.",
                    recommendation=recommendation, confidence=confidence,
                    scores=[CriterionScore(criterion_id=criterion_id, score=score, comment=comment)
                            for criterion_id, score in scores.items()])
    db.session.add(review)
    if submit:
        assignment.status = AssignmentStatus.SUBMITTED
        assignment.submitted_at = utcnow()
    db.session.flush()
    return review


def review_settings(call, **fields) -> ReviewSettings:
    settings = ReviewSettings(call_id=call.id, **fields)
    db.session.add(settings)
    db.session.flush()
    db.session.expire(call, ["review_settings"])
    return settings


@contextmanager
def counted_statements():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
