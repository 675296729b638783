"""Program officers' intake: the list with counts, filters and search, the CSV exports, the
officer's page of one application, and screening. Drafts stay private throughout."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.enums import ApplicationStatus, BudgetCategory
from grants.audit.models import AuditEvent
from grants.core.timezones import in_zone
from grants.extensions import db
from tests.applications.fixtures import complete_application, make_applicant, make_application, make_call
from tests.conftest import fresh


@pytest.fixture
def officer(make_user, make_organisation):
    return make_user(Role.PROGRAM_OFFICER, organisation=make_organisation("Funder", kind=OrganisationKind.OTHER),
                     full_name="Olive Officer")


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def partners(make_user, make_organisation):
    return [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name="Eastside Alliance"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                           name="Lake County Health")]


@pytest.fixture
def call():
    return make_call(lead_kinds=("member_institution", "other"))


def submit(call, owner, partner_users, *, title="Trusted messengers for heart health", lead_extra_cents=0):
    """A submitted application: 40,000 to the lead (plus ``lead_extra_cents``), 30,000 to each partner."""
    if not lead_extra_cents:
        return make_application(call, owner, title=title, submitted=True, partner_users=partner_users)
    application = make_application(call, owner, title=title)
    complete_application(application, partner_users)
    services.add_budget_line(application, editor=owner, expected_version=None, category=BudgetCategory.TRAVEL,
                             description="Community meetings", amount_cents=lead_extra_cents)
    services.submit_application(application, submitted_by=owner, expected_version=None)
    db.session.flush()
    return application


def read_csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# --- the list -----------------------------------------------------------------------------

def test_intake_counts_each_status_and_drafts_without_listing_drafts(client, login, officer, call, lead, partners):
    first = submit(call, lead, partners, title="First submitted")
    second = submit(call, lead, partners, title="Second submitted")
    third = submit(call, lead, partners, title="Third submitted")
    services.screen_application(first, officer=officer, eligible=True)
    services.screen_application(second, officer=officer, eligible=False, reason="Outside the service area.")
    services.withdraw_application(third, withdrawn_by=lead)
    submit(call, lead, partners, title="Fourth submitted")
    make_application(call, lead, title="A private draft")
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/applications").get_data(as_text=True)
    assert "All received</a>: <strong>4</strong>" in page
    for label in ("Submitted", "In review", "Screened out", "Withdrawn"):
        assert f"{label}</a>: <strong>1</strong>" in page
    assert "1 draft in progress" in page
    assert "A private draft" not in page
    assert "4 applications" in page


def test_intake_lists_reference_figures_and_local_submission_time(client, login, officer, call, lead, partners):
    application = submit(call, lead, partners)
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/applications").get_data(as_text=True)
    assert application.reference_number in page
    assert f'href="/manage/applications/{application.id}"' in page
    assert "$100,000" in page and "60.0%" in page
    assert "CST" in page or "CDT" in page  # the call's own clock
    assert f"/manage/calls/{call.id}/applications.csv" in page and f"/manage/calls/{call.id}/partners.csv" in page


def test_intake_filters_by_status(client, login, officer, call, lead, partners):
    kept = submit(call, lead, partners, title="Sent to review")
    submit(call, lead, partners, title="Waiting to be screened")
    services.screen_application(kept, officer=officer, eligible=True)
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/applications?status=in_review").get_data(as_text=True)
    assert "Sent to review" in page and "Waiting to be screened" not in page
    # Asking for drafts lists no draft.
    make_application(call, lead, title="A private draft")
    db.session.commit()
    page = client.get(f"/manage/calls/{call.id}/applications?status=draft").get_data(as_text=True)
    assert "A private draft" not in page


def test_intake_filters_by_lead_organisation_kind(client, login, officer, call, lead, partners, make_user,
                                                  make_organisation):
    other_lead = make_applicant(make_user, make_organisation, kind=OrganisationKind.OTHER, name="Civic Lab")
    submit(call, lead, partners, title="Led by a member")
    submit(call, other_lead, partners, title="Led by a civic lab")
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/applications?lead_kind=other").get_data(as_text=True)
    assert "Led by a civic lab" in page and "Led by a member" not in page


def test_intake_filters_by_partner_organisation(client, login, officer, call, lead, partners, make_user,
                                                make_organisation):
    third = make_applicant(make_user, make_organisation, kind=OrganisationKind.SOCIAL_SERVICE_AGENCY,
                           name="Harbor Family Services")
    submit(call, lead, partners, title="With the usual partners")
    submit(call, lead, [partners[0], third], title="With Harbor")
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/applications?partner={third.organisation_id}").get_data(as_text=True)
    assert "With Harbor" in page and "With the usual partners" not in page
    assert f'<option value="{third.organisation_id}" selected>Harbor Family Services</option>' in page


@pytest.mark.parametrize("query, expected", [
    ("messengers", "Trusted messengers"),  # title
    ("-0002", "Food pantry outreach"),  # reference number
    ("civic", "Food pantry outreach"),  # lead organisation
    ("harbor family", "Food pantry outreach"),  # partner organisation
])
def test_intake_searches_title_reference_and_organisations(client, login, officer, call, lead, partners, make_user,
                                                           make_organisation, query, expected):
    other_lead = make_applicant(make_user, make_organisation, kind=OrganisationKind.OTHER, name="Civic Lab")
    third = make_applicant(make_user, make_organisation, kind=OrganisationKind.SOCIAL_SERVICE_AGENCY,
                           name="Harbor Family Services")
    submit(call, lead, partners, title="Trusted messengers")
    submit(call, other_lead, [partners[0], third], title="Food pantry outreach")
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/applications", query_string={"q": query}).get_data(as_text=True)
    assert "1 application matches these filters" in page
    assert expected in page


def test_intake_sorts_by_submission_time_or_requested_amount(client, login, officer, call, lead, partners):
    submit(call, lead, partners, title="Small early", lead_extra_cents=0)
    submit(call, lead, partners, title="Large late", lead_extra_cents=2_000_000)
    login(officer)

    def order(sort):
        page = client.get(f"/manage/calls/{call.id}/applications?sort={sort}").get_data(as_text=True)
        return page.index("Small early") < page.index("Large late")

    assert order("submitted") is True
    assert order("-submitted") is False
    assert order("-requested") is False
    assert order("requested") is True


@contextmanager
def counted_statements():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.mark.parametrize("page", ["applications", "applications.csv", "partners.csv"])
def test_intake_runs_as_many_queries_for_12_applications_as_for_3(client, login, officer, lead, partners, page):
    small, large = make_call(title="Small call"), make_call(title="Large call")
    for number in range(3):
        submit(small, lead, partners, title=f"Small {number}")
    for number in range(12):
        submit(large, lead, partners, title=f"Large {number}")
    login(officer)
    urls = [f"/manage/calls/{call.id}/{page}" for call in (small, large)]
    client.get(urls[0])  # warm up caches that are not per page
    counts = []
    for url in urls:
        with counted_statements() as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{counts[0]} queries for 3 applications, {counts[1]} for 12"


# --- who may see intake -------------------------------------------------------------------

def _intake_urls(call, application):
    return [f"/manage/calls/{call.id}/applications", f"/manage/calls/{call.id}/applications.csv",
            f"/manage/calls/{call.id}/partners.csv", f"/manage/applications/{application.id}"]


@pytest.mark.parametrize("who", ["owner", "partner", "reviewer"])
def test_intake_pages_are_refused_to_applicants_and_reviewers(client, login, make_user, call, lead, partners, who):
    application = submit(call, lead, partners)
    user = {"owner": lead, "partner": partners[0], "reviewer": make_user(Role.REVIEWER)}[who]
    login(user)
    for url in _intake_urls(call, application):
        response = client.get(url)
        assert response.status_code == 403, url
        assert application.title not in response.get_data(as_text=True)
    response = client.post(f"/manage/applications/{application.id}/screen", data={"decision": "eligible"})
    assert response.status_code == 403
    assert fresh(application).status is ApplicationStatus.SUBMITTED


def test_intake_pages_send_anonymous_visitors_to_login(client, call, lead, partners):
    application = submit(call, lead, partners)
    db.session.commit()
    for url in _intake_urls(call, application):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login"), url


def test_intake_application_of_a_draft_is_not_found(client, login, officer, call, lead):
    draft = make_application(call, lead, title="A private draft")
    login(officer)
    response = client.get(f"/manage/applications/{draft.id}")
    assert response.status_code == 404
    assert "A private draft" not in response.get_data(as_text=True)
    assert client.post(f"/manage/applications/{draft.id}/screen", data={"decision": "eligible"}).status_code == 404
    assert fresh(draft).status is ApplicationStatus.DRAFT


def test_intake_of_an_unknown_call_is_not_found(client, login, officer):
    login(officer)
    assert client.get("/manage/calls/999999/applications").status_code == 404
    assert client.get("/manage/calls/999999/applications.csv").status_code == 404


# --- one application ------------------------------------------------------------------------

def test_intake_application_shows_every_section(client, login, officer, call, lead, partners):
    application = submit(call, lead, partners)
    login(officer)
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert application.reference_number in page and "Trusted messengers for heart health" in page
    assert "Community health workers and clinicians co-design outreach." in page  # summary
    assert "How will the partnership build trust?" in page
    assert "We will meet monthly with residents and act on what they say." in page
    assert "12 words of 50" in page and "0 words" in page
    assert "Eastside Alliance" in page and "Lake County Health" in page and "$30,000" in page
    assert "Signed off" in page and "Co-leads outreach" in page
    assert "Project coordinator" in page and "Personnel" in page and "$100,000" in page
    assert "Project narrative" in page and "Letter of commitment: Eastside Alliance" in page and "letter.pdf" in page
    assert "Checklist at submission" in page and "Not met" not in page
    assert "Submitted" in page and "Answers saved" in page  # history, from the audit log
    assert 'action="/manage/applications/%d/screen"' % application.id in page


def test_intake_application_lists_every_version_of_a_document(client, login, officer, call, lead, partners):
    from io import BytesIO

    from tests.applications.fixtures import PDF

    application = make_application(call, lead)
    complete_application(application, partners)
    narrative = call.documents[0]
    services.upload_document(application, editor=lead, expected_version=None, call_document=narrative, partner=None,
                             stream=BytesIO(PDF), filename="narrative-v2.pdf")
    services.submit_application(application, submitted_by=lead, expected_version=None)
    login(officer)
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert page.index("narrative-v2.pdf") < page.index("version 1,")
    assert "version 2," in page
    current = fresh(application).current_document(narrative.id, None)
    link = f"/applications/{application.id}/documents/file/{current.id}"
    assert f'href="{link}"' in page
    response = client.get(link)
    assert response.status_code in (200, 302)  # streamed, or a presigned URL of the store
    response.close()


# --- CSV exports ------------------------------------------------------------------------------

def test_intake_csv_has_one_row_per_application_with_its_figures(client, login, officer, call, lead, partners):
    first = submit(call, lead, partners, title="First")
    second = submit(call, lead, partners, title="Second", lead_extra_cents=2_000_000)
    services.screen_application(second, officer=officer, eligible=False, reason="Budget outside the rules.")
    make_application(call, lead, title="A private draft")
    login(officer)
    response = client.get(f"/manage/calls/{call.id}/applications.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="community-trust-partnerships-')
    assert disposition.endswith('.csv"')
    rows = read_csv(response)
    assert [row["Title"] for row in rows] == ["First", "Second"]
    row = rows[0]
    first = fresh(first)
    assert row["Reference"] == first.reference_number and row["Status"] == "Submitted"
    assert row["Lead organisation"] == "Riverside Medical" and row["Lead organisation kind"] == "Member institution"
    assert row["Owner"] == lead.full_name and row["Owner e-mail"] == lead.email
    assert row["Requested (cents)"] == "10000000" and row["Requested (USD)"] == "100000.00"
    assert row["Community share (cents)"] == "6000000" and row["Community share (%)"] == "60.0"
    assert row["Partners"] == "2"
    assert row["Submitted at (UTC)"] == first.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["Submitted at (America/Chicago)"] == in_zone(first.submitted_at, "America/Chicago").isoformat(
        timespec="seconds")
    assert row["Q1 words: How will the partnership build trust?"] == "12"
    assert row["Q2 words: Anything else?"] == "0"
    assert rows[1]["Requested (cents)"] == "12000000" and rows[1]["Community share (%)"] == "50.0"
    assert rows[1]["Status"] == "Screened out" and rows[1]["Screening reason"] == "Budget outside the rules."
    assert _events("call.applications_exported")[-1].details["rows"] == 2


def test_intake_csv_follows_the_filters_of_the_list(client, login, officer, call, lead, partners):
    kept = submit(call, lead, partners, title="Sent to review")
    submit(call, lead, partners, title="Waiting")
    services.screen_application(kept, officer=officer, eligible=True)
    login(officer)
    rows = read_csv(client.get(f"/manage/calls/{call.id}/applications.csv?status=in_review"))
    assert [row["Title"] for row in rows] == ["Sent to review"]


def test_intake_partners_csv_has_one_row_per_partner(client, login, officer, call, lead, partners):
    submit(call, lead, partners, title="First")
    submit(call, lead, partners, title="Second", lead_extra_cents=2_000_000)
    login(officer)
    response = client.get(f"/manage/calls/{call.id}/partners.csv")
    assert 'filename="community-trust-partnerships-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert [(row["Application title"], row["Partner organisation"]) for row in rows] == [
        ("First", "Eastside Alliance"), ("First", "Lake County Health"),
        ("Second", "Eastside Alliance"), ("Second", "Lake County Health")]
    row = rows[2]
    assert row["Partner kind"] == "Community nonprofit" and row["Community partner"] == "yes"
    assert row["Contact"] == partners[0].full_name and row["Contact e-mail"] == partners[0].email
    assert row["Role in the project"] == "Co-leads outreach"
    assert row["Budget share (cents)"] == "3000000" and row["Budget share (USD)"] == "30000.00"
    assert row["Share of the application's budget (%)"] == "25.0"
    assert row["Signed off at (UTC)"].endswith("Z")


def test_intake_csv_neutralises_spreadsheet_formulas(client, login, officer, call, make_user, make_organisation):
    lead = make_applicant(make_user, make_organisation, name="@Evil Institute")
    partner_users = [
        make_user(Role.APPLICANT, full_name="=HYPERLINK(\"http://evil.example\")",
                  organisation=make_organisation("+Plus Partners", kind=OrganisationKind.COMMUNITY_NONPROFIT)),
        make_user(Role.APPLICANT, full_name="Safe Name",
                  organisation=make_organisation("-Minus Health", kind=OrganisationKind.PUBLIC_HEALTH_AGENCY)),
    ]
    submit(call, lead, partner_users, title="=1+2")
    login(officer)
    row = read_csv(client.get(f"/manage/calls/{call.id}/applications.csv"))[0]
    assert row["Title"] == "'=1+2" and row["Lead organisation"] == "'@Evil Institute"
    assert row["Requested (cents)"] == "10000000"  # numbers stay numbers
    partner_rows = read_csv(client.get(f"/manage/calls/{call.id}/partners.csv"))
    assert partner_rows[0]["Application title"] == "'=1+2"
    assert partner_rows[0]["Contact"] == "'=HYPERLINK(\"http://evil.example\")"
    assert {row["Partner organisation"] for row in partner_rows} == {"'+Plus Partners", "'-Minus Health"}


# --- screening ------------------------------------------------------------------------------

def test_screen_eligible_sends_the_application_to_review(client, login, officer, call, lead, partners, outbox):
    application = submit(call, lead, partners)
    login(officer)
    response = client.post(f"/manage/applications/{application.id}/screen", data={"decision": "eligible"})
    assert response.status_code == 302 and response.location == f"/manage/applications/{application.id}"
    application = fresh(application)
    assert application.status is ApplicationStatus.IN_REVIEW and application.in_review_at is not None
    assert _events("application.screened_in")[-1].actor_id == officer.id
    assert outbox(kind="application_screened_out") == []
    page = client.get(response.location).get_data(as_text=True)
    assert "is eligible and now in review" in page and "Record the decision" not in page


def test_screen_out_without_a_reason_is_refused_and_changes_nothing(client, login, officer, call, lead, partners,
                                                                    outbox):
    application = submit(call, lead, partners)
    login(officer)
    response = client.post(f"/manage/applications/{application.id}/screen",
                           data={"decision": "screened_out", "reason": "   "})
    assert response.status_code == 400
    assert "Give the reason for screening this application out" in response.get_data(as_text=True)
    application = fresh(application)
    assert application.status is ApplicationStatus.SUBMITTED and application.screening_reason == ""
    assert _events("application.screened_out") == [] and outbox(kind="application_screened_out") == []


def test_screen_without_a_decision_is_refused(client, login, officer, call, lead, partners):
    application = submit(call, lead, partners)
    login(officer)
    response = client.post(f"/manage/applications/{application.id}/screen", data={"reason": "Why not"})
    assert response.status_code == 400
    assert "Why not" in response.get_data(as_text=True)  # what was typed is kept
    assert fresh(application).status is ApplicationStatus.SUBMITTED


def test_screen_out_with_a_reason_is_shown_and_emailed_to_the_applicant(client, login, officer, call, lead, partners,
                                                                        outbox):
    application = submit(call, lead, partners)
    login(officer)
    reason = "The lead organisation is outside the region this programme serves."
    response = client.post(f"/manage/applications/{application.id}/screen",
                           data={"decision": "screened_out", "reason": reason})
    assert response.status_code == 302
    application = fresh(application)
    assert application.status is ApplicationStatus.SCREENED_OUT and application.screening_reason == reason
    assert _events("application.screened_out")[-1].details["reason"] == reason
    mails = outbox(kind="application_screened_out")
    assert lead.email in {mail.recipient for mail in mails}
    assert all(reason in mail.body for mail in mails)
    login(lead)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Screened out." in page and reason in page


def test_screen_twice_is_refused_and_changes_nothing(client, login, officer, call, lead, partners, outbox):
    application = submit(call, lead, partners)
    login(officer)
    assert client.post(f"/manage/applications/{application.id}/screen",
                       data={"decision": "eligible"}).status_code == 302
    response = client.post(f"/manage/applications/{application.id}/screen",
                           data={"decision": "screened_out", "reason": "Changed my mind"})
    assert response.status_code == 409
    assert "only a submitted application is screened, and only once" in response.get_data(as_text=True)
    application = fresh(application)
    assert application.status is ApplicationStatus.IN_REVIEW and application.screening_reason == ""
    assert outbox(kind="application_screened_out") == []
    assert len(_events("application.screened_in")) == 1 and _events("application.screened_out") == []


def test_screen_of_a_withdrawn_application_is_refused(client, login, officer, call, lead, partners):
    application = submit(call, lead, partners)
    services.withdraw_application(application, withdrawn_by=lead)
    login(officer)
    response = client.post(f"/manage/applications/{application.id}/screen", data={"decision": "eligible"})
    assert response.status_code == 409
    assert fresh(application).status is ApplicationStatus.WITHDRAWN


# --- the officers' call pages ---------------------------------------------------------------

def test_officer_call_pages_link_to_the_applications_with_their_count(client, login, officer, call, lead, partners):
    submit(call, lead, partners)
    submit(call, lead, partners)
    make_application(call, lead, title="A private draft")
    login(officer)
    link = f'href="/manage/calls/{call.id}/applications"'
    for url in ("/manage/calls", f"/manage/calls/{call.id}"):
        page = client.get(url).get_data(as_text=True)
        assert link in page and "Applications (2)" in page, url


def test_intake_application_history_names_partners_lines_and_files(client, login, officer, call, lead, partners):
    """The history says what a person understands: no ids, no digests."""
    import re

    application = make_application(call, lead)
    complete_application(application, partners)
    extra = services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.TRAVEL,
                                     description="Community meetings", amount_cents=500_000)
    services.update_budget_line(extra, editor=lead, expected_version=None, category=BudgetCategory.TRAVEL,
                                description="Community meetings", amount_cents=600_000)
    services.remove_budget_line(extra, editor=lead, expected_version=None)
    services.submit_application(application, submitted_by=lead, expected_version=None)
    db.session.commit()
    login(officer)

    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    history = page.split('id="history"', 1)[1]

    assert "Line: Travel – Community meetings; Amount: $5,000" in history  # added
    assert "$5,000 → $6,000; Line: Travel – Community meetings" in history  # changed
    assert "Line: Personnel – Project coordinator" in history
    assert "Partner: Eastside Alliance" in history and "Partner: Lake County Health" in history
    assert "Document: Letter of commitment" in history and "File: letter.pdf" in history
    assert "Questions: question 1" in history
    for internal in ("call_id", "line_id", "partner_id", "sha256"):
        assert internal not in history
    assert not re.search(r"\b[0-9a-f]{64}\b", history)
