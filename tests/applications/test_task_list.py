"""The task list: each section's status (Not yet started, In progress, Completed, Cannot start
yet), who does it, and "Check your answers and submit" opening only once every rule is met."""

from __future__ import annotations

import pytest

from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.applications.enums import BudgetCategory, TaskStatus
from tests.applications.fixtures import complete_application, make_applicant, make_application, make_call


@pytest.fixture
def people(make_user, make_organisation):
    return (make_applicant(make_user, make_organisation, name="Riverside Medical"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name="Eastside Alliance"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                           name="Lake County Health"))


def _statuses(application) -> dict[str, str]:
    return {task.label: task.status.label for task in services.task_list(application)}


def test_a_new_application_has_nothing_started_and_cannot_be_submitted(people):
    lead, *_ = people
    application = make_application(make_call(), lead)
    statuses = _statuses(application)
    assert statuses["Project title and summary"] == "Not yet started"
    assert statuses["Partners"] == "Not yet started" and statuses["Budget"] == "Not yet started"
    assert statuses["Check your answers and submit"] == "Cannot start yet"
    assert all(task.owner == services.LEAD for task in services.task_list(application))


def test_a_section_is_in_progress_until_every_rule_for_it_is_met(people):
    lead, nonprofit, health = people
    application = make_application(make_call(), lead)
    partner = services.add_partner(application, editor=lead, expected_version=None,
                                   organisation=nonprofit.organisation, contact_name=nonprofit.full_name,
                                   contact_email=nonprofit.email, role_in_project="Outreach")
    tasks = {task.label: task for task in services.task_list(application)}
    # The call asks for two partners: one is in progress, and the task says what is missing.
    assert tasks["Partners"].status is TaskStatus.IN_PROGRESS
    assert tasks["Partners"].missing[0].label.startswith("At least 2 partners")
    # The partner's own tasks appear with it, owned by it; its sign-off waits for a budget.
    sign_off = tasks["Sign-off by Eastside Alliance"]
    assert sign_off.owner == "Eastside Alliance" and sign_off.partner_id == partner.id
    assert sign_off.status is TaskStatus.CANNOT_START
    services.add_budget_line(application, editor=lead, expected_version=None, category=BudgetCategory.PERSONNEL,
                             description="Coordinator", amount_cents=1_000_000)
    assert _statuses(application)["Sign-off by Eastside Alliance"] == "Not yet started"


def test_a_complete_application_is_ready_to_check_and_submit(people):
    lead, nonprofit, health = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health])
    statuses = _statuses(application)
    assert statuses.pop("Check your answers and submit") == "Not yet started"
    assert set(statuses.values()) == {"Completed"}, statuses
    assert "Sign-off by Lake County Health" in statuses


def test_the_submit_task_lists_everything_still_missing(people):
    lead, nonprofit, health = people
    application = make_application(make_call(), lead)
    complete_application(application, [nonprofit, health], sign_off=False)
    submit = services.task_list(application)[-1]
    assert submit.status is TaskStatus.CANNOT_START
    assert {item.label for item in submit.missing} == {"Sign-off by Eastside Alliance", "Sign-off by Lake County Health"}
