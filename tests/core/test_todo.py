"""The funder staff's to-do list on the home page: each kind of waiting work, counted, with a
link straight to the item; registrations only for those who approve them; nothing for others."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.applications.enums import ApplicationStatus
from grants.awards.enums import DecisionOutcome, MilestoneStatus, PaymentStatus
from grants.core.todo import SHOWN, staff_todo
from grants.core.types import utcnow
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_call
from tests.awards.fixtures import make_decision, make_officer
from tests.reports.factories import award_rows
from tests.reviews.scoring_factories import light_application


@pytest.fixture
def officer(make_user, make_organisation):
    return make_officer(make_user, make_organisation)


@pytest.fixture
def owner(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def work(owner, officer, make_user, make_organisation):
    """One of each kind of waiting work, and some that waits on nobody."""
    today = utcnow().date()
    call = make_call(title="Community Trust Partnerships")
    award = award_rows(call, owner, amount_cents=10_000_000, title="Heart health messengers", milestones=[
        dict(due_on=today - timedelta(days=3), status=MilestoneStatus.SUBMITTED, name="Six-month report",
             first_submitted_on=today - timedelta(days=2)),
        dict(due_on=today - timedelta(days=60), status=MilestoneStatus.ACCEPTED, name="Start-up report",
             first_submitted_on=today - timedelta(days=61), payment_cents=2_500_000),
        dict(due_on=today - timedelta(days=90), status=MilestoneStatus.ACCEPTED, name="Paid already",
             first_submitted_on=today - timedelta(days=91), payment_cents=1_000_000,
             payment_status=PaymentStatus.PAID),
        dict(due_on=today + timedelta(days=30), name="Final report")])
    light_application(call, owner, status=ApplicationStatus.SUBMITTED)
    light_application(call, owner, status=ApplicationStatus.SUBMITTED)
    make_decision(light_application(call, owner), officer, outcome=DecisionOutcome.DECLINE)
    make_user(Role.APPLICANT, status=UserStatus.PENDING,
              organisation=make_organisation("Westside Youth", kind=OrganisationKind.COMMUNITY_NONPROFIT,
                                             status=OrganisationStatus.PROPOSED))
    db.session.commit()
    submitted = next(m for m in award.milestones if m.name == "Six-month report")
    return dict(call=call, award=award, submitted=submitted)


def groups(user) -> dict:
    from flask import current_app

    with current_app.test_request_context():  # the links are URLs of this app
        return {group.key: group for group in staff_todo(user)}


def test_staff_todo_counts_each_kind_of_waiting_work(work, officer, make_user):
    todo = groups(officer)

    assert {key: group.count for key, group in todo.items()} == {
        "reports": 1, "payments": 1, "screening": 2, "decisions": 1}
    [report] = todo["reports"].links
    assert report.url == f"/manage/milestones/{work['submitted'].id}"
    assert report.text.startswith("Six-month report · R-") and report.text.endswith("Heart health messengers")
    [payment] = todo["payments"].links
    assert payment.text.startswith("$25,000 for Start-up report") and f"/manage/awards/{work['award'].id}" in payment.url
    [screening] = todo["screening"].links
    assert (screening.url, screening.detail) == (
        f"/manage/calls/{work['call'].id}/applications?status=submitted", "2 applications submitted, not screened")
    assert todo["decisions"].links[0].detail == "1 decision recorded, not released"


def test_staff_todo_shows_registrations_to_admins_only(work, officer, make_user):
    admin = make_user(Role.ADMIN)

    [link] = groups(admin)["registrations"].links

    assert groups(admin)["registrations"].count == 2
    assert (link.url, link.detail) == ("/admin/registrations", "1 person, 1 proposed organisation")
    assert "registrations" not in groups(officer)


def test_staff_todo_is_empty_for_applicants_and_reviewers(work, owner, make_user):
    assert groups(owner) == {}
    assert groups(make_user(Role.REVIEWER)) == {}


def test_staff_todo_lists_the_oldest_reports_and_counts_them_all(owner, officer):
    today = utcnow().date()
    call = make_call()
    for days in range(SHOWN + 2):
        award_rows(call, owner, amount_cents=5_000_000, milestones=[dict(
            due_on=today - timedelta(days=days), status=MilestoneStatus.SUBMITTED, name=f"Report {days}",
            first_submitted_on=today - timedelta(days=days))])
    db.session.commit()

    reports = groups(officer)["reports"]

    assert reports.count == SHOWN + 2
    assert [link.text.split(" · ")[0] for link in reports.links] == [f"Report {d}" for d in range(SHOWN + 1, 1, -1)]


def test_home_page_links_a_submitted_report_in_one_click(client, login, work, officer):
    login(officer)

    page = client.get("/").get_data(as_text=True)

    assert "Waiting for you" in page
    assert f'href="/manage/milestones/{work["submitted"].id}"' in page
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Milestone reports to review 1" in text and "Submitted applications to screen 2" in text
    report_page = client.get(f"/manage/milestones/{work['submitted'].id}")
    assert report_page.status_code == 200 and "Six-month report" in report_page.get_data(as_text=True)


def test_home_page_says_when_nothing_waits(client, login, officer):
    login(officer)

    assert "Nothing is waiting for you" in client.get("/").get_data(as_text=True)


def test_home_page_of_an_applicant_has_no_staff_todo(client, login, work, owner):
    login(owner)

    assert "Waiting for you" not in client.get("/").get_data(as_text=True)
