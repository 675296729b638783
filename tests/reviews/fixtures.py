"""Factories for the review tests: panel members, in-review applications, assignments, and
a whole review world (a call, an application in review, reviewers who may and may not
review it).

Import them: ``from tests.reviews.fixtures import make_panel_member, ...``. They build on
tests/applications/fixtures.py (make_call, make_application). Panel members and assignments
are built as rows (not through the services) so a test can set up any state, even one the
rules refuse (a conflicted reviewer holding an assignment); the rules themselves are tested
through grants.reviews.services in test_services.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from grants.accounts.enums import OrganisationKind, Role
from grants.accounts.models import UserRole
from grants.applications import services as application_services
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus, PanelMemberStatus
from grants.reviews.models import PanelMember, ReviewAssignment
from tests.applications.fixtures import invite_and_accept, make_applicant, make_application, make_call


def make_panel_member(call, user, sub_panel: str = "", cap: int = 8, active: bool = True) -> PanelMember:
    """``user`` on ``call``'s panel (ACTIVE, with the Reviewer role) or only INVITED."""
    member = PanelMember(call_id=call.id, email=user.email, user_id=user.id if active else None,
                         sub_panel=sub_panel, workload_cap=cap,
                         status=PanelMemberStatus.ACTIVE if active else PanelMemberStatus.INVITED,
                         token_hash=secrets.token_hex(32), active_at=utcnow() if active else None)
    if active and not user.has_role(Role.REVIEWER):
        user.role_rows.append(UserRole(role=Role.REVIEWER))
    db.session.add(member)
    db.session.flush()
    return member


def make_in_review_application(call, owner, partner_users, *, title: str = "Trusted messengers for heart health"):
    """A complete application, submitted by ``owner`` with ``partner_users`` as partners
    (and collaborators, through their sign-off), then screened in."""
    application = make_application(call, owner, title=title, submitted=True, partner_users=partner_users)
    application_services.screen_application(application, officer=None, eligible=True)
    db.session.flush()
    return application


def assign(application, reviewer, attested: bool = True, *, due_on: date | None = None) -> ReviewAssignment:
    """``reviewer`` assigned to ``application`` (made an active panel member of its call if
    needed); IN_PROGRESS when ``attested``, else ASSIGNED."""
    from sqlalchemy import select

    member = db.session.scalar(select(PanelMember).where(PanelMember.call_id == application.call_id,
                                                         PanelMember.user_id == reviewer.id))
    if member is None:
        make_panel_member(application.call, reviewer)
    now = utcnow()
    assignment = ReviewAssignment(call_id=application.call_id, application_id=application.id,
                                  reviewer_id=reviewer.id, due_on=due_on or (date.today() + timedelta(days=14)),
                                  status=AssignmentStatus.IN_PROGRESS if attested else AssignmentStatus.ASSIGNED,
                                  attested_at=now if attested else None, in_progress_at=now if attested else None)
    db.session.add(assignment)
    db.session.flush()
    return assignment


@dataclass
class ReviewWorld:
    officer: object
    call: object
    lead: object  # the application's owner, of Riverside Medical (the lead organisation)
    partners: list  # users of Eastside Alliance and Lake County Health, partner contacts
    application: object  # in review
    academic: object  # reviewer of Northgate University, sub-panel Academic: no conflict
    community: object  # reviewer of Westside Neighbours, sub-panel Community: no conflict
    lead_colleague: object  # reviewer of the lead organisation: conflicted
    partner_colleague: object  # reviewer of a partner organisation: conflicted
    collaborator: object  # reviewer of an unrelated organisation who works on the application: conflicted

    @property
    def conflicted(self) -> dict:
        return {"lead organisation": self.lead_colleague, "partner organisation": self.partner_colleague,
                "collaborator": self.collaborator}


def build_review_world(make_user, make_organisation) -> ReviewWorld:
    """Everyone on the call's panel (active), the application in review, nobody assigned."""
    officer = make_user(Role.PROGRAM_OFFICER, organisation=make_organisation("Funder", kind=OrganisationKind.OTHER),
                        full_name="Olive Officer")
    call = make_call()
    lead = make_applicant(make_user, make_organisation, name="Riverside Medical")
    partners = [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                               name="Eastside Alliance"),
                make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                               name="Lake County Health")]
    application = make_in_review_application(call, lead, partners)
    academic = make_user(Role.REVIEWER, organisation=make_organisation("Northgate University"),
                         full_name="Ada Academic")
    community = make_user(Role.REVIEWER, organisation=make_organisation(
        "Westside Neighbours", kind=OrganisationKind.COMMUNITY_NONPROFIT), full_name="Cody Community")
    lead_colleague = make_user(Role.REVIEWER, organisation=lead.organisation, full_name="Lee Leadcolleague")
    partner_colleague = make_user(Role.REVIEWER, organisation=partners[0].organisation,
                                  full_name="Pat Partnercolleague")
    collaborator = make_user(Role.REVIEWER, organisation=make_organisation("Hilltop College"),
                             full_name="Cole Collaborator")
    invite_and_accept(application, collaborator)
    make_panel_member(call, academic, sub_panel="Academic")
    make_panel_member(call, community, sub_panel="Community")
    for user in (lead_colleague, partner_colleague, collaborator):
        make_panel_member(call, user, sub_panel="Academic")
    return ReviewWorld(officer, call, lead, partners, application, academic, community, lead_colleague,
                       partner_colleague, collaborator)
