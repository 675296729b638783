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


class RankingFigure(enum.Enum):
    MEAN = "mean"
    MEDIAN = "median"
    NORMALISED = "normalised"

    @property
    def label(self) -> str:
        return {"mean": "Mean score", "median": "Median score",
                "normalised": "Mean z-score (normalised per reviewer)"}[self.value]
