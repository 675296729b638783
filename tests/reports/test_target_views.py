"""The pages of payments tied to outcomes: the officer sets a milestone's targets, accepts a
report that falls short by holding its payment, the grantee sends a revised plan, the officer
accepts it and releases the payment with a method, then marks it paid with a reference; each
step is shown to the grantee and in the award's history. Bad input changes nothing."""

from __future__ import annotations

import html
import re

import pytest

from grants.reports import services as reporting
from grants.awards.enums import MilestoneStatus, PaymentHold, PaymentMethod, PaymentStatus
from grants.extensions import db
from tests.applications.fixtures import make_applicant
from tests.reports.factories import reporting_award, submit
from tests.reports.test_views import as_user, officer  # noqa: F401 - fixtures
from tests.conftest import fresh

PLAN = "Evening sessions twice a month, and the barbers invite their clients."


@pytest.fixture
def award(make_user, make_organisation):
    award = reporting_award(make_user, make_organisation, signoff=False)
    db.session.commit()
    return award


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _targets_form(award, reached="1,500", trained="10") -> dict:
    first, second = award.call.metrics
    return {f"target_{first.id}": reached, f"target_{second.id}": trained}


def test_the_officer_sets_targets_and_bad_input_changes_nothing(award, officer, as_user):
    staff = as_user(officer)
    milestone = award.milestones[0]
    page = text(staff.get(f"/manage/milestones/{milestone.id}"))
    assert "Set the targets of this milestone" in page and "No targets are set" in page
    response = staff.post(f"/manage/milestones/{milestone.id}/targets", data=_targets_form(award, reached="many"))
    assert response.status_code == 400
    assert "Enter a whole number, 0 or more" in text(response)
    assert fresh(milestone).targets == []
    response = staff.post(f"/manage/milestones/{milestone.id}/targets", data=_targets_form(award, reached="0"))
    assert response.status_code == 400 and "above zero" in text(response)
    assert fresh(milestone).targets == []
    response = staff.post(f"/manage/milestones/{milestone.id}/targets", data=_targets_form(award))
    assert response.status_code == 302
    assert sorted(t.target for t in fresh(milestone).targets) == [10, 1500]
    page = text(staff.get(f"/manage/milestones/{milestone.id}"))
    assert "Targets of “Inception report”" in page and "1,500" in page


def test_shortfall_path_hold_revised_plan_release_and_paid(award, officer, as_user):
    staff, grantee = as_user(officer), as_user(award.application.owner)
    milestone = award.milestones[0]
    assert staff.post(f"/manage/milestones/{milestone.id}/targets", data=_targets_form(award)).status_code == 302
    submit(fresh(milestone), award.application.owner)
    db.session.commit()

    page = text(staff.get(f"/manage/milestones/{milestone.id}"))
    assert "falls short of the targets: Community members reached" in page
    assert "Short by 300" in page
    # Accepting without a choice: refused with the reason, nothing changed.
    response = staff.post(f"/manage/milestones/{milestone.id}/accept", data={"comments": "Thanks."})
    assert response.status_code == 400
    page = text(response)
    assert "Choose whether to release the payment all the same or hold it" in page
    # The summary links to each field, and each field says what it needs.
    assert 'href="#shortfall_choice-0"' in page and 'href="#shortfall_reason"' in page
    assert 'id="shortfall_reason-error"' in page
    assert fresh(milestone).status is MilestoneStatus.SUBMITTED

    response = staff.post(f"/manage/milestones/{milestone.id}/accept", data={
        "comments": "Thanks.", "shortfall_choice": "hold", "shortfall_reason": "Say how you reach 1,500 residents."})
    assert response.status_code == 302
    payment = fresh(milestone).payment
    assert (payment.hold, payment.status) == (PaymentHold.HELD, PaymentStatus.SCHEDULED)
    assert "Held: released once the grantee's revised plan is accepted." in text(
        staff.get(f"/manage/milestones/{milestone.id}"))

    # The grantee sees the hold with its reason on the report page and on the award page.
    report_url = f"/awards/{award.id}/milestones/{milestone.id}/report"
    page = text(grantee.get(report_url))
    assert "the report fell short of the targets" in page and "Say how you reach 1,500 residents." in page
    assert "Submit the revised plan" in page
    assert "Held pending a revised plan" in text(grantee.get(f"/awards/{award.id}"))
    # An empty plan: the message, nothing saved.
    response = grantee.post(f"/awards/{award.id}/milestones/{milestone.id}/revised-plan", data={"plan": " "})
    assert response.status_code == 400 and "Write the revised plan" in text(response)
    assert fresh(payment).hold is PaymentHold.HELD
    response = grantee.post(f"/awards/{award.id}/milestones/{milestone.id}/revised-plan", data={"plan": PLAN})
    assert response.status_code == 302
    assert fresh(payment).hold is PaymentHold.PLAN_SUBMITTED
    assert "The program officer is reading your revised plan" in text(grantee.get(report_url))

    # The officer returns the plan once: an empty comment is refused; the grantee reads why and sends another.
    assert PLAN in text(staff.get(f"/manage/milestones/{milestone.id}"))
    response = staff.post(f"/manage/payments/{payment.id}/plan/return", data={"comments": "", "back": "milestone"},
                          follow_redirects=True)
    assert "Say what the plan must change" in text(response)
    assert fresh(payment).hold is PaymentHold.PLAN_SUBMITTED
    response = staff.post(f"/manage/payments/{payment.id}/plan/return",
                          data={"comments": "Name the venues.", "back": "milestone"})
    assert response.status_code == 302 and fresh(payment).hold is PaymentHold.HELD
    page = text(grantee.get(report_url))
    assert "The revised plan was returned" in page and "Name the venues." in page and "Submit the revised plan" in page
    assert grantee.post(f"/awards/{award.id}/milestones/{milestone.id}/revised-plan",
                        data={"plan": PLAN + " At the Elm Street shop."}).status_code == 302

    # The officer accepts the plan, then releases with a method and the confirmation.
    response = staff.post(f"/manage/payments/{payment.id}/plan/accept", data={"back": "milestone"})
    assert response.status_code == 302
    assert fresh(payment).hold is PaymentHold.PLAN_ACCEPTED
    response = staff.post(f"/manage/payments/{payment.id}/release", data={"back": "milestone", "method": "check"},
                          follow_redirects=True)
    assert "Tick “I confirm” to release the payment." in text(response)
    assert fresh(payment).status is PaymentStatus.SCHEDULED
    response = staff.post(f"/manage/payments/{payment.id}/release",
                          data={"back": "milestone", "method": "check", "confirm": "y"})
    assert response.status_code == 302
    assert (fresh(payment).status, fresh(payment).payment_method) == (PaymentStatus.RELEASED, PaymentMethod.CHECK)

    # Mark paid: the reference is required.
    today = reporting.local_today(award.call).isoformat()
    response = staff.post(f"/manage/payments/{payment.id}/paid",
                          data={"paid_on": today, "reference": "", "confirm": "y", "back": "award"},
                          follow_redirects=True)
    assert "Give the payment's reference" in text(response)
    assert fresh(payment).status is PaymentStatus.RELEASED
    response = staff.post(f"/manage/payments/{payment.id}/paid",
                          data={"paid_on": today, "reference": "Check 1042", "confirm": "y", "back": "award"})
    assert response.status_code == 302
    assert (fresh(payment).status, fresh(payment).payment_reference) == (PaymentStatus.PAID, "Check 1042")

    # The grantee's pages and the officer's award history say what happened, with the reference.
    page = text(grantee.get(f"/awards/{award.id}"))
    assert "by check, reference Check 1042" in page
    page = text(grantee.get(report_url))
    assert "Revised plan, submitted" in page and "accepted" in page and "At the Elm Street shop." in page
    history = text(staff.get(f"/manage/awards/{award.id}")).split("History", 1)[1]
    for expected in ("Held", "Say how you reach 1,500 residents.", "Plan submitted", "Plan returned", "Name the venues.",
                     "Plan accepted",
                     "Released · ", "by check", "Paid · ", "reference Check 1042"):
        assert expected in history, expected


