"""States of the awards domain: decisions, awards, milestones, payments, reports."""

from __future__ import annotations

import enum

from flask_babel import gettext as _
from flask_babel import pgettext


class DecisionOutcome(enum.Enum):
    AWARD = "award"
    DECLINE = "decline"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AwardStatus(enum.Enum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        # "award": the Spanish agrees with "la subvención", and a declined award is one the
        # applicant turned down, not a declined application.
        return {"offered": pgettext("award", "Offered"), "accepted": pgettext("award", "Accepted"),
                "active": pgettext("award", "Active"), "completed": pgettext("award", "Completed"),
                "terminated": pgettext("award", "Terminated"), "declined": pgettext("award", "Declined")}[self.value]


# offered → accepted → active → (completed | terminated); offered → declined.
AWARD_TRANSITIONS = {
    AwardStatus.OFFERED: frozenset({AwardStatus.ACCEPTED, AwardStatus.DECLINED}),
    AwardStatus.ACCEPTED: frozenset({AwardStatus.ACTIVE, AwardStatus.TERMINATED}),
    AwardStatus.ACTIVE: frozenset({AwardStatus.COMPLETED, AwardStatus.TERMINATED}),
    AwardStatus.COMPLETED: frozenset(),
    AwardStatus.TERMINATED: frozenset(),
    AwardStatus.DECLINED: frozenset(),
}


class MilestoneStatus(enum.Enum):
    UPCOMING = "upcoming"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REVISION_REQUESTED = "revision_requested"

    @property
    def label(self) -> str:
        return {"upcoming": pgettext("milestone", "Upcoming"), "submitted": pgettext("milestone", "Submitted"),
                "accepted": pgettext("milestone", "Accepted"),
                "revision_requested": pgettext("milestone", "Revision requested")}[self.value]


# upcoming → submitted → (accepted | revision requested → submitted …)
MILESTONE_TRANSITIONS = {
    MilestoneStatus.UPCOMING: frozenset({MilestoneStatus.SUBMITTED}),
    MilestoneStatus.SUBMITTED: frozenset({MilestoneStatus.ACCEPTED, MilestoneStatus.REVISION_REQUESTED}),
    MilestoneStatus.REVISION_REQUESTED: frozenset({MilestoneStatus.SUBMITTED}),
    MilestoneStatus.ACCEPTED: frozenset(),
}


class PaymentStatus(enum.Enum):
    SCHEDULED = "scheduled"
    RELEASED = "released"
    PAID = "paid"

    @property
    def label(self) -> str:
        return {"scheduled": pgettext("payment", "Scheduled"), "released": pgettext("payment", "Released"),
                "paid": pgettext("payment", "Paid")}[self.value]


# scheduled → released (only after its milestone is accepted) → paid
PAYMENT_TRANSITIONS = {
    PaymentStatus.SCHEDULED: frozenset({PaymentStatus.RELEASED}),
    PaymentStatus.RELEASED: frozenset({PaymentStatus.PAID}),
    PaymentStatus.PAID: frozenset(),
}


class PaymentHold(enum.Enum):
    """A payment held back because the accepted report fell short of its milestone's targets."""

    HELD = "held"
    PLAN_SUBMITTED = "plan_submitted"
    PLAN_ACCEPTED = "plan_accepted"

    @property
    def label(self) -> str:
        return {"held": _("Held pending a revised plan"), "plan_submitted": _("Revised plan submitted"),
                "plan_accepted": _("Revised plan accepted")}[self.value]


# (no hold) → held → plan submitted → (plan accepted | held again, the plan returned …): only
# an accepted plan lets the payment be released.
PAYMENT_HOLD_TRANSITIONS = {
    None: frozenset({PaymentHold.HELD}),
    PaymentHold.HELD: frozenset({PaymentHold.PLAN_SUBMITTED}),
    PaymentHold.PLAN_SUBMITTED: frozenset({PaymentHold.PLAN_ACCEPTED, PaymentHold.HELD}),
    PaymentHold.PLAN_ACCEPTED: frozenset(),
}


class ShortfallChoice(enum.Enum):
    """What the officer does with the payment of a report that falls short of its targets."""

    RELEASE = "release"
    HOLD = "hold"


class PaymentMethod(enum.Enum):
    BANK_TRANSFER = "bank_transfer"
    CHECK = "check"
    CARD = "card"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"bank_transfer": _("Bank transfer (ACH or wire)"), "check": pgettext("payment method", "Check"),
                "card": pgettext("payment method", "Card"), "other": pgettext("payment method", "Other")}[self.value]

    @property
    def in_words(self) -> str:
        """Within a sentence: "paid by bank transfer (ACH or wire)"."""
        return self.label[0].lower() + self.label[1:]


class ReportOutcome(enum.Enum):
    ACCEPTED = "accepted"
    REVISION_REQUESTED = "revision_requested"

    @property
    def label(self) -> str:
        return {"accepted": pgettext("report", "Accepted"),
                "revision_requested": pgettext("report", "Revision requested")}[self.value]
