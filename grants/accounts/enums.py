"""States and kinds of the accounts domain."""

from __future__ import annotations

import enum

from flask_babel import gettext as _


class OrganisationKind(enum.Enum):
    MEMBER_INSTITUTION = "member_institution"
    COMMUNITY_NONPROFIT = "community_nonprofit"
    PUBLIC_HEALTH_AGENCY = "public_health_agency"
    SOCIAL_SERVICE_AGENCY = "social_service_agency"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "member_institution": _("Member institution"),
            "community_nonprofit": _("Community nonprofit"),
            "public_health_agency": _("Public-health agency"),
            "social_service_agency": _("Social-service agency"),
            "other": _("Other"),
        }[self.value]

    @property
    def is_community_partner(self) -> bool:
        return self is not OrganisationKind.MEMBER_INSTITUTION


class OrganisationStatus(enum.Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    # Its members cannot log in and their sessions have ended, until it is approved again.
    SUSPENDED = "suspended"


ORGANISATION_TRANSITIONS = {
    OrganisationStatus.PROPOSED: frozenset({OrganisationStatus.APPROVED, OrganisationStatus.REJECTED}),
    OrganisationStatus.APPROVED: frozenset({OrganisationStatus.SUSPENDED}),
    OrganisationStatus.REJECTED: frozenset({OrganisationStatus.APPROVED}),
    OrganisationStatus.SUSPENDED: frozenset({OrganisationStatus.APPROVED}),
}


class Role(enum.Enum):
    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    PROGRAM_OFFICER = "program_officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"applicant": _("Applicant"), "reviewer": _("Reviewer"), "program_officer": _("Program officer"),
                "admin": _("Admin")}[self.value]


class UserStatus(enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    DEACTIVATED = "deactivated"


USER_TRANSITIONS = {
    UserStatus.PENDING: frozenset({UserStatus.ACTIVE, UserStatus.REJECTED}),
    UserStatus.ACTIVE: frozenset({UserStatus.DEACTIVATED}),
    UserStatus.REJECTED: frozenset({UserStatus.ACTIVE}),
    UserStatus.DEACTIVATED: frozenset({UserStatus.ACTIVE}),
}
