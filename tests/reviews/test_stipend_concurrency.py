"""Two officers recording the same stipend paid at once: the panel member's row lock lets one
through and shows the other what was recorded, so a stipend is never paid twice.

PostgreSQL only (SQLite lets one writer at a time into the whole file, so there is no race to
lose); on a database of its own whose data is really committed, as in tests/awards/test_concurrency.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import Role
from grants.accounts.models import User
from grants.audit.models import AuditEvent
from grants.extensions import db
from grants.reviews import services, stipends
from grants.reviews.models import PanelMember, ReviewerStipend
from tests.concurrency import act_after_all_read, committed_app, separate_postgresql_database
from tests.reviews.stipend_factories import build_stipend_world, member_of


@pytest.fixture
def database():
    """Overrides tests/conftest.py's rolled-back transaction: these tests commit for real."""
    yield None


@pytest.fixture
def racing_app(tmp_path):
    why = "races between two officers need PostgreSQL: SQLite serialises writers on the whole file"
    with separate_postgresql_database("stipend_race", why) as uri, committed_app(uri, tmp_path) as app:
        yield app


@pytest.mark.parametrize("first_payment", [True, False], ids=["no record yet", "after an undo"])
def test_two_officers_paying_one_stipend_at_once_pay_it_once(racing_app, make_user, make_organisation,
                                                             first_payment):
    with racing_app.app_context():
        world = build_stipend_world(make_user, make_organisation)
        second = make_user(Role.PROGRAM_OFFICER, organisation=world.officer.organisation)
        member = member_of(world.call, world.community)
        version = 0
        if not first_payment:
            stipends.mark_stipend_paid(member, officer=world.officer, paid_on=services.local_today(world.call),
                                       reference="", expected_version=0)
            stipends.undo_stipend_paid(member, officer=world.officer, reason="Wrong amount", expected_version=1)
            version = 2
        db.session.commit()
        ids = (member.id, [world.officer.id, second.id])
        db.session.remove()

    def read(member_id: int, officer_id: int):
        member = db.session.get(PanelMember, member_id)
        # Both see it owed, from the same version of the record.
        line = next(line for line in stipends.stipend_lines(member.call) if line.member.id == member_id)
        assert (line.state, line.version) == (stipends.StipendState.OWED, version)
        return member, db.session.get(User, officer_id)

    def pay(member, officer) -> None:
        stipends.mark_stipend_paid(member, officer=officer, paid_on=services.local_today(member.call),
                                   reference=f"CHQ {officer.id}", expected_version=version)

    outcomes = act_after_all_read(racing_app, read, pay, [(ids[0], officer_id) for officer_id in ids[1]])

    assert len(outcomes) == 2 and outcomes.count("done") == 1, outcomes
    [refusal] = [outcome for outcome in outcomes if outcome != "done"]
    assert "is already recorded as paid" in refusal or "a moment ago" in refusal, refusal
    with racing_app.app_context():
        try:
            assert db.session.scalar(select(func.count()).select_from(ReviewerStipend)) == 1
            assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "stipend.paid")) == (1 if first_payment else 2)
        finally:
            db.session.remove()
