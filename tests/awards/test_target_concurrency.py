"""Two officers decide the same short report at once, one releasing its payment with a
justification, the other holding it: the milestone's row lock lets exactly one decision
through, so the payment is held or justified, never both. PostgreSQL only (see
tests/awards/test_concurrency.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.accounts.models import User
from grants.audit.models import AuditEvent
from grants.awards import targets
from grants.reports import services as reporting
from grants.awards.enums import MilestoneStatus, PaymentHold, ShortfallChoice
from grants.awards.models import Milestone
from grants.extensions import db
from tests.awards.fixtures import make_officer
from tests.reports.factories import reporting_award, submit
from tests.awards.test_concurrency import database, racing_app  # noqa: F401 - fixtures: a committed PostgreSQL database
from tests.concurrency import act_after_all_read

CHOICES = ((ShortfallChoice.RELEASE, "On track otherwise; release it."),
           (ShortfallChoice.HOLD, "Send a revised plan first."))


@pytest.fixture
def contest(racing_app, make_user, make_organisation):
    """Committed: a report short of its milestone's target (1,200 of 1,500 reached), two officers."""
    with racing_app.app_context():
        award = reporting_award(make_user, make_organisation, signoff=False)
        officers = [make_officer(make_user, make_organisation) for _ in (1, 2)]
        milestone = award.milestones[0]
        reached, _ = award.call.metrics
        targets.set_milestone_targets(milestone, officer=officers[0], targets={reached.id: 1500})
        submit(milestone, award.application.owner)
        db.session.commit()
        ids = {"milestone": milestone.id, "officers": [o.id for o in officers]}
        db.session.remove()
    return ids


def _race(app, contest) -> list[str]:
    def read(officer_id, choice, reason):
        milestone = db.session.get(Milestone, contest["milestone"])
        milestone.payment, milestone.reports  # loaded before the other officer acts  # noqa: B018
        return milestone, db.session.get(User, officer_id), choice, reason

    def act(milestone, officer, choice, reason):
        reporting.accept_report(milestone, officer=officer, shortfall_choice=choice, shortfall_reason=reason)

    return act_after_all_read(app, read, act, [(officer_id, *choice) for officer_id, choice
                                               in zip(contest["officers"], CHOICES)])


def _payment(app, contest):
    with app.app_context():
        try:
            milestone = db.session.get(Milestone, contest["milestone"])
            payment = milestone.payment
            actions = db.session.scalars(select(AuditEvent.action).where(
                AuditEvent.object_type == "Payment", AuditEvent.object_id == str(payment.id))).all()
            return milestone.status, payment.hold, payment.shortfall_justification, sorted(actions)
        finally:
            db.session.remove()


def test_two_officers_deciding_one_short_report_at_once_hold_or_justify_never_both(racing_app, contest):
    outcomes = _race(racing_app, contest)
    assert sorted(outcomes)[-1] == "done"
    assert "There is no report waiting for a decision" in sorted(outcomes)[0]
    status, hold, justification, actions = _payment(racing_app, contest)
    assert status is MilestoneStatus.ACCEPTED
    assert (hold is PaymentHold.HELD) != bool(justification), (hold, justification)
    assert len(actions) == 1 and actions[0] in ("payment.held", "payment.release_justified")


def test_without_the_locks_both_decisions_would_land(racing_app, contest, monkeypatch):
    monkeypatch.setattr(reporting, "_lock", lambda obj, *names: obj)
    monkeypatch.setattr(targets, "lock_row", lambda obj, *names: obj)
    assert _race(racing_app, contest) == ["done", "done"]
    _status, hold, justification, actions = _payment(racing_app, contest)
    assert hold is PaymentHold.HELD and justification == "On track otherwise; release it."
    assert actions == ["payment.held", "payment.release_justified"]
