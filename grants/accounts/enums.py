"""States and kinds of the accounts domain."""

from __future__ import annotations

import enum


class OrganisationKind(enum.Enum):
    MEMBER_INSTITUTION = "member_institution"
    COMMUNITY_NONPROFIT = "community_nonprofit"
    PUBLIC_HEALTH_AGENCY = "public_health_agency"
    SOCIAL_SERVICE_AGENCY = "social_service_agency"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "member_institution": "Member institution",
            "community_nonprofit": "Community nonprofit",
            "public_health_agency": "Public-health agency",
            "social_service_agency": "Social-service agency",
            "other": "Other",
        }[self.value]

    @property
    def is_community_partner(self) -> bool:
        return self is not OrganisationKind.MEMBER_INSTITUTION


class OrganisationStatus(enum.Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


ORGANISATION_TRANSITIONS = {
    OrganisationStatus.PROPOSED: frozenset({OrganisationStatus.APPROVED, OrganisationStatus.REJECTED}),
    OrganisationStatus.APPROVED: frozenset(),
    OrganisationStatus.REJECTED: frozenset({OrganisationStatus.APPROVED}),
}


class Role(enum.Enum):
    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    PROGRAM_OFFICER = "program_officer"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


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
