"""Two officers at once: the call's row lock keeps its awards within its total funds, and the
award's row lock keeps its payments within the award.

PostgreSQL only (SQLite lets one writer at a time into the whole file, so there is no race
to lose). Each decider runs in its own thread with its own app context, session and
connection, on a database of its own whose data is really committed (not the suite's
rolled-back transaction), created here and dropped afterwards.
"""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.models import Application
from grants.awards import services
from grants.awards.enums import DecisionOutcome
from grants.awards.models import Award, Decision
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_call
from tests.awards.fixtures import make_officer
from tests.concurrency import act_after_all_read, committed_app, separate_postgresql_database
from tests.reviews.scoring_factories import light_application

TOTAL, EACH = 30_000_000, 20_000_000  # $300,000 of funds; two awards of $200,000 each do not both fit


@pytest.fixture
def database():
    """Overrides tests/conftest.py's rolled-back transaction: these tests commit for real, on
    their own database, so the threads' connections see each other's work."""
    yield None


@pytest.fixture
def racing_app(tmp_path):
    why = ("races between two officers need PostgreSQL: SQLite serialises writers on the whole file, so they "
           "cannot race there")
    with separate_postgresql_database("concurrency", why) as uri, committed_app(uri, tmp_path) as app:
        yield app


@pytest.fixture
def contest(racing_app, make_user, make_organisation):
    """Committed: a call with $300,000 of funds, two applications in review, two officers."""
    with racing_app.app_context():
        call = make_call(total_cents=TOTAL)
        lead = make_applicant(make_user, make_organisation)
        applications = [light_application(call, lead, title=f"Contender {n}") for n in (1, 2)]
        officers = [make_officer(make_user, make_organisation) for _ in (1, 2)]
        db.session.commit()
        ids = {"call": call.id, "applications": [a.id for a in applications], "officers": [o.id for o in officers]}
        db.session.remove()
    return ids


def _race(app, contest) -> list[str]:
    """Both officers award $200,000 at once: each reads the call's remaining funds (both see
    $300,000), waits until the other has read too, then decides and commits."""

    def read(application_id: int, officer_id: int):
        application = db.session.get(Application, application_id)
        assert services.remaining_cents(application.call) == TOTAL
        return application, db.session.get(User, officer_id)

    def decide(application, officer) -> None:
        services.decide_application(application, officer=officer, outcome=DecisionOutcome.AWARD, amount_cents=EACH,
                                    start_on=date(2031, 1, 1), end_on=date(2031, 12, 31), rationale="Ranked high.")

    return act_after_all_read(app, read, decide, list(zip(contest["applications"], contest["officers"])))


@pytest.fixture
def slow_first_sum(monkeypatch):
    """The first decider to sum the call's commitments pauses after summing, before it writes:
    long enough for the other to sum the same figure, unless the call's lock keeps it waiting."""
    original = services.committed_cents
    first = threading.Lock()

    def committed_then_pause(*args, **kwargs):
        amount = original(*args, **kwargs)
        if first.acquire(blocking=False):
            time.sleep(0.5)
        return amount

    monkeypatch.setattr(services, "committed_cents", committed_then_pause)


def _committed(app, contest) -> tuple[int, int]:
    with app.app_context():
        try:
            count = db.session.scalar(select(func.count(Decision.id)).where(Decision.call_id == contest["call"]))
            total = db.session.scalar(select(func.coalesce(func.sum(Decision.amount_cents), 0))
                                      .where(Decision.call_id == contest["call"]))
            return count, total
        finally:
            db.session.remove()


def test_two_officers_awarding_at_once_never_exceed_the_total_funds(racing_app, contest, slow_first_sum):
    outcomes = _race(racing_app, contest)
    assert len(outcomes) == 2 and outcomes.count("done") == 1
    [refusal] = [o for o in outcomes if o != "done"]
    assert "over its total funds of $300,000 (still available: $100,000)" in refusal
    count, total = _committed(racing_app, contest)
    assert count == 1 and total == EACH <= TOTAL


def test_without_the_call_lock_both_would_win(racing_app, contest, monkeypatch):
    """The control: without the lock, two deciders that both sum before either writes (a
    barrier makes sure of it here) over-commit the call; the lock is what prevents it."""
    original = services.committed_cents
    both_summed = threading.Barrier(2, timeout=30)

    def committed_then_wait(*args, **kwargs):
        amount = original(*args, **kwargs)
        both_summed.wait()
        return amount

    monkeypatch.setattr(services, "committed_cents", committed_then_wait)
    monkeypatch.setattr(services, "lock_call", lambda call: None)
    outcomes = _race(racing_app, contest)
    assert outcomes == ["done", "done"]
    count, total = _committed(racing_app, contest)
    assert count == 2 and total == 2 * EACH > TOTAL


def test_two_officers_adding_payments_to_one_award_at_once_never_exceed_it(racing_app, make_user,
                                                                           make_organisation):
    """$20,000 of a $100,000 award is in no payment; two officers each add a milestone paying
    $20,000 at the same moment: one is refused, and the payments stay within the award."""
    from tests.awards.fixtures import make_active_award

    with racing_app.app_context():
        award = make_active_award(make_user, make_organisation)
        first = award.milestones[0]
        services.adjust_milestone(first, officer=None, name=first.name, due_on=first.due_on, payment_cents=None)
        officers = [make_officer(make_user, make_organisation).id for _ in (1, 2)]
        db.session.commit()
        award_id = award.id
        db.session.remove()

    def read(officer_id: int):
        award = db.session.get(Award, award_id)
        assert services.unscheduled_cents(award) == 2_000_000
        return award, db.session.get(User, officer_id)

    def add(award, officer) -> None:
        services.add_milestone(award, officer=officer, name=f"Forum by {officer.full_name}",
                               due_on=award.start_on + timedelta(days=90), payment_cents=2_000_000)

    outcomes = act_after_all_read(racing_app, read, add, [(officer_id,) for officer_id in officers])
    assert len(outcomes) == 2 and outcomes.count("done") == 1
    assert any("at most $0 can go to this milestone" in outcome for outcome in outcomes)
    with racing_app.app_context():
        try:
            award = db.session.get(Award, award_id)
            assert sum(p.amount_cents for p in award.payments) == award.amount_cents
            assert len(award.milestones) == 4
        finally:
            db.session.remove()