def test_release_with_a_justification_is_shown_to_the_grantee(award, officer, as_user):
    staff, grantee = as_user(officer), as_user(award.application.owner)
    milestone = award.milestones[0]
    staff.post(f"/manage/milestones/{milestone.id}/targets", data=_targets_form(award))
    submit(fresh(milestone), award.application.owner)
    db.session.commit()
    response = staff.post(f"/manage/milestones/{milestone.id}/accept", data={
        "shortfall_choice": "release", "shortfall_reason": "Two sessions were rained off; on track."})
    assert response.status_code == 302
    page = text(grantee.get(f"/awards/{award.id}/milestones/{milestone.id}/report"))
    assert "Released although the report fell short of the targets" in page
    assert "Two sessions were rained off; on track." in page
    assert "Justified" not in page  # no internal event names on the grantee's page


def test_another_organisations_applicant_gets_404_and_staff_403_on_the_revised_plan(
        award, officer, as_user, make_user, make_organisation):
    milestone = award.milestones[0]
    url = f"/awards/{award.id}/milestones/{milestone.id}/revised-plan"
    stranger = as_user(make_applicant(make_user, make_organisation))
    assert stranger.post(url, data={"plan": PLAN}).status_code == 404
    assert as_user(officer).post(url, data={"plan": PLAN}).status_code == 403
    assert fresh(milestone).payment.revised_plan == ""


def test_a_plan_for_a_payment_not_held_is_refused_with_the_reason(award, as_user):
    milestone = award.milestones[0]
    grantee = as_user(award.application.owner)
    response = grantee.post(f"/awards/{award.id}/milestones/{milestone.id}/revised-plan", data={"plan": PLAN})
    assert response.status_code == 400
    assert "This payment is not held: no revised plan is waiting. Nothing was saved." in text(response)


def test_the_grantee_cannot_set_targets_or_accept_or_return_a_plan(award, as_user):
    grantee = as_user(award.application.owner)
    milestone = award.milestones[0]
    assert grantee.post(f"/manage/milestones/{milestone.id}/targets", data=_targets_form(award)).status_code == 403
    assert grantee.post(f"/manage/payments/{milestone.payment.id}/plan/accept").status_code == 403
    assert grantee.post(f"/manage/payments/{milestone.payment.id}/plan/return",
                        data={"comments": "Mine."}).status_code == 403
    assert fresh(milestone).targets == []
