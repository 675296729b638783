"""A call whose reviewers earn stipends, as rows (the rules are tested through
grants.reviews.stipends in test_stipends.py).

``build_stipend_world``: two applications in review; a community reviewer who submitted both
(a complete set), a community reviewer who submitted one of two (not complete), an academic
reviewer who submitted both (not eligible by the rule); the review closed two days ago unless
``review_open``, with a stipend of $150 per completed set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.models import PanelMember
from tests.applications.fixtures import make_call
from tests.reviews.fixtures import assign
from tests.reviews.scoring_factories import light_application, review_settings, submitted_review

STIPEND_CENTS = 15_000


@dataclass
class StipendWorld:
    officer: object
    call: object
    applications: list
    community: object  # Westside Neighbours (community nonprofit): both reviews submitted
    unfinished: object  # Lake County Health (public-health agency): one of two submitted
    academic: object  # Northgate University (member institution): both submitted
    settings: object


def member_of(call, user) -> PanelMember:
    return db.session.scalar(select(PanelMember).where(PanelMember.call_id == call.id, PanelMember.user_id == user.id))


def build_stipend_world(make_user, make_organisation, *, review_open: bool = False,
                        stipend_cents: int | None = STIPEND_CENTS, title: str = "Stipend Partnerships") -> StipendWorld:
    funder = make_organisation(f"{title} Funder", kind=OrganisationKind.OTHER)
    officer = make_user(Role.PROGRAM_OFFICER, organisation=funder, full_name="Olive Officer")
    call = make_call(title=title)
    owner = make_user(Role.APPLICANT, organisation=make_organisation(f"{title} Medical Center"))
    applications = [light_application(call, owner, title=f"{title} application {n}") for n in (1, 2)]
    community = make_user(Role.REVIEWER, full_name="Cody Community", organisation=make_organisation(
        f"{title} Westside Neighbours", kind=OrganisationKind.COMMUNITY_NONPROFIT))
    unfinished = make_user(Role.REVIEWER, full_name="Una Unfinished", organisation=make_organisation(
        f"{title} Lake County Health", kind=OrganisationKind.PUBLIC_HEALTH_AGENCY))
    academic = make_user(Role.REVIEWER, full_name="Ada Academic",
                         organisation=make_organisation(f"{title} Northgate University"))
    for application in applications:
        submitted_review(application, community, 80)
        submitted_review(application, academic, 60)
    submitted_review(applications[0], unfinished, 70)
    assign(applications[1], unfinished)
    closes_at = utcnow() + (timedelta(days=5) if review_open else -timedelta(days=2))
    settings = review_settings(call, review_closes_at=closes_at, stipend_cents=stipend_cents)
    return StipendWorld(officer, call, applications, community, unfinished, academic, settings)
