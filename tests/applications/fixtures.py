"""Factories for calls and applications in every state the application tests need.

Built directly as model rows (not through the call services) so each test says exactly the
rules it depends on. Import them: ``from tests.applications.fixtures import make_call, ...``.
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.enums import BudgetCategory
from grants.calls.enums import CallStatus, DocumentScope
from grants.calls.models import Call, CallDocument, CallQuestion, MilestoneTemplate, RubricCriterion
from grants.core.types import utcnow
from grants.extensions import db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def make_call(*, title: str = "Community Trust Partnerships", opens_in_days: int = -10, closes_in_days: int = 20,
              status: CallStatus = CallStatus.PUBLISHED, min_partners: int = 2, min_community_share_percent: int = 40,
              requires_partner_signoff: bool = True, word_limit: int = 50, lead_kinds=("member_institution",),
              partner_kinds=("community_nonprofit", "public_health_agency", "social_service_agency"),
              floor_cents: int = 5_000_000, ceiling_cents: int = 25_000_000,
              total_cents: int = 100_000_000) -> Call:
    """A call with two questions (one optional), a proposal document and a per-partner letter."""
    now = utcnow()
    call = Call(
        title=title, summary="Trust and two-way communication with communities.", description="Fund partnerships.",
        eligibility="Member institutions with community partners.", time_zone="America/Chicago",
        opens_at=now + timedelta(days=opens_in_days), closes_at=now + timedelta(days=closes_in_days),
        award_floor_cents=floor_cents, award_ceiling_cents=ceiling_cents, total_funds_cents=total_cents,
        expected_awards=4, lead_kinds=list(lead_kinds), partner_kinds=list(partner_kinds), min_partners=min_partners,
        min_community_share_percent=min_community_share_percent, requires_partner_signoff=requires_partner_signoff,
        status=status, published_at=now if status is not CallStatus.DRAFT else None,
    )
    call.questions = [
        CallQuestion(position=0, prompt="How will the partnership build trust?", word_limit=word_limit,
                     is_required=True),
        CallQuestion(position=1, prompt="Anything else?", word_limit=None, is_required=False),
    ]
    call.documents = [
        CallDocument(position=0, name="Project narrative", scope=DocumentScope.PER_APPLICATION, is_required=True),
        CallDocument(position=1, name="Letter of commitment", scope=DocumentScope.PER_PARTNER, is_required=True),
    ]
    call.criteria = [RubricCriterion(position=0, name="Community engagement", weight=60, scale_min=1, scale_max=5),
                     RubricCriterion(position=1, name="Feasibility", weight=40, scale_min=1, scale_max=5)]
    call.milestones = [MilestoneTemplate(position=0, name="Final report", offset_days=365, payment_share_percent=100)]
    db.session.add(call)
    db.session.flush()
    return call


def make_applicant(make_user, make_organisation, *, kind=OrganisationKind.MEMBER_INSTITUTION, name=None, email=None):
    organisation = make_organisation(name, kind=kind)
    return make_user(Role.APPLICANT, organisation=organisation, email=email)


def make_application(call: Call, owner, *, title: str = "Trusted messengers for heart health",
                     submitted: bool = False, partner_users=()) -> object:
    """A draft; with ``submitted``, completed with ``partner_users`` as partners (see
    complete_application) and submitted by its owner."""
    application = services.start_application(call, owner=owner, title=title)
    if submitted:
        complete_application(application, partner_users)
        services.submit_application(application, submitted_by=owner, expected_version=None)
        db.session.flush()
    return application


def complete_application(application, partner_users, *, sign_off: bool = True):
    """Fill every section so the call's checklist passes: summary, answer, partners with
    letters, a budget with 60% to community partners, documents, sign-offs."""
    owner = application.owner
    services.update_overview(application, editor=owner, expected_version=None, title=application.title,
                             summary="Community health workers and clinicians co-design outreach.")
    question = application.call.questions[0]
    services.save_answers(application, editor=owner, expected_version=None,
                          texts={question.id: "We will meet monthly with residents and act on what they say."})
    partners = []
    for user in partner_users:
        partners.append(services.add_partner(application, editor=owner, expected_version=None,
                                             organisation=user.organisation, contact_name=user.full_name,
                                             contact_email=user.email, role_in_project="Co-leads outreach"))
    services.add_budget_line(application, editor=owner, expected_version=None, category=BudgetCategory.PERSONNEL,
                             description="Project coordinator", amount_cents=4_000_000)
    for partner in partners:
        services.add_budget_line(application, editor=owner, expected_version=None,
                                 category=BudgetCategory.CONTRACTUAL, description="Community health workers",
                                 amount_cents=3_000_000, partner_id=partner.id)
    for document in application.call.documents:
        targets = partners if document.scope.value == "per_partner" else [None]
        for partner in targets:
            services.upload_document(application, editor=owner, expected_version=None, call_document=document,
                                     partner=partner, stream=BytesIO(PDF), filename="letter.pdf")
    if sign_off:
        for partner, user in zip(partners, partner_users):
            invite_and_accept(application, user)
            services.sign_off_partner(partner, user=user)
    db.session.flush()
    return partners


def invite_and_accept(application, user, role=None):
    from grants.applications.enums import CollaboratorRole
    from grants.applications.models import Collaborator

    collaborator = Collaborator(email=user.email, role=role or CollaboratorRole.VIEWER, token_hash=f"t-{user.id}-"
                                f"{application.id}", invited_by_id=application.owner_id, user_id=user.id,
                                accepted_at=utcnow())
    application.collaborators.append(collaborator)
    db.session.flush()
    return collaborator
