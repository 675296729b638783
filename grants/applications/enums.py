"""States and kinds of the applications domain."""

from __future__ import annotations

import enum

from flask_babel import gettext as _


class ApplicationStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    SCREENED_OUT = "screened_out"
    IN_REVIEW = "in_review"
    AWARDED = "awarded"
    DECLINED = "declined"
    # A letter of intent whose lead is invited to the full proposal.
    INVITED = "invited"

    @property
    def label(self) -> str:
        return {"draft": _("Draft"), "submitted": _("Submitted"), "withdrawn": _("Withdrawn"),
                "screened_out": _("Screened out"), "in_review": _("In review"), "awarded": _("Awarded"),
                "declined": _("Declined"), "invited": _("Invited")}[self.value]


# draft → submitted → (withdrawn | screened out | in review) → (awarded | declined)
APPLICATION_TRANSITIONS = {
    ApplicationStatus.DRAFT: frozenset({ApplicationStatus.SUBMITTED}),
    ApplicationStatus.SUBMITTED: frozenset({ApplicationStatus.WITHDRAWN, ApplicationStatus.SCREENED_OUT,
                                            ApplicationStatus.IN_REVIEW}),
    ApplicationStatus.IN_REVIEW: frozenset({ApplicationStatus.AWARDED, ApplicationStatus.DECLINED}),
    ApplicationStatus.WITHDRAWN: frozenset(),
    ApplicationStatus.SCREENED_OUT: frozenset(),
    ApplicationStatus.AWARDED: frozenset(),
    ApplicationStatus.DECLINED: frozenset(),
    ApplicationStatus.INVITED: frozenset(),
}

# A letter of intent: draft → submitted → (withdrawn | invited | declined)
LOI_TRANSITIONS = {
    ApplicationStatus.DRAFT: frozenset({ApplicationStatus.SUBMITTED}),
    ApplicationStatus.SUBMITTED: frozenset({ApplicationStatus.WITHDRAWN, ApplicationStatus.INVITED,
                                            ApplicationStatus.DECLINED}),
}


class ApplicationStage(enum.Enum):
    """A letter of intent (first stage of a two-stage call) or a full proposal."""

    LOI = "loi"
    FULL = "full"

    @property
    def label(self) -> str:
        return {"loi": _("Letter of intent"), "full": _("Full proposal")}[self.value]


class LoiOutcome(enum.Enum):
    """The officer's screening of a letter of intent; internal until released."""

    INVITE = "invite"
    DECLINE = "decline"

    @property
    def label(self) -> str:
        return {"invite": _("Invite to a full proposal"), "decline": _("Decline")}[self.value]


class BudgetCategory(enum.Enum):
    PERSONNEL = "personnel"
    FRINGE = "fringe"
    TRAVEL = "travel"
    SUPPLIES = "supplies"
    CONTRACTUAL = "contractual"
    OTHER = "other"
    INDIRECT = "indirect"

    @property
    def label(self) -> str:
        return {"personnel": _("Personnel"), "fringe": _("Fringe benefits"), "travel": _("Travel"),
                "supplies": _("Supplies"), "contractual": _("Contractual / subaward"), "other": _("Other"),
                "indirect": _("Indirect costs")}[self.value]


class CollaboratorRole(enum.Enum):
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return {"editor": _("Editor"), "viewer": _("Viewer")}[self.value]


class TaskStatus(enum.Enum):
    """A task of the application's task list (GOV.UK "complete multiple tasks")."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANNOT_START = "cannot_start"

    @property
    def label(self) -> str:
        return {"not_started": _("Not yet started"), "in_progress": _("In progress"), "completed": _("Completed"),
                "cannot_start": _("Cannot start yet")}[self.value]

    @property
    def tone(self) -> str:
        return {"not_started": "secondary", "in_progress": "info", "completed": "success",
                "cannot_start": "light"}[self.value]
