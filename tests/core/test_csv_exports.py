"""Every CSV export neutralises spreadsheet formulas: a cell that starts with =, +, -, @, a
tab or a carriage return is run by Excel or LibreOffice (CSV injection), so such text gets
a leading quote. Plain numbers stay numbers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest

from grants.accounts.enums import OrganisationKind, Role
from grants.core.csv_export import FORMULA_TRIGGERS, PLAIN_NUMBER, cell as _cell
from grants.applications.models import Partner
from grants.extensions import db
from tests.applications.fixtures import make_call
from tests.reports.factories import award_rows
from tests.reviews.scoring_factories import light_application, submitted_review

# Each free-text field the exports carry starts with a different trigger.
HOSTILE = {
    "call": "=Call()",
    "lead": "+Lead Institute",
    "owner": "-Owner Name",
    "title": "=HYPERLINK(\"http://evil.example\",\"open\")",
    "partner": "@Partner Alliance",
    "contact": "\t=Contact()",
    "role": "\r=Role()",
    "comment": "@SUM(1+1)*cmd|' /C calc'!A0",
    "award_title": "=Awarded()",
    "reviewer": "=Reviewer()",
    "reviewer_organisation": "+Reviewers Council",
    "payment_reference": "@Cheque(1)",
}


@dataclass
class Export:
    url: str
    # column -> the hostile value that must come out quoted
    expected: dict


@pytest.fixture
def exports(make_user, make_organisation) -> dict[str, Export]:
    call = make_call(title=HOSTILE["call"])
    owner = make_user(Role.APPLICANT, full_name=HOSTILE["owner"], organisation=make_organisation(HOSTILE["lead"]))
    application = light_application(call, owner, title=HOSTILE["title"])
    partner_organisation = make_organisation(HOSTILE["partner"], kind=OrganisationKind.COMMUNITY_NONPROFIT)
    application.partners.append(Partner(organisation_id=partner_organisation.id, contact_name=HOSTILE["contact"],
                                        contact_email="contact@partner.example", role_in_project=HOSTILE["role"]))
    submitted_review(application, make_user(Role.REVIEWER), 80, comment=HOSTILE["comment"])
    award_rows(call, owner, amount_cents=10_000_000, title=HOSTILE["award_title"])
    reviewer = make_user(Role.REVIEWER, full_name=HOSTILE["reviewer"], organisation=make_organisation(
        HOSTILE["reviewer_organisation"], kind=OrganisationKind.COMMUNITY_NONPROFIT))
    _paid_stipend(call, application, reviewer, make_user(Role.PROGRAM_OFFICER))
    db.session.commit()
    quoted = {key: "'" + value for key, value in HOSTILE.items()}
    return {
        "applications.intake_csv": Export(f"/manage/calls/{call.id}/applications.csv", {
            "Title": quoted["title"], "Lead organisation": quoted["lead"], "Owner": quoted["owner"]}),
        "applications.intake_partners_csv": Export(f"/manage/calls/{call.id}/partners.csv", {
            "Application title": quoted["title"], "Partner organisation": quoted["partner"],
            "Contact": quoted["contact"], "Role in the project": quoted["role"]}),
        "reviews.ranking_csv": Export(f"/manage/calls/{call.id}/ranking.csv", {
            "Title": quoted["title"], "Comment": quoted["comment"]}),
        "awards.portfolio_csv": Export(f"/manage/portfolio.csv?call_id={call.id}", {
            "Call": quoted["call"], "Project title": quoted["award_title"], "Lead organisation": quoted["lead"]}),
        "reviews.stipends_csv": Export(f"/manage/calls/{call.id}/stipends.csv", {
            "Reviewer": quoted["reviewer"], "Organisation": quoted["reviewer_organisation"],
            "Payment reference": quoted["payment_reference"]}),
    }


def _paid_stipend(call, application, reviewer, officer):
    """``reviewer``'s stipend on ``call`` paid, with the hostile reference."""
    from grants.core.types import utcnow
    from grants.reviews import services, stipends
    from tests.reviews.scoring_factories import review_settings
    from tests.reviews.stipend_factories import member_of

    submitted_review(application, reviewer, 80)
    review_settings(call, review_closes_at=utcnow() - timedelta(days=1), stipend_cents=10_000)
    stipends.mark_stipend_paid(member_of(call, reviewer), officer=officer, paid_on=services.local_today(call),
                               reference=HOSTILE["payment_reference"], expected_version=0)


def test_every_csv_export_is_checked(app):
    csv_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.endswith(".csv")}
    assert csv_endpoints == {"applications.intake_csv", "applications.intake_partners_csv", "reviews.ranking_csv",
                             "awards.portfolio_csv", "reviews.stipends_csv"}, \
        "a new CSV export: add it to the `exports` fixture"


@pytest.mark.parametrize("endpoint", ["applications.intake_csv", "applications.intake_partners_csv",
                                      "reviews.ranking_csv", "awards.portfolio_csv", "reviews.stipends_csv"])
def test_csv_export_never_starts_a_cell_with_a_formula(client, make_user, login, exports, endpoint):
    export = exports[endpoint]
    login(make_user(Role.PROGRAM_OFFICER))
    response = client.get(export.url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    runnable = [(number, cell) for number, row in enumerate(rows) for cell in row
                if cell.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(cell)]
    assert runnable == [], f"{export.url}: cells a spreadsheet would run (row, value)"
    records = [dict(zip(rows[0], row)) for row in rows[1:]]
    for column, value in export.expected.items():
        assert value in {record[column] for record in records}, f"{export.url}: {column} should be {value!r}"


@pytest.mark.parametrize("text", ["=1+2", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "-1+2", "-", "=", "-1e5"])
def test_text_that_would_start_a_formula_is_quoted(text):
    assert _cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-12", "-0.7071", "3.5", "Community", "a=b", "", "'=already quoted"])
def test_numbers_and_plain_text_are_left_alone(text):
    # A negative figure (a z-score, a balance) must stay a number a spreadsheet can sort.
    assert _cell(text) == text


def test_values_that_are_not_text_pass_through():
    assert _cell(None) == "" and _cell(-5) == -5 and _cell(12) == 12
