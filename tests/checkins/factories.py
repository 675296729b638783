"""Factories for the check-in tests: an active award on a call with check-in statements, its
lead and partner people, and check-ins answered through the service."""

from __future__ import annotations

from grants.applications.enums import BudgetCategory
from grants.applications.models import BudgetLine
from grants.calls.models import CheckInStatement
from grants.checkins import services
from grants.extensions import db
from tests.reports.factories import partner_users, reporting_award

STATEMENTS = ("Decisions about the project are made jointly.",
              "Our organisation receives its share of funds on time.",
              "The community's priorities shape the work.")


def add_statements(call, texts=STATEMENTS) -> list[CheckInStatement]:
    call.check_in_statements = [CheckInStatement(position=position, text=text) for position, text in enumerate(texts)]
    db.session.flush()
    return call.check_in_statements


def check_in_award(make_user, make_organisation, **fields):
    """An ACTIVE award (lead + a community nonprofit + a public-health agency) whose call asks
    the three STATEMENTS; no partner sign-off, so only the check-in gates acceptance."""
    award = reporting_award(make_user, make_organisation, signoff=False, **fields)
    if not award.call.check_in_statements:
        add_statements(award.call)
    return award


def people(award):
    """(lead owner, first partner's contact, second partner's contact)."""
    return (award.application.owner, *partner_users(award))


def answer(milestone, user, *ratings: int, comment: str = "", funds_cents: int | None = None):
    statements = services.statements(milestone.award)
    ratings = ratings or (4,) * len(statements)
    check_in = services.answer_check_in(milestone, user=user, answer=services.Answer(
        ratings=dict(zip((s.id for s in statements), ratings)),
        comments={statements[0].id: comment} if comment else {}, funds_received_cents=funds_cents))
    db.session.flush()
    return check_in


def subaward(award, partner_index: int, cents: int) -> None:
    """Budget ``cents`` more to the award application's partner ``partner_index``."""
    partner = award.application.partners[partner_index]
    award.application.budget_lines.append(BudgetLine(category=BudgetCategory.CONTRACTUAL, description="Subaward",
                                                     amount_cents=cents, partner_id=partner.id))
    db.session.flush()
