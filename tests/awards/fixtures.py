"""Factories for the awards tests: program officers, applications ready for a decision,
decisions, offered awards and active awards with their milestones and payments.

Import them: ``from tests.awards.fixtures import make_active_award, ...``. They take the
``make_user`` and ``make_organisation`` fixtures as their first arguments and build on
tests/applications/fixtures.py. Decisions, offers and acceptance go through
grants.awards.services (the real rules), so an award made here is what the app makes.

- make_awardable_application(...) → an IN_REVIEW application (complete, submitted, screened
  in; or rows only with ``light=True``: faster, no documents).
- make_offered_award(...) → an OFFERED award (decided and released; the letters queued).
- make_active_award(...) → an accepted, ACTIVE award: milestones and SCHEDULED payments from
  the call's milestone template (DEFAULT_TEMPLATE unless ``milestones`` says otherwise).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services as application_services
from grants.awards import services
from grants.awards.enums import DecisionOutcome
from grants.awards.models import Award, Decision
from grants.calls.models import MilestoneTemplate
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_application, make_call

# (name, offset days from the award's start, payment share %): the template make_active_award
# gives the call unless told otherwise.
DEFAULT_TEMPLATE = (("Inception report", 30, 20), ("Interim report", 180, 30), ("Final report", 365, 50))
DEFAULT_AMOUNT_CENTS = 10_000_000  # $100,000: within make_call's floor ($50,000) and ceiling ($250,000)


def default_start_on() -> date:
    """A month from today: every milestone of DEFAULT_TEMPLATE is upcoming."""
    return date.today() + timedelta(days=30)


def make_officer(make_user, make_organisation, **fields):
    funder = make_organisation(f"Funder {make_organisation().id}", kind=OrganisationKind.OTHER)
    return make_user(Role.PROGRAM_OFFICER, organisation=funder, **fields)


def make_awardable_application(make_user, make_organisation, *, call=None, owner=None,
                               title: str = "Trusted messengers for heart health", light: bool = False,
                               requested_cents: int = 10_000_000):
    """An application IN_REVIEW, ready for a decision.

    By default a complete application (two partners, who are also its collaborators, budget
    $100,000, documents, sign-offs) to ``call`` (default: a new open make_call()), submitted
    by ``owner`` (default: a new applicant of a member institution) and screened in. With
    ``light``: rows only, one budget line of ``requested_cents``, no partners or documents.
    ``call`` must be open unless ``light``.
    """
    call = call or make_call()
    owner = owner or make_applicant(make_user, make_organisation)
    if light:
        from tests.reviews.scoring_factories import light_application

        return light_application(call, owner, title=title, requested_cents=requested_cents)
    partners = [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT),
                make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY)]
    application = make_application(call, owner, title=title, submitted=True, partner_users=partners)
    application_services.screen_application(application, officer=None, eligible=True)
    db.session.flush()
    return application


def make_decision(application, officer, *, outcome: DecisionOutcome = DecisionOutcome.AWARD,
                  amount_cents: int = DEFAULT_AMOUNT_CENTS, start_on: date | None = None,
                  end_on: date | None = None, terms: str = "Report on each milestone; acknowledge the funder.",
                  rationale: str = "Strong partnership, ranked high.",
                  include_review_comments: bool = False) -> Decision:
    """An unreleased decision, through the service (so the money rules apply)."""
    start_on = start_on or default_start_on()
    decision = services.decide_application(
        application, officer=officer, outcome=outcome, amount_cents=amount_cents, start_on=start_on,
        end_on=end_on or start_on + timedelta(days=365), terms=terms, rationale=rationale,
        include_review_comments=include_review_comments)
    db.session.flush()
    return decision


def make_offered_award(make_user, make_organisation, *, application=None, officer=None,
                       amount_cents: int = DEFAULT_AMOUNT_CENTS, start_on: date | None = None,
                       end_on: date | None = None, terms: str = "Report on each milestone; acknowledge the funder.",
                       **application_fields) -> Award:
    """An OFFERED award: ``application`` (default: make_awardable_application(**application_fields))
    decided by ``officer`` and released (the application is AWARDED, the letters queued)."""
    application = application or make_awardable_application(make_user, make_organisation, **application_fields)
    officer = officer or make_officer(make_user, make_organisation)
    make_decision(application, officer, amount_cents=amount_cents, start_on=start_on, end_on=end_on, terms=terms)
    services.release_decisions(application.call, officer=officer, application_ids=[application.id], confirm_early=True)
    db.session.flush()
    return db.session.scalar(select(Award).where(Award.application_id == application.id))


def set_milestone_template(call, milestones) -> None:
    """Replace the call's milestone template with (name, offset_days, share %) triples."""
    call.milestones = [MilestoneTemplate(position=position, name=name, offset_days=offset, payment_share_percent=share)
                       for position, (name, offset, share) in enumerate(milestones)]
    db.session.flush()


def make_active_award(make_user, make_organisation, *, milestones=DEFAULT_TEMPLATE, **fields) -> Award:
    """An accepted, ACTIVE award with milestones and SCHEDULED payments generated from the
    call's template. ``milestones`` (name, offset_days, share %) replace the call's template
    first; pass None to keep the call's own. Other arguments as make_offered_award (and
    make_awardable_application: call, owner, title, light, requested_cents)."""
    application = fields.pop("application", None) or make_awardable_application(
        make_user, make_organisation, **{key: fields.pop(key) for key in
                                         ("call", "owner", "title", "light", "requested_cents") if key in fields})
    if milestones is not None:
        set_milestone_template(application.call, milestones)
    award = make_offered_award(make_user, make_organisation, application=application, **fields)
    services.accept_award(award, user=application.owner, confirm_terms=True)
    db.session.flush()
    return award
