"""States and kinds of the reviews domain."""

from __future__ import annotations

import enum


class PanelMemberStatus(enum.Enum):
    INVITED = "invited"
    ACTIVE = "active"
    DECLINED = "declined"
    REMOVED = "removed"


PANEL_MEMBER_TRANSITIONS = {
    PanelMemberStatus.INVITED: frozenset({PanelMemberStatus.ACTIVE, PanelMemberStatus.DECLINED,
                                          PanelMemberStatus.REMOVED}),
    PanelMemberStatus.ACTIVE: frozenset({PanelMemberStatus.REMOVED}),
    PanelMemberStatus.DECLINED: frozenset({PanelMemberStatus.INVITED}),
    PanelMemberStatus.REMOVED: frozenset({PanelMemberStatus.INVITED}),
}


class AssignmentStatus(enum.Enum):
    ASSIGNED = "assigned"
    DECLINED = "declined"
    CONFLICTED = "conflicted"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# assigned → (declined | conflicted) or → in progress → submitted. A waived conflict goes back
# to assigned; a submitted review may be reopened for revision while the review phase is open.
ASSIGNMENT_TRANSITIONS = {
    AssignmentStatus.ASSIGNED: frozenset({AssignmentStatus.DECLINED, AssignmentStatus.CONFLICTED,
                                          AssignmentStatus.IN_PROGRESS}),
    AssignmentStatus.CONFLICTED: frozenset({AssignmentStatus.ASSIGNED}),
    AssignmentStatus.IN_PROGRESS: frozenset({AssignmentStatus.SUBMITTED}),
    AssignmentStatus.SUBMITTED: frozenset({AssignmentStatus.IN_PROGRESS}),
    AssignmentStatus.DECLINED: frozenset(),
}


class Recommendation(enum.Enum):
    FUND = "fund"
    FUND_IF_FUNDS_ALLOW = "fund_if_funds_allow"
    DO_NOT_FUND = "do_not_fund"

    @property
    def label(self) -> str:
        return {"fund": "Fund", "fund_if_funds_allow": "Fund if funds allow", "do_not_fund": "Do not fund"}[self.value]


class Confidence(enum.Enum):
    """How sure the reviewer is of their own review (their expertise, what the application let
    them judge). Given with each submitted review."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return {"low": "Low", "medium": "Medium", "high": "High"}[self.value]

    @property
    def weight(self) -> int:
        """Its weight in the confidence-weighted mean: high counts three times as much as low."""
        return {"low": 1, "medium": 2, "high": 3}[self.value]


class RankingFigure(enum.Enum):
    MEAN = "mean"
    MEDIAN = "median"
    NORMALISED = "normalised"
    CONFIDENCE_WEIGHTED = "confidence_weighted"

    @property
    def label(self) -> str:
        return {"mean": "Mean score", "median": "Median score",
                "normalised": "Mean z-score (normalised per reviewer)",
                "confidence_weighted": "Mean weighted by the reviewers' confidence"}[self.value]


class StipendStatus(enum.Enum):
    """What is on record about a community reviewer's stipend for one call.

    Only a recorded payment makes a row: ``paid``, or ``owed`` again after a mistaken
    "paid" was undone. Whether a stipend is owed right now is computed (grants.reviews.stipends),
    never stored, so a row in ``owed`` says only "not paid".
    """

    OWED = "owed"
    PAID = "paid"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# owed → paid; paid → owed only to undo a mistake, with a reason (both audited).
STIPEND_TRANSITIONS = {
    StipendStatus.OWED: frozenset({StipendStatus.PAID}),
    StipendStatus.PAID: frozenset({StipendStatus.OWED}),
}
