"""Payments: released only after their milestone's report is accepted, never beyond the
award, then marked paid; the money figures per award and per call; the officer's buttons."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind
from grants.audit.models import AuditEvent
from grants.awards import payments
from grants.reports import services as reporting
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentMethod, PaymentStatus
from grants.portfolio.queries import funds_by_award, funds_by_call
from grants.core.errors import DomainError
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_call
from tests.reports.factories import accept, award_rows, officer_for, reporting_award, submit
from tests.awards.test_concurrency import racing_app  # noqa: F401 - a fixture: a committed PostgreSQL database
from tests.conftest import fresh

RELEASE = {"method": PaymentMethod.BANK_TRANSFER, "confirmed": True}
PAID = {"reference": "ACH 0001", "confirmed": True}
# What the officer's forms post besides the date: the method or reference, and the confirmation.
RELEASE_FORM = {"method": "bank_transfer", "confirm": "y"}
PAID_FORM = {"reference": "ACH 0001", "confirm": "y"}


@pytest.fixture
def award(make_user, make_organisation):
    return reporting_award(make_user, make_organisation, signoff=False)


@pytest.fixture
def officer(make_user, make_organisation):
    return officer_for(make_user, make_organisation)


def _payment_state(payment):
    db.session.commit()
    db.session.expire_all()
    return (payment.status, payment.released_at, payment.paid_at, payment.paid_on,
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "Payment",
                                                               AuditEvent.object_id == str(payment.id))).all())


def _refused(payment, action, match: str):
    """``action`` is refused with ``match`` and leaves the payment as it was."""
    before = _payment_state(payment)
    with pytest.raises(DomainError, match=match):
        action()
    db.session.rollback()
    assert _payment_state(fresh(payment)) == before


# --- release ----------------------------------------------------------------------------------

def test_the_payments_are_the_milestones_shares_of_the_award(award):
    assert [p.amount_cents for p in award.payments] == [2_000_000, 3_000_000, 5_000_000]
    assert all(p.status is PaymentStatus.SCHEDULED for p in award.payments)


def test_a_payment_is_not_released_before_its_report_is_accepted(award, officer):
    payment = award.milestones[0].payment
    _refused(payment, lambda: payments.release_payment(payment, officer=officer, **RELEASE),
             "released once the report for “Inception report” is accepted; that milestone is upcoming")
    payment = fresh(payment)
    submit(payment.milestone, payment.award.application.owner)
    _refused(payment, lambda: payments.release_payment(payment, officer=officer, **RELEASE), "that milestone is submitted")


def test_a_payment_is_released_once_its_report_is_accepted(award, officer, outbox):
    milestone = award.milestones[0]
    accept(milestone, officer)
    payment = payments.release_payment(milestone.payment, officer=officer, **RELEASE)
    db.session.flush()
    assert payment.status is PaymentStatus.RELEASED and payment.released_at is not None
    assert outbox(kind="payment_released")[0].recipient == award.application.owner.email
    with pytest.raises(DomainError, match="already released"):
        payments.release_payment(payment, officer=officer, **RELEASE)


def test_payments_never_exceed_the_award(award, officer):
    inception, interim, _ = award.milestones
    accept(inception, officer)
    accept(interim, officer)
    payments.release_payment(inception.payment, officer=officer, **RELEASE)
    # As if the award had been cut after the schedule was made: $20,000 released, $40,000 left.
    award.amount_cents = 4_000_000
    payment = interim.payment
    _refused(payment, lambda: payments.release_payment(payment, officer=officer, **RELEASE),
             r"bring the released and paid payments to \$50,000, more than the award of \$40,000")


def test_release_is_refused_on_a_terminated_award(award, officer):
    milestone = award.milestones[0]
    accept(milestone, officer)
    award.status = AwardStatus.TERMINATED
    payment = milestone.payment
    _refused(payment, lambda: payments.release_payment(payment, officer=officer, **RELEASE), "This award is terminated")


def test_the_final_payment_is_released_after_closeout(award, officer):
    for milestone in award.milestones:
        accept(milestone, officer)
    assert award.status is AwardStatus.COMPLETED
    for payment in award.payments:
        payments.release_payment(payment, officer=officer, **RELEASE)
    assert payments.committed_cents(award) == award.amount_cents


# --- paid -------------------------------------------------------------------------------------

def test_mark_paid_records_the_date(award, officer):
    milestone = award.milestones[0]
    accept(milestone, officer)
    payment = payments.release_payment(milestone.payment, officer=officer, **RELEASE)
    today = reporting.local_today(award.call)
    payments.mark_paid(payment, officer=officer, paid_on=today, **PAID)
    db.session.flush()
    assert (payment.status, payment.paid_on) == (PaymentStatus.PAID, today)
    assert payment.paid_at is not None


def test_mark_paid_refusals(award, officer):
    milestone = award.milestones[0]
    payment = milestone.payment
    today = reporting.local_today(award.call)
    _refused(payment, lambda: payments.mark_paid(payment, officer=officer, paid_on=today, **PAID),
             "Only a released payment can be marked paid; this one is scheduled")
    accept(fresh(milestone), officer)
    payments.release_payment(fresh(payment), officer=officer, **RELEASE)
    payment = fresh(payment)
    _refused(payment, lambda: payments.mark_paid(payment, officer=officer, paid_on=today + timedelta(days=1), **PAID),
             "cannot be in the future")
    _refused(payment, lambda: payments.mark_paid(payment, officer=officer, paid_on=today - timedelta(days=3), **PAID),
             "cannot be before its release")
    _refused(payment, lambda: payments.mark_paid(payment, officer=officer, paid_on=None, **PAID), "Give the date")


# --- totals per award and per call ------------------------------------------------------------

def test_totals_per_award_and_per_call(make_user, make_organisation):
    owner = make_applicant(make_user, make_organisation)
    first_call, second_call = make_call(title="First"), make_call(title="Second")
    past = date.today() - timedelta(days=100)
    one = award_rows(first_call, owner, amount_cents=10_000_000, milestones=[
        dict(due_on=past, status=MilestoneStatus.ACCEPTED, first_submitted_on=past, payment_cents=2_000_000,
             payment_status=PaymentStatus.PAID),
        dict(due_on=past, status=MilestoneStatus.ACCEPTED, first_submitted_on=past, payment_cents=3_000_000,
             payment_status=PaymentStatus.RELEASED),
        dict(due_on=past + timedelta(days=300), payment_cents=5_000_000)])
    two = award_rows(first_call, owner, amount_cents=6_000_000, status=AwardStatus.OFFERED)
    award_rows(first_call, owner, amount_cents=9_000_000, status=AwardStatus.DECLINED)
    three = award_rows(second_call, owner, amount_cents=4_000_000, status=AwardStatus.COMPLETED, milestones=[
        dict(due_on=past, status=MilestoneStatus.ACCEPTED, first_submitted_on=past, payment_cents=4_000_000,
             payment_status=PaymentStatus.PAID)])
    by_award = funds_by_award()
    assert set(by_award) == {one.id, two.id, three.id}  # the declined award counts nowhere
    assert (by_award[one.id].awarded_cents, by_award[one.id].released_cents, by_award[one.id].paid_cents,
            by_award[one.id].remaining_cents) == (10_000_000, 5_000_000, 2_000_000, 8_000_000)
    assert (by_award[two.id].released_cents, by_award[two.id].remaining_cents) == (0, 6_000_000)
    by_call = funds_by_call()
    first, second = by_call[first_call.id], by_call[second_call.id]
    assert (first.awarded_cents, first.released_cents, first.paid_cents, first.remaining_cents) == (
        16_000_000, 5_000_000, 2_000_000, 14_000_000)
    assert (second.awarded_cents, second.released_cents, second.paid_cents, second.remaining_cents) == (
        4_000_000, 4_000_000, 4_000_000, 0)
    assert funds_by_call(call_id=second_call.id).keys() == {second_call.id}


def test_community_share_applies_the_requested_split_to_the_award(make_user, make_organisation):
    owner = make_applicant(make_user, make_organisation)
    call = make_call()
    # Requested $100,000: $50,000 lead, $30,000 nonprofit, $10,000 health agency, $10,000 another
    # member institution (not a community partner). Community share 40%.
    award = award_rows(call, owner, amount_cents=8_000_000, lines=[
        (5_000_000, None), (3_000_000, OrganisationKind.COMMUNITY_NONPROFIT),
        (1_000_000, OrganisationKind.PUBLIC_HEALTH_AGENCY), (1_000_000, OrganisationKind.MEMBER_INSTITUTION)],
        milestones=[dict(due_on=date.today(), status=MilestoneStatus.ACCEPTED, first_submitted_on=date.today(),
                         payment_cents=3_333_333, payment_status=PaymentStatus.PAID)])
    figures = funds_by_award()[award.id]
    assert figures.community_cents == 3_200_000  # $80,000 × 40%
    assert figures.community_percent == pytest.approx(40.0)
    assert figures.community_paid_cents == 1_333_333  # $33,333.33 × 40% = $13,333.332, to the cent
    assert funds_by_call()[call.id].community_cents == 3_200_000


# --- the officer's buttons ------------------------------------------------------------------------

def test_release_button_before_acceptance_says_why_and_changes_nothing(client, login, award, officer):
    payment = award.milestones[0].payment
    before = _payment_state(payment)
    login(officer)
    response = client.post(f"/manage/payments/{payment.id}/release", data={"back": "milestone", **RELEASE_FORM},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "released once the report for “Inception report” is accepted" in response.get_data(as_text=True)
    assert _payment_state(fresh(payment)) == before


def test_release_and_paid_buttons(client, login, award, officer):
    milestone = award.milestones[0]
    accept(milestone, officer)
    payment = milestone.payment
    db.session.commit()
    login(officer)
    response = client.post(f"/manage/payments/{payment.id}/release", data={"back": "milestone", **RELEASE_FORM})
    assert response.status_code == 302 and response.location.endswith(f"/manage/milestones/{milestone.id}")
    assert fresh(payment).status is PaymentStatus.RELEASED
    today = reporting.local_today(award.call)
    response = client.post(f"/manage/payments/{payment.id}/paid", data={"paid_on": "not a date", "back": "award", **PAID_FORM},
                           follow_redirects=True)
    assert "Not a valid date" in response.get_data(as_text=True)
    assert fresh(payment).status is PaymentStatus.RELEASED
    response = client.post(f"/manage/payments/{payment.id}/paid", data={"paid_on": today.isoformat(), "back": "award",
                                                                           **PAID_FORM})
    assert response.status_code == 302 and response.location.endswith(f"/manage/awards/{award.id}")
    payment = fresh(payment)
    assert (payment.status, payment.paid_on) == (PaymentStatus.PAID, today)


def test_payment_buttons_are_staff_only(client, login, award, officer):
    milestone = award.milestones[0]
    accept(milestone, officer)
    payment = milestone.payment
    login(award.application.owner)
    assert client.post(f"/manage/payments/{payment.id}/release").status_code == 403
    assert client.post(f"/manage/payments/{payment.id}/paid", data={"paid_on": date.today().isoformat()}
                       ).status_code == 403
    assert fresh(payment).status is PaymentStatus.SCHEDULED


# --- two officers releasing at once (PostgreSQL) ------------------------------------------------

class TestTwoReleasesAtOnce:
    """Two payments of $60,000 on a $100,000 award, both milestones accepted: released at the
    same moment by two officers, only one may go through. Commits for real on a database of
    its own (see tests/awards/test_concurrency.py)."""

    @pytest.fixture
    def database(self):
        yield None  # no rolled-back transaction: the threads must see each other's commits

    @pytest.fixture
    def contest(self, racing_app, make_user, make_organisation):
        with racing_app.app_context():
            owner = make_applicant(make_user, make_organisation)
            award = award_rows(make_call(), owner, amount_cents=10_000_000, milestones=[
                dict(due_on=date.today(), status=MilestoneStatus.ACCEPTED, first_submitted_on=date.today(),
                     payment_cents=6_000_000) for _ in (1, 2)])
            officers = [officer_for(make_user, make_organisation) for _ in (1, 2)]
            db.session.commit()
            ids = {"award": award.id, "payments": [p.id for p in award.payments], "officers": [o.id for o in officers]}
            db.session.remove()
        return ids

    def _race(self, app, contest) -> list[str]:
        import threading

        from grants.accounts.models import User
        from grants.awards.models import Payment

        outcomes, errors = [], []

        def release(payment_id, officer_id):
            try:
                with app.app_context():
                    try:
                        payment = db.session.get(Payment, payment_id)
                        payments.release_payment(payment, officer=db.session.get(User, officer_id), **RELEASE)
                        db.session.commit()
                        outcomes.append("released")
                    except DomainError as exc:
                        db.session.rollback()
                        outcomes.append(exc.message)
                    finally:
                        db.session.remove()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=release, args=pair)
                   for pair in zip(contest["payments"], contest["officers"])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads) and errors == []
        return outcomes

    def _committed(self, app, contest) -> int:
        with app.app_context():
            try:
                return funds_by_award(award_ids=[contest["award"]])[contest["award"]].released_cents
            finally:
                db.session.remove()

    def test_the_award_lock_keeps_releases_within_the_award(self, racing_app, contest, monkeypatch):
        import threading
        import time

        original, first = payments.committed_cents, threading.Lock()

        def sum_then_pause(award):
            amount = original(award)
            if first.acquire(blocking=False):
                time.sleep(0.5)  # the other officer would sum the same figure now, but for the lock
            return amount

        monkeypatch.setattr(payments, "committed_cents", sum_then_pause)
        outcomes = self._race(racing_app, contest)
        assert sorted(outcomes)[1] == "released" and "more than the award of $100,000" in sorted(outcomes)[0]
        assert self._committed(racing_app, contest) == 6_000_000

    def test_without_the_lock_both_would_be_released(self, racing_app, contest, monkeypatch):
        import threading

        original, both_summed = payments.committed_cents, threading.Barrier(2, timeout=30)

        def sum_then_wait(award):
            amount = original(award)
            both_summed.wait()
            return amount

        monkeypatch.setattr(payments, "committed_cents", sum_then_wait)
        monkeypatch.setattr(payments, "_lock", lambda obj, *names: obj)
        assert self._race(racing_app, contest) == ["released", "released"]
        assert self._committed(racing_app, contest) == 12_000_000
