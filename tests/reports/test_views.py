"""The report pages: the grantee files a report with a document, it is returned for revision,
resubmitted and accepted; the payment is released; every refusal says why and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from grants.applications.enums import BudgetCategory
from grants.reports import services as reporting
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentStatus, ReportOutcome
from grants.awards.models import MilestoneReport, ReportDocument
from grants.extensions import db
from tests.applications.fixtures import PDF
from tests.reports.factories import officer_for, partner_users, reporting_award, submit
from tests.conftest import fresh


@pytest.fixture
def award(make_user, make_organisation):
    award = reporting_award(make_user, make_organisation)
    db.session.commit()
    return award


@pytest.fixture
def officer(make_user, make_organisation):
    return officer_for(make_user, make_organisation)


@pytest.fixture
def as_user(app, login):
    """A client of its own, logged in as ``user``."""

    def sign_in(user):
        client = app.test_client()
        login(user, the_client=client)
        return client

    return sign_in


def _url(award, milestone, tail: str = "") -> str:
    return f"/awards/{award.id}/milestones/{milestone.id}/report{tail}"


def _form(award, milestone, *, action: str = "submit_report", values=(1200, 12), narrative="Twelve messengers trained.",
          files=(), remove=(), basis: str | None = None) -> dict:
    data = {"narrative": narrative, "basis": basis if basis is not None else reporting.report_basis(milestone),
            action: "yes", f"spending_{BudgetCategory.PERSONNEL.value}": "15,000",
            f"spending_{BudgetCategory.TRAVEL.value}": ""}
    for metric, value in zip(award.call.metrics, values):
        data[f"metric_{metric.id}"] = "" if value is None else str(value)
    if files:
        data["files"] = [(BytesIO(PDF), name) for name in files]
    if remove:
        data["remove_files"] = [str(file_id) for file_id in remove]
    return data


def _state(milestone):
    db.session.commit()
    db.session.expire_all()
    return (milestone.status, milestone.award.status,
            db.session.scalar(select(func.count()).select_from(MilestoneReport)),
            db.session.scalar(select(func.count()).select_from(ReportDocument)))


def test_a_report_is_filed_returned_resubmitted_accepted_and_paid(award, officer, as_user, outbox):
    milestone = award.milestones[0]
    grantee = as_user(award.application.owner)
    staff = as_user(officer)

    # The grantee saves a draft with a document, then submits it.
    response = grantee.post(_url(award, milestone), data=_form(award, milestone, action="save", values=(None, 12),
                                                               files=["listening-sessions.pdf"]),
                            content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = grantee.get(_url(award, milestone)).get_data(as_text=True)
    assert "Your draft (version 1)" in page and "listening-sessions.pdf" in page
    # Staff never see a draft.
    assert "listening-sessions.pdf" not in staff.get(_url(award, milestone)).get_data(as_text=True)
    milestone = fresh(milestone)
    response = grantee.post(_url(award, milestone), data=_form(award, milestone), content_type="multipart/form-data")
    assert response.status_code == 302
    milestone = fresh(milestone)
    assert milestone.status is MilestoneStatus.SUBMITTED
    first = reporting.latest_submitted(milestone)
    assert [d.stored_file.original_filename for d in first.documents] == ["listening-sessions.pdf"]

    # The officer cannot accept before the partners sign off, and asks for a revision.
    review = staff.get(f"/manage/milestones/{milestone.id}").get_data(as_text=True)
    assert "Still waiting for" in review and "listening-sessions.pdf" in review
    response = staff.post(f"/manage/milestones/{milestone.id}/revision",
                          data={"comments": "Say how the 1,200 people were counted."})
    assert response.status_code == 302
    page = grantee.get(_url(award, milestone)).get_data(as_text=True)
    assert "Say how the 1,200 people were counted." in page and "Revise the report" in page

    # The grantee resubmits: version 2, the document carried forward, one more added.
    milestone = fresh(milestone)
    response = grantee.post(_url(award, milestone), data=_form(
        award, milestone, values=(950, 12), narrative="Counted once per person at sign-in: 950.",
        files=["sign-in-sheets.pdf"]), content_type="multipart/form-data")
    assert response.status_code == 302
    milestone = fresh(milestone)
    second = reporting.latest_submitted(milestone)
    assert second.version == 2
    assert sorted(d.stored_file.original_filename for d in second.documents) == [
        "listening-sessions.pdf", "sign-in-sheets.pdf"]

    # Each partner's contact signs version 2 off on their page.
    for user in partner_users(award):
        partner_client = as_user(user)
        assert "Sign off for" in partner_client.get(_url(award, milestone, "/sign-off")).get_data(as_text=True)
        response = partner_client.post(_url(award, milestone, "/sign-off"), data={"report_id": second.id})
        assert response.status_code == 302

    # The officer accepts; both versions stay visible; the payment is released and paid.
    response = staff.post(f"/manage/milestones/{milestone.id}/accept", data={"comments": "Thank you."})
    assert response.status_code == 302
    milestone = fresh(milestone)
    assert milestone.status is MilestoneStatus.ACCEPTED
    assert [r.outcome for r in milestone.reports] == [ReportOutcome.REVISION_REQUESTED, ReportOutcome.ACCEPTED]
    page = grantee.get(_url(award, milestone)).get_data(as_text=True)
    assert "Version 1" in page and "Version 2" in page and "Say how the 1,200 people were counted." in page
    payment = milestone.payment
    assert staff.post(f"/manage/payments/{payment.id}/release", data={"back": "milestone", "method": "check",
                                                                  "confirm": "y"}).status_code == 302
    today = reporting.local_today(award.call)
    assert staff.post(f"/manage/payments/{payment.id}/paid", data={"paid_on": today.isoformat(), "reference": "Check 1042",
                                                               "confirm": "y"}).status_code == 302
    assert fresh(payment).status is PaymentStatus.PAID

    # The dashboards show the new figures.
    portfolio = staff.get(f"/manage/calls/{award.call_id}/portfolio").get_data(as_text=True)
    assert "$100,000" in portfolio and "$20,000" in portfolio  # awarded; released and paid
    assert "$80,000" in portfolio  # remaining
    assert re.search(r"Community members reached.*?950", portfolio, re.S)
    mine = grantee.get("/my/awards").get_data(as_text=True)
    assert "$20,000" in mine and "Paid" in mine
    kinds = [message.kind for message in outbox()]
    assert {"report_sign_off_requested", "report_revision_requested", "report_accepted",
            "payment_released"} <= set(kinds)


def test_a_stranger_gets_404_and_nothing_changes(award, make_user, as_user):
    milestone = award.milestones[0]
    before = _state(milestone)
    stranger = as_user(make_user())
    assert stranger.get(_url(award, milestone)).status_code == 404
    response = stranger.post(_url(award, milestone), data=_form(award, milestone, files=["x.pdf"]),
                             content_type="multipart/form-data")
    assert response.status_code == 404
    assert stranger.get(_url(award, milestone, "/sign-off")).status_code == 404
    assert _state(fresh(milestone)) == before


def test_a_milestone_of_another_award_is_404(award, make_user, make_organisation, as_user):
    other = reporting_award(make_user, make_organisation)
    db.session.commit()
    client = as_user(award.application.owner)
    assert client.get(_url(award, other.milestones[0])).status_code == 404


@pytest.mark.parametrize("status", [AwardStatus.COMPLETED, AwardStatus.OFFERED, AwardStatus.TERMINATED])
def test_a_report_on_an_award_that_is_not_active_is_refused_with_the_reason(award, as_user, status):
    award.status = status
    milestone = award.milestones[0]
    before = _state(milestone)
    client = as_user(award.application.owner)
    page = client.get(_url(award, milestone)).get_data(as_text=True)
    assert f"This award is {status.value}" in page and "Submit the report" not in page
    response = client.post(_url(award, milestone), data=_form(award, milestone, files=["late.pdf"]),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert f"This award is {status.value}: reports are filed only while an award is active" in response.get_data(
        as_text=True)
    assert _state(fresh(milestone)) == before


def test_submitting_without_every_metric_marks_the_field_and_keeps_what_was_typed(award, as_user):
    milestone = award.milestones[0]
    before = _state(milestone)
    client = as_user(award.application.owner)
    response = client.post(_url(award, milestone), data=_form(award, milestone, values=(None, 7),
                                                              narrative="Kept as typed"),
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the figure for Community members reached to date" in page
    assert 'aria-invalid="true"' in page and "Kept as typed" in page and 'value="7"' in page
    assert _state(fresh(milestone)) == before


def test_a_metric_that_is_not_a_whole_number_is_refused(award, as_user):
    milestone = award.milestones[0]
    client = as_user(award.application.owner)
    response = client.post(_url(award, milestone), data=_form(award, milestone, values=("12.5", 3), action="save"),
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Enter a whole number" in response.get_data(as_text=True)
    assert fresh(milestone).reports == []


def test_a_save_from_an_outdated_page_is_refused_and_keeps_the_typing(award, as_user):
    milestone = award.milestones[0]
    old_basis = reporting.report_basis(milestone)
    partner_client = as_user(partner_users(award)[0])
    assert partner_client.post(_url(award, milestone), data=_form(award, milestone, action="save",
                                                                  narrative="The partner's text"),
                               content_type="multipart/form-data").status_code == 302
    client = as_user(award.application.owner)
    response = client.post(_url(award, milestone), data=_form(award, milestone, action="save", narrative="Mine",
                                                              basis=old_basis),
                           content_type="multipart/form-data")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this report" in page and "Mine</textarea>" in page
    assert "The report as it is saved now" in page and "The partner&#39;s text" in page
    assert reporting.current_draft(fresh(milestone)).narrative == "The partner's text"


def test_staff_see_submitted_versions_but_cannot_file(award, officer, as_user):
    milestone = award.milestones[0]
    reporting.save_report_draft(milestone, author=award.application.owner,
                                content=reporting.ReportContent(narrative="Draft only",
                                                                uploads=[reporting.Upload(BytesIO(PDF), "d.pdf")]))
    db.session.commit()
    draft_file = reporting.current_draft(milestone).documents[0]
    staff = as_user(officer)
    page = staff.get(_url(award, milestone)).get_data(as_text=True)
    assert "Draft only" not in page and "Submit the report" not in page
    assert staff.post(_url(award, milestone), data=_form(award, milestone)).status_code == 403
    assert staff.get(_url(award, milestone, f"/files/{draft_file.id}")).status_code == 404
    grantee = as_user(award.application.owner)
    response = grantee.get(_url(award, milestone, f"/files/{draft_file.id}"))
    assert response.status_code == 200 and response.data == PDF
    response.close()


def test_officer_refusals_show_the_reason_and_change_nothing(award, officer, as_user):
    milestone = award.milestones[0]
    submit(milestone, award.application.owner)
    before = _state(milestone)
    staff = as_user(officer)
    response = staff.post(f"/manage/milestones/{milestone.id}/accept", data={})
    assert response.status_code == 400
    assert "This call requires every partner to sign off the report; still waiting for" in response.get_data(
        as_text=True)
    response = staff.post(f"/manage/milestones/{milestone.id}/revision", data={"comments": "  "})
    assert response.status_code == 400
    assert "Say what needs to change" in response.get_data(as_text=True)
    assert _state(fresh(milestone)) == before
    assert reporting.latest_submitted(fresh(milestone)).outcome is None


def test_officer_pages_are_staff_only(award, as_user):
    milestone = award.milestones[0]
    client = as_user(award.application.owner)
    assert client.get(f"/manage/milestones/{milestone.id}").status_code == 403
    assert client.post(f"/manage/milestones/{milestone.id}/accept").status_code == 403
    assert client.post(f"/manage/milestones/{milestone.id}/revision", data={"comments": "x"}).status_code == 403


def test_sign_off_refusals(award, as_user):
    milestone = award.milestones[0]
    first = submit(milestone, award.application.owner)
    db.session.commit()
    owner_client = as_user(award.application.owner)
    assert owner_client.post(_url(award, milestone, "/sign-off"), data={"report_id": first.id}).status_code == 403
    partner_client = as_user(partner_users(award)[0])
    response = partner_client.post(_url(award, milestone, "/sign-off"), data={"report_id": first.id + 999})
    assert response.status_code == 409 and "A newer version" in response.get_data(as_text=True)
    assert fresh(first).sign_offs == []


def test_the_award_pages_show_reports_and_the_payment_buttons(award, officer, as_user):
    from tests.reports.factories import accept

    milestone = award.milestones[0]
    accept(milestone, officer)
    second = award.milestones[1]
    submit(second, award.application.owner)
    second.due_on = reporting.local_today(award.call) - timedelta(days=1)
    db.session.commit()
    staff = as_user(officer)
    page = staff.get(f"/manage/awards/{award.id}").get_data(as_text=True)
    assert "Reports and payments" in page
    assert f'action="/manage/payments/{milestone.payment.id}/release"' in page
    assert "Released once the report for “Interim report” is accepted" in page
    partner_client = as_user(partner_users(award)[0])
    page = partner_client.get(f"/awards/{award.id}").get_data(as_text=True)
    assert _url(award, award.milestones[2]) in page
    assert f"Sign off for {award.application.partners[0].organisation.name}" in page
    # Submitted, so not overdue although its date has passed.
    assert "day overdue" not in page


def test_report_waiting_for_a_partners_sign_off_is_on_their_home_page(award, as_user):
    milestone = award.milestones[0]
    first_partner, second_partner = partner_users(award)[:2]
    link = f'href="{_url(award, milestone, "/sign-off")}"'
    assert link not in as_user(first_partner).get("/").get_data(as_text=True)

    report = submit(milestone, award.application.owner)
    db.session.commit()
    page = as_user(first_partner).get("/").get_data(as_text=True)
    assert "Waiting for you" in page and link in page and milestone.name in page
    # Not the lead's to sign: nothing waits for the owner.
    assert link not in as_user(award.application.owner).get("/").get_data(as_text=True)

    reporting.sign_off_report(report, user=first_partner)
    db.session.commit()
    assert link not in as_user(first_partner).get("/").get_data(as_text=True)
    assert link in as_user(second_partner).get("/").get_data(as_text=True)
