from __future__ import annotations

import enum


class CheckInResponse(enum.Enum):
    """What an organisation did with a milestone's check-in. No row: not answered yet."""

    ANSWERED = "answered"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return {"answered": "Answered", "declined": "Declined to answer"}[self.value]


# The scale every statement is rated on.
RATING_LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
                 5: "Strongly agree"}
