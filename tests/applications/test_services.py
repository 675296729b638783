"""Application rules: starting, the word limit, partners and budget, the checklist,
submission, withdrawal and screening. Every refusal leaves the application as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.enums import ApplicationStatus, BudgetCategory
from grants.applications.models import Application
from grants.core.errors import DomainError, PermissionDenied, StaleEdit, TransitionNotAllowed
from grants.core.types import utcnow
from grants.extensions import db
from tests.applications.fixtures import complete_application, make_applicant, make_application, make_call


@pytest.fixture
def people(make_user, make_organisation):
    lead = make_applicant(make_user, make_organisation, name="Riverside Medical")
    nonprofit = make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                               name="Eastside Alliance")
    health = make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                            name="Lake County Health")
    officer = make_user(Role.PROGRAM_OFFICER)
    return lead, nonprofit, health, officer


def test_start_application_leads_with_the_owners_organisation(people):
    lead, *_ = people
    application = make_application(make_call(), lead)
    assert application.lead_organisation_id == lead.organisation_id
    assert application.status is ApplicationStatus.DRAFT and application.reference_number is None


def test_start_application_refuses_an_ineligible_lead(people):
    _, nonprofit, *_ = people
    with pytest.raises(PermissionDenied, match="member institution"):
        make_application(make_call(), nonprofit)
    assert db.session.scalar(select(Application)) is None


@pytest.mark.parametrize("opens, closes", [(5, 20), (-20, -1)])
def test_start_application_refuses_a_call_that_is_not_open(people, opens, closes):
    lead, *_ = people
    with pytest.raises(DomainError, match="not open"):
        make_application(make_call(opens_in_days=opens, closes_in_days=closes), lead)


def test_save_answers_refuses_over_the_word_limit_and_keeps_the_old_answer(people):
    lead, *_ = people
    application = make_application(make_call(word_limit=5), lead)
    question = application.call.questions[0]
    services.save_answers(application, editor=lead, expected_version=None, texts={question.id: "Short and fine."})
    db.session.commit()
    with pytest.raises(services.AnswersTooLong) as refused:
        services.save_answers(application, editor=lead, expected_version=None,
                              texts={question.id: "one two three four five six seven"})
    assert refused.value.problems[question.id] == "This answer has 7 words; the limit is 5. Shorten it by 2."
    db.session.rollback()
    assert db.session.get(Application, application.id).answer_to(question.id).text == "Short and fine."


def test_stale_save_is_refused(people):
    lead, *_ = people
    application = make_application(make_call(), lead)
    opened_at = application.version
    services.update_overview(application, editor=lead, expected_version=opened_at, title="First", summary="A")
    db.session.flush()
    with pytest.raises(StaleEdit, match="Someone else saved this application"):
        services.update_overview(application, editor=lead, expected_version=opened_at, title="Second", summary="B")


def test_add_partner_refuses_the_lead_and_duplicates(people):
    lead, nonprofit, *_ = people
    application = make_application(make_call(), lead)
    with pytest.raises(DomainError, match="leads this application"):
        services.add_partner(application, editor=lead, expected_version=None, organisation=lead.organisation,
                             contact_name="X", contact_email="x@example.org", role_in_project="")
    services.add_partner(application, editor=lead, expected_version=None, organisation=nonprofit.organisation,
                         contact_name="Jo", contact_email="jo@eastside.example", role_in_project="")
    with pytest.raises(DomainError, match="already a partner"):
        services.add_partner(application, editor=lead, expected_version=None, organisation=nonprofit.organisation,
                             contact_name="Jo", contact_email="jo@eastside.example", role_in_project="")


def test_add_partner_with_a_new_organisation_proposes_it(people):
    lead, *_ = people
    application = make_application(make_call(), lead)
    partner = services.add_partner(application, editor=lead, expected_version=None,
                                   new_organisation={"name": "Harbor Food Bank",
                                                     "kind": OrganisationKind.COMMUNITY_NONPROFIT},
                                   contact_name="Chris", contact_email="chris@harbor.example", role_in_project="")
    assert partner.organisation.status.value == "proposed"


def test_budget_totals_and_community_share(people):
    lead, nonprofit, *_ = people
    application = make_application(make_call(), lead)
    partner = services.add_partner(application, editor=lead, expected_version=None,
                                   organisation=nonprofit.organisation, contact_name="Jo",
                                   contact_email=nonprofit.email, role_in_project="")
    services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.PERSONNEL,
                             description="Coordinator", amount_cents=6_000_000)
    services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.CONTRACTUAL,
                             description="Outreach", amount_cents=4_000_000, partner_id=partner.id)
    assert application.requested_cents == 10_000_000
    assert application.partner_share_cents(partner) == 4_000_000
    assert application.community_share_percent == pytest.approx(40.0)


def test_budget_line_refuses_a_partner_of_another_application(people):
    lead, nonprofit, *_ = people
    call = make_call()
    first = make_application(call, lead)
    other = make_application(call, lead, title="Other")
    partner = services.add_partner(other, editor=lead, expected_version=None, organisation=nonprofit.organisation,
                                   contact_name="Jo", contact_email=nonprofit.email, role_in_project="")
    with pytest.raises(DomainError, match="one of this application's partners"):
        services.add_budget_line(first, editor=lead, expected_version=None, category=BudgetCategory.CONTRACTUAL,
                                 description="Sneaky", amount_cents=100, partner_id=partner.id)


def test_checklist_lists_what_is_missing(people):
    lead, *_ = people
    application = make_application(make_call(), lead)
    labels = [item.label for item in services.missing_items(application)]
    assert "Project title and summary" in labels
    assert "Answer: How will the partnership build trust?" in labels
    assert any(label.startswith("At least 2 partners") for label in labels)
    assert "A budget" in labels and "Project narrative" in labels
    assert not any("Anything else" in label for label in labels)  # optional question


def test_submit_application_gives_reference_freezes_and_emails(people, outbox):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    assert services.missing_items(application) == []
    services.submit_application(application, submitted_by=lead, expected_version=None)
    assert application.status is ApplicationStatus.SUBMITTED
    assert application.reference_number.endswith("-0001")
    assert application.submitted_content["requested_cents"] == 10_000_000
    assert len(application.submitted_content["partners"]) == 2
    recipients = {m.recipient for m in outbox(kind="application_submitted")}
    assert recipients == {lead.email, nonprofit.email, health.email}
    with pytest.raises(DomainError, match="can no longer change"):
        services.update_overview(application, editor=lead, expected_version=None, title="Changed", summary="x")


def test_reference_numbers_count_per_call(people, make_user, make_organisation):
    lead, nonprofit, health, _ = people
    call = make_call()
    second_lead = make_applicant(make_user, make_organisation, name="Northgate")
    references = []
    for owner in (lead, second_lead):
        application = make_application(call, owner)
        complete_application(application, [nonprofit, health])
        services.submit_application(application, submitted_by=owner, expected_version=None)
        references.append(application.reference_number)
    assert [r[-4:] for r in references] == ["0001", "0002"]


def test_submit_application_refuses_an_incomplete_application(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health], sign_off=False)
    with pytest.raises(DomainError, match="Sign-off by Eastside Alliance"):
        services.submit_application(application, submitted_by=lead, expected_version=None)
    assert application.status is ApplicationStatus.DRAFT and application.reference_number is None


def test_submit_application_refuses_when_community_share_is_too_low(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.PERSONNEL,
                             description="More lead staff", amount_cents=9_000_000)
    with pytest.raises(DomainError, match="to community partners"):
        services.submit_application(application, submitted_by=lead, expected_version=None)


def test_submit_application_refuses_after_the_call_closes(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    after_close = application.call.closes_at + timedelta(seconds=1)
    with pytest.raises(DomainError, match="The call closed on"):
        services.submit_application(application, submitted_by=lead, expected_version=None, now=after_close)
    assert application.status is ApplicationStatus.DRAFT


def test_submit_application_honours_a_deadline_extension(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    old_close = application.call.closes_at
    application.call.closes_at = old_close + timedelta(days=7)
    services.submit_application(application, submitted_by=lead, expected_version=None,
                                now=old_close + timedelta(hours=1))
    assert application.status is ApplicationStatus.SUBMITTED


def test_sign_off_is_cleared_by_a_change_to_the_partner_or_its_share(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    first, second = complete_application(application, [nonprofit, health])
    services.update_partner(first, editor=lead, expected_version=None, contact_name=first.contact_name,
                            contact_email=first.contact_email, role_in_project="A new role")
    assert not first.is_signed_off and second.is_signed_off
    line = next(line for line in application.budget_lines if line.partner_id == second.id)
    services.update_budget_line(line, editor=lead, expected_version=None, category=line.category,
                                description=line.description, amount_cents=line.amount_cents + 100,
                                partner_id=second.id)
    assert not second.is_signed_off


def test_unrelated_budget_change_keeps_sign_offs(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    partners = complete_application(application, [nonprofit, health])
    services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.TRAVEL,
                             description="Mileage", amount_cents=10_000)
    assert all(partner.is_signed_off for partner in partners)


def test_sign_off_by_someone_else_is_refused(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    first, _ = complete_application(application, [nonprofit, health], sign_off=False)
    with pytest.raises(PermissionDenied, match="named contact"):
        services.sign_off_partner(first, user=lead)
    assert not first.is_signed_off


def test_withdraw_application_until_the_call_closes(people):
    lead, nonprofit, health, _ = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    services.submit_application(application, submitted_by=lead, expected_version=None)
    with pytest.raises(DomainError, match="can no longer be withdrawn"):
        services.withdraw_application(application, withdrawn_by=lead,
                                      now=application.call.closes_at + timedelta(minutes=1))
    services.withdraw_application(application, withdrawn_by=lead, now=utcnow())
    assert application.status is ApplicationStatus.WITHDRAWN


def test_screen_application_out_needs_a_reason_and_tells_the_applicant(people, outbox):
    lead, nonprofit, health, officer = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    services.submit_application(application, submitted_by=lead, expected_version=None)
    with pytest.raises(DomainError, match="Give the reason"):
        services.screen_application(application, officer=officer, eligible=False, reason=" ")
    assert application.status is ApplicationStatus.SUBMITTED
    services.screen_application(application, officer=officer, eligible=False, reason="Lead is not eligible.")
    assert application.status is ApplicationStatus.SCREENED_OUT
    assert "Lead is not eligible." in outbox(kind="application_screened_out")[0].body
    with pytest.raises(TransitionNotAllowed):
        services.screen_application(application, officer=officer, eligible=True)


def test_screen_application_in_sends_it_to_review(people):
    lead, nonprofit, health, officer = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    services.submit_application(application, submitted_by=lead, expected_version=None)
    services.screen_application(application, officer=officer, eligible=True)
    assert application.status is ApplicationStatus.IN_REVIEW and application.in_review_at is not None
