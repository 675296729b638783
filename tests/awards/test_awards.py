"""Awards after release: the grantee accepts (milestones and payments from the call's template)
or declines; the officer amends the award and adds or adjusts milestones and payments."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import Role
from grants.audit.models import AuditEvent
from grants.awards import services
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentMethod, PaymentStatus
from grants.awards.models import AwardAmendment, Milestone, Payment
from grants.core.errors import DomainError, PermissionDenied, TransitionNotAllowed
from grants.core.types import utcnow
from grants.extensions import db
from tests.awards.fixtures import (
    make_active_award,
    make_awardable_application,
    make_offered_award,
    make_officer,
    set_milestone_template,
)
from tests.conftest import fresh

START = date(2031, 1, 1)


@pytest.fixture
def officer(make_user, make_organisation):
    return make_officer(make_user, make_organisation, full_name="Olive Officer")


@pytest.fixture
def offer(make_user, make_organisation, officer):
    application = make_awardable_application(make_user, make_organisation)
    set_milestone_template(application.call, [("Inception report", 30, 33), ("Interim report", 180, 33),
                                              ("Final report", 365, 34)])
    return make_offered_award(make_user, make_organisation, application=application, officer=officer,
                              amount_cents=10_000_001, start_on=START, end_on=date(2031, 12, 31))


@pytest.fixture
def active(make_user, make_organisation, officer):
    # $100,000 from 1 January 2031: $20,000, $30,000 and $50,000 scheduled.
    return make_active_award(make_user, make_organisation, officer=officer, start_on=START,
                             end_on=date(2031, 12, 31))


def events(action: str) -> list[AuditEvent]:
    db.session.flush()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def spend(milestone, status=PaymentStatus.PAID):
    """The milestone accepted and its payment released (and paid), as rows."""
    now = utcnow()
    milestone.status, milestone.accepted_at = MilestoneStatus.ACCEPTED, now
    payment = milestone.payment
    payment.status, payment.released_at, payment.payment_method = status, now, PaymentMethod.CHECK
    if status is PaymentStatus.PAID:
        payment.paid_at, payment.paid_on, payment.payment_reference = now, now.date(), "Check 1001"
    db.session.flush()


def collaborator_of(award):
    return next(c.user for c in award.application.collaborators if c.is_active)


# --- accepting ----------------------------------------------------------------------------------

def test_acceptance_activates_the_award_with_milestones_and_payments_from_the_template(offer):
    owner = offer.application.owner
    services.accept_award(offer, user=owner, confirm_terms=True)
    award = fresh(offer)
    assert award.status is AwardStatus.ACTIVE and award.accepted_by_id == owner.id
    assert award.accepted_at is not None and award.active_at is not None
    assert [(m.name, m.due_on, m.is_final, m.status) for m in award.milestones] == [
        ("Inception report", START + timedelta(days=30), False, MilestoneStatus.UPCOMING),
        ("Interim report", START + timedelta(days=180), False, MilestoneStatus.UPCOMING),
        ("Final report", START + timedelta(days=365), True, MilestoneStatus.UPCOMING)]
    # 33% + 33% + 34% of $100,000.01: the cent left over goes to the largest remainder.
    assert [m.payment.amount_cents for m in award.milestones] == [3_300_000, 3_300_000, 3_400_001]
    assert sum(p.amount_cents for p in award.payments) == award.amount_cents
    assert all(p.status is PaymentStatus.SCHEDULED for p in award.payments)
    assert [e.details["to"] for e in events("award.accepted") + events("award.activated")] == ["accepted", "active"]
    assert len(events("award.milestones_generated")) == 1


def test_a_template_milestone_without_a_share_gets_no_payment(make_user, make_organisation, officer):
    application = make_awardable_application(make_user, make_organisation)
    set_milestone_template(application.call, [("Kick-off meeting", 0, 0), ("Final report", 365, 100)])
    award = make_offered_award(make_user, make_organisation, application=application, officer=officer)
    services.accept_award(award, user=application.owner, confirm_terms=True)
    kickoff, final = award.milestones
    assert kickoff.payment is None and final.payment.amount_cents == award.amount_cents and final.is_final


def test_acceptance_needs_the_terms_confirmed(offer):
    with pytest.raises(DomainError, match="confirm that you accept the award's terms"):
        services.accept_award(offer, user=offer.application.owner, confirm_terms=False)
    assert fresh(offer).status is AwardStatus.OFFERED and fresh(offer).milestones == []


def test_only_the_owner_accepts(offer, officer):
    for someone in (collaborator_of(offer), officer):
        with pytest.raises(PermissionDenied, match="Only the owner of the application can accept"):
            services.accept_award(offer, user=someone, confirm_terms=True)
    assert fresh(offer).status is AwardStatus.OFFERED and fresh(offer).milestones == []


def test_a_declined_award_cannot_be_accepted(offer):
    owner = offer.application.owner
    services.decline_award(offer, user=owner, reason="We lost our partner.")
    with pytest.raises(TransitionNotAllowed, match="This award is declined, not offered; it can no longer be accepted"):
        services.accept_award(offer, user=owner, confirm_terms=True)
    award = fresh(offer)
    assert award.status is AwardStatus.DECLINED and award.accepted_at is None and award.milestones == []


def test_an_award_is_accepted_once(offer):
    owner = offer.application.owner
    services.accept_award(offer, user=owner, confirm_terms=True)
    with pytest.raises(TransitionNotAllowed, match="active, not offered"):
        services.accept_award(offer, user=owner, confirm_terms=True)
    assert len(fresh(offer).milestones) == 3


def test_declining_records_the_reason_and_tells_the_officer(offer, officer, outbox):
    with pytest.raises(DomainError, match="why you decline"):
        services.decline_award(offer, user=offer.application.owner, reason=" ")
    assert fresh(offer).status is AwardStatus.OFFERED
    services.decline_award(offer, user=offer.application.owner, reason="We lost our partner.")
    assert fresh(offer).status is AwardStatus.DECLINED and fresh(offer).declined_at is not None
    [event] = events("award.declined")
    assert event.details["reason"] == "We lost our partner."
    [mail] = outbox(kind="award_declined")
    assert mail.recipient == officer.email and "We lost our partner." in mail.body


# --- amendments ---------------------------------------------------------------------------------

def test_an_amendment_spreads_the_change_over_the_scheduled_payments(active, officer, outbox):
    amendment = services.amend_award(active, officer=officer, new_amount_cents=12_000_001,
                                     new_end_on=date(2032, 6, 30), reason="Added a second county.")
    award = fresh(active)
    assert (award.amount_cents, award.end_on) == (12_000_001, date(2032, 6, 30))
    # $20,000.01 more, in proportion 20:30:50, exact to the cent.
    assert [m.payment.amount_cents for m in award.milestones] == [2_400_000, 3_600_000, 6_000_001]
    assert sum(p.amount_cents for p in award.payments) == award.amount_cents
    assert (amendment.old_amount_cents, amendment.new_amount_cents, amendment.old_end_on, amendment.reason) == (
        10_000_000, 12_000_001, date(2031, 12, 31), "Added a second county.")
    [event] = events("award.amended")
    assert event.details["amount_cents"] == {"from": 10_000_000, "to": 12_000_001}
    assert [p["amount_cents"] for p in event.details["payments"]["from"]] == [2_000_000, 3_000_000, 5_000_000]
    assert len(outbox(kind="award_amended")) == len(services.people_to_tell(award.application))


def test_amendments_keep_their_history(active, officer):
    services.amend_award(active, officer=officer, new_amount_cents=9_000_000, new_end_on=active.end_on,
                         reason="Partner left.")
    services.amend_award(active, officer=officer, new_amount_cents=9_000_000, new_end_on=date(2032, 3, 31),
                         reason="No-cost extension.")
    assert [(a.old_amount_cents, a.new_amount_cents, a.reason) for a in fresh(active).amendments] == [
        (10_000_000, 9_000_000, "Partner left."), (9_000_000, 9_000_000, "No-cost extension.")]


def test_released_and_paid_payments_never_change(active, officer):
    spend(active.milestones[0])
    services.amend_award(active, officer=officer, new_amount_cents=6_000_000, new_end_on=active.end_on,
                         reason="Reduced scope.")
    assert [m.payment.amount_cents for m in fresh(active).milestones] == [2_000_000, 1_500_000, 2_500_000]


def test_an_amendment_below_what_was_paid_is_refused(active, officer):
    spend(active.milestones[0])
    spend(active.milestones[1], PaymentStatus.RELEASED)
    spend(active.milestones[2])
    with pytest.raises(DomainError) as refused:
        services.amend_award(active, officer=officer, new_amount_cents=9_999_999, new_end_on=active.end_on,
                             reason="Cut.")
    assert refused.value.message == ("$100,000 of this award is already released or paid, so it cannot go down to "
                                     "$99,999.99. Nothing was changed.")
    award = fresh(active)
    assert award.amount_cents == 10_000_000 and award.amendments == []
    assert [m.payment.amount_cents for m in award.milestones] == [2_000_000, 3_000_000, 5_000_000]


@pytest.mark.parametrize("amount, message", [
    (25_000_001, r"above the call's award ceiling of \$250,000"),
    (4_000_000, r"below the call's award floor of \$50,000"),
])
def test_an_amendment_stays_within_the_floor_and_ceiling(active, officer, amount, message):
    with pytest.raises(DomainError, match=message):
        services.amend_award(active, officer=officer, new_amount_cents=amount, new_end_on=active.end_on,
                             reason="Change.")
    assert fresh(active).amount_cents == 10_000_000


def test_an_amendment_stays_within_the_call_total(make_user, make_organisation, active, officer):
    call = active.call
    call.total_funds_cents = 30_000_000  # $100,000 awarded; a second award of $150,000 leaves $50,000
    other = make_active_award(make_user, make_organisation, officer=officer, call=call, amount_cents=15_000_000,
                              milestones=None)
    with pytest.raises(DomainError, match=r"over its total funds of \$300,000 \(still available: \$150,000\)"):
        services.amend_award(active, officer=officer, new_amount_cents=15_000_001, new_end_on=active.end_on,
                             reason="More.")
    services.amend_award(active, officer=officer, new_amount_cents=15_000_000, new_end_on=active.end_on,
                         reason="More.")
    assert services.remaining_cents(call) == 0 and other.amount_cents == 15_000_000


def test_an_amendment_needs_a_reason_a_change_and_a_standing_award(active, offer, officer):
    with pytest.raises(DomainError, match="Give the reason"):
        services.amend_award(active, officer=officer, new_amount_cents=11_000_000, new_end_on=active.end_on,
                             reason="")
    with pytest.raises(DomainError, match="nothing to amend"):
        services.amend_award(active, officer=officer, new_amount_cents=active.amount_cents,
                             new_end_on=active.end_on, reason="Nothing.")
    with pytest.raises(DomainError, match="must end after it starts"):
        services.amend_award(active, officer=officer, new_amount_cents=active.amount_cents,
                             new_end_on=active.start_on, reason="Shorter.")
    with pytest.raises(TransitionNotAllowed, match="only an accepted or active award is amended"):
        services.amend_award(offer, officer=officer, new_amount_cents=11_000_000, new_end_on=offer.end_on,
                             reason="More.")
    assert db.session.scalar(select(func.count(AwardAmendment.id))) == 0


def test_a_decrease_takes_the_unscheduled_part_first(active, officer):
    services.adjust_milestone(active.milestones[0], officer=officer, name="Inception report",
                              due_on=active.milestones[0].due_on, payment_cents=None)  # $20,000 unscheduled
    services.amend_award(active, officer=officer, new_amount_cents=7_000_000, new_end_on=active.end_on,
                         reason="Cut.")
    award = fresh(active)
    # $30,000 less: $20,000 from the unscheduled part, $10,000 from the payments (3:5).
    assert [p.amount_cents for p in award.payments] == [2_625_000, 4_375_000]
    assert services.unscheduled_cents(award) == 0


# --- the officer's milestone editor -------------------------------------------------------------

def test_the_officer_adds_a_milestone_with_a_payment_within_the_award(active, officer):
    services.adjust_milestone(active.milestones[2], officer=officer, name="Final report",
                              due_on=active.milestones[2].due_on, payment_cents=4_000_000)
    milestone = services.add_milestone(active, officer=officer, name="Community forum", due_on=date(2032, 2, 1),
                                       payment_cents=1_000_000)
    award = fresh(active)
    assert milestone.payment.amount_cents == 1_000_000 and milestone.payment.status is PaymentStatus.SCHEDULED
    # Due last, it is now the final milestone.
    assert [m.name for m in award.milestones if m.is_final] == ["Community forum"]
    assert sum(p.amount_cents for p in award.payments) == award.amount_cents
    with pytest.raises(DomainError, match=r"over the award of \$100,000: at most \$0 can go to this milestone"):
        services.add_milestone(active, officer=officer, name="Extra", due_on=date(2031, 6, 1), payment_cents=1)
    assert len(fresh(active).milestones) == 4
    assert len(events("milestone.added")) == 1


def test_the_officer_adjusts_a_milestone(active, officer):
    first = active.milestones[0]
    services.adjust_milestone(first, officer=officer, name="Inception workshop", due_on=date(2031, 3, 1),
                              payment_cents=1_500_000)
    assert (first.name, first.due_on, first.payment.amount_cents) == ("Inception workshop", date(2031, 3, 1),
                                                                       1_500_000)
    [event] = events("milestone.adjusted")
    assert event.details["payment_cents"] == {"from": 2_000_000, "to": 1_500_000}
    assert services.unscheduled_cents(fresh(active)) == 500_000


def test_a_milestone_adjustment_that_breaks_a_rule_changes_nothing(active, officer):
    first = active.milestones[0]
    with pytest.raises(DomainError, match="at most \\$20,000 can go to this milestone"):
        services.adjust_milestone(first, officer=officer, name="Inception", due_on=first.due_on,
                                  payment_cents=2_000_001)
    with pytest.raises(DomainError, match="before the award starts"):
        services.adjust_milestone(first, officer=officer, name="Inception", due_on=START - timedelta(days=1),
                                  payment_cents=2_000_000)
    spend(first, PaymentStatus.RELEASED)
    with pytest.raises(TransitionNotAllowed, match="is released; its amount"):
        services.adjust_milestone(first, officer=officer, name=first.name, due_on=first.due_on, payment_cents=1)
    db.session.expire_all()
    assert db.session.get(Milestone, first.id).name == "Inception report"
    assert db.session.get(Payment, first.payment.id).amount_cents == 2_000_000


# --- pages --------------------------------------------------------------------------------------

def test_the_grantee_accepts_through_the_page(client, login, offer):
    owner = offer.application.owner
    db.session.commit()
    login(owner)
    page = client.get(f"/awards/{offer.id}").get_data(as_text=True)
    assert "$100,000.01" in page and "Accept the award" in page and "Report on each milestone" in page
    response = client.post(f"/awards/{offer.id}/accept", data={})
    assert response.status_code == 400 and "Tick the box to confirm the terms" in response.get_data(as_text=True)
    assert fresh(offer).status is AwardStatus.OFFERED
    response = client.post(f"/awards/{offer.id}/accept", data={"confirm_terms": "y"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "You accepted the award" in page and "Interim report" in page
    assert fresh(offer).status is AwardStatus.ACTIVE


def test_a_collaborator_sees_the_offer_but_cannot_answer_it(client, login, offer):
    collaborator = collaborator_of(offer)
    db.session.commit()
    login(collaborator)
    page = client.get(f"/awards/{offer.id}").get_data(as_text=True)
    assert "accepts or declines the award" in page and "Accept the award" not in page
    response = client.post(f"/awards/{offer.id}/accept", data={"confirm_terms": "y"})
    assert response.status_code == 403
    assert "Only the owner of the application can accept" in response.get_data(as_text=True)
    assert fresh(offer).status is AwardStatus.OFFERED


def test_answering_a_declined_offer_again_is_refused_on_the_page(client, login, offer):
    owner = offer.application.owner
    db.session.commit()
    login(owner)
    response = client.post(f"/awards/{offer.id}/decline", data={"reason": "No capacity."}, follow_redirects=True)
    assert "You declined the award" in response.get_data(as_text=True)
    response = client.post(f"/awards/{offer.id}/accept", data={"confirm_terms": "y"})
    assert response.status_code == 409 and "it can no longer be accepted" in response.get_data(as_text=True)
    assert fresh(offer).status is AwardStatus.DECLINED


def test_strangers_do_not_see_an_award(client, login, offer, make_user):
    db.session.commit()
    login(make_user(Role.APPLICANT))
    assert client.get(f"/awards/{offer.id}").status_code == 404
    assert client.post(f"/awards/{offer.id}/accept", data={"confirm_terms": "y"}).status_code == 404
    assert fresh(offer).status is AwardStatus.OFFERED


def test_my_awards_lists_the_grantees_awards(client, login, offer):
    db.session.commit()
    login(collaborator_of(offer))
    page = client.get("/awards").get_data(as_text=True)
    assert offer.application.title in page and "My awards" in page


def test_the_officer_amends_and_edits_milestones_through_the_page(client, login, active, officer):
    db.session.commit()
    login(officer)
    page = client.get(f"/manage/awards/{active.id}").get_data(as_text=True)
    assert "Amend the award" in page and "Add a milestone" in page and "Interim report" in page
    response = client.post(f"/manage/awards/{active.id}/amend", data={
        "amount": "300,000", "end_on": "2031-12-31", "reason": "More."})
    assert response.status_code == 400 and "above the call&#39;s award ceiling" in response.get_data(as_text=True)
    response = client.post(f"/manage/awards/{active.id}/amend", data={
        "amount": "110,000", "end_on": "2032-03-31", "reason": "Extension with a new county."},
        follow_redirects=True)
    assert "The award is amended" in response.get_data(as_text=True)
    assert fresh(active).amount_cents == 11_000_000
    response = client.post(f"/manage/awards/{active.id}/milestones", data={
        "new-name": "Community forum", "new-due_on": "2031-09-01", "new-payment": "1"})
    assert response.status_code == 400 and "can go to this milestone" in response.get_data(as_text=True)
    first = active.milestones[0]
    response = client.post(f"/manage/milestones/{first.id}", data={
        f"m{first.id}-name": "Inception workshop", f"m{first.id}-due_on": "2031-02-15", f"m{first.id}-payment": ""})
    assert response.status_code == 302
    response = client.post(f"/manage/awards/{active.id}/milestones", data={
        "new-name": "Community forum", "new-due_on": "2031-09-01", "new-payment": "22,000"})
    assert response.status_code == 302
    names = {m.name: m.payment.amount_cents if m.payment else None for m in fresh(active).milestones}
    assert names == {"Inception workshop": None, "Interim report": 3_300_000, "Final report": 5_500_000,
                     "Community forum": 2_200_000}
