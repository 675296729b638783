"""States and kinds of the calls domain."""

from __future__ import annotations

import enum

from flask_babel import gettext as _


class CallStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# draft → published → archived. A draft that will never be published may be archived too,
# so it leaves the officers' working list without being deleted.
CALL_TRANSITIONS = {
    CallStatus.DRAFT: frozenset({CallStatus.PUBLISHED, CallStatus.ARCHIVED}),
    CallStatus.PUBLISHED: frozenset({CallStatus.ARCHIVED}),
    CallStatus.ARCHIVED: frozenset(),
}


class CallPhase(enum.Enum):
    """Where a call stands against the server clock. Computed from its dates, never stored."""

    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"upcoming": _("Opening soon"), "open": _("Open"), "closed": _("Closed")}[self.value]


class DocumentScope(enum.Enum):
    PER_APPLICATION = "per_application"
    PER_PARTNER = "per_partner"

    @property
    def label(self) -> str:
        return {"per_application": _("One per application"),
                "per_partner": _("One from each partner")}[self.value]


class QuestionStage(enum.Enum):
    """Which stage of a two-stage call asks a question: the letter of intent, the full
    proposal, or both (the letter's answer is carried over into the full proposal)."""

    LOI = "loi"
    FULL = "full"
    BOTH = "both"

    @property
    def label(self) -> str:
        return {"loi": _("Letter of intent only"), "full": _("Full proposal only"),
                "both": _("Both (the answer is carried over)")}[self.value]
