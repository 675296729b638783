"""Call rules: the lifecycle, publication checks, and what a published call may still change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.audit.models import AuditEvent
from grants.calls import services
from grants.calls.enums import CALL_TRANSITIONS, CallStatus, DocumentScope
from grants.calls.models import CallDocument, CallQuestion, MilestoneTemplate, OutcomeMetric, RubricCriterion
from grants.core.errors import DomainError, StaleEdit, TransitionNotAllowed
from grants.core.types import utcnow
from grants.extensions import db
from tests.calls.factories import CHICAGO, chicago
from tests.conftest import fresh


def _actions(call) -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "Call", AuditEvent.object_id == str(call.id))
        .order_by(AuditEvent.id)))


def _event(call, action: str) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "Call", AuditEvent.object_id == str(call.id), AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())).first()


# --- creating ---------------------------------------------------------------------------

def test_create_call_starts_as_a_draft_and_is_audited(officer):
    call = services.create_call(created_by=officer, title="  Community   Trust  ")
    assert call.status is CallStatus.DRAFT
    assert call.title == "Community Trust"
    assert call.time_zone == "America/Chicago"  # CALL_DEFAULT_TIME_ZONE
    assert _actions(call) == ["call.created"]
    assert _event(call, "call.created").actor_id == officer.id


def test_create_call_refuses_an_unknown_time_zone(officer):
    with pytest.raises(DomainError, match="not a time zone"):
        services.create_call(created_by=officer, title="A call", time_zone="Mars/Olympus_Mons")


def test_create_call_refuses_a_floor_above_the_ceiling_with_both_amounts(officer):
    with pytest.raises(DomainError, match=r"award floor \(\$300,000\) is above the award ceiling \(\$250,000\)"):
        services.create_call(created_by=officer, title="A call", award_floor_cents=30_000_000,
                             award_ceiling_cents=25_000_000)


def test_create_call_refuses_unknown_organisation_kinds(officer):
    with pytest.raises(DomainError, match="Unknown kinds"):
        services.create_call(created_by=officer, title="A call", lead_kinds=["university_hospital"])


# --- lifecycle --------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, allowed", [
    (CallStatus.DRAFT, CallStatus.PUBLISHED, True),
    (CallStatus.DRAFT, CallStatus.ARCHIVED, True),
    (CallStatus.PUBLISHED, CallStatus.ARCHIVED, True),
    (CallStatus.PUBLISHED, CallStatus.DRAFT, False),
    (CallStatus.ARCHIVED, CallStatus.PUBLISHED, False),
    (CallStatus.ARCHIVED, CallStatus.DRAFT, False),
])
def test_call_transitions_table(old, new, allowed):
    assert (new in CALL_TRANSITIONS[old]) is allowed


def test_publish_call_publishes_a_complete_draft_and_audits(make_call, officer):
    call = make_call()
    services.publish_call(call, published_by=officer)
    assert call.status is CallStatus.PUBLISHED and call.published_at is not None
    event = _event(call, "call.published")
    assert event.details == {"from": "draft", "to": "published"} and event.actor_id == officer.id


def test_publish_call_refuses_an_incomplete_call_listing_everything_missing(officer):
    call = services.create_call(created_by=officer, title="Only a title")
    with pytest.raises(services.CallNotReady) as refused:
        services.publish_call(call, published_by=officer)
    problems = refused.value.problems
    for expected in ("Write a summary.", "Set the opening and closing dates.", "Set the award ceiling.",
                     "Add at least one narrative question.", "Add the review rubric: at least one weighted criterion.",
                     "Add the milestones, with payment shares that add up to 100%.",
                     "Choose which kinds of organisation may lead an application."):
        assert expected in problems
    assert "This call cannot be published yet." in refused.value.message
    assert call.status is CallStatus.DRAFT and call.published_at is None
    assert "call.published" not in _actions(call)


def test_publish_call_refuses_milestone_shares_that_do_not_add_up_to_100(make_call, officer):
    call = make_call()
    services.remove_call_item(call.milestones[-1], changed_by=officer)
    with pytest.raises(services.CallNotReady) as refused:
        services.publish_call(call, published_by=officer)
    assert refused.value.problems == ["Make the milestones' payment shares add up to 100% (now 60%)."]


def test_publish_call_refuses_a_deadline_that_has_passed(make_call, officer):
    call = make_call(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(days=1))
    with pytest.raises(services.CallNotReady, match="this one has passed"):
        services.publish_call(call, published_by=officer)


def test_publish_call_refuses_partners_without_kinds(make_call, officer):
    call = make_call(partner_kinds=[])
    with pytest.raises(services.CallNotReady, match="count as partners \\(the call asks for at least 2\\)"):
        services.publish_call(call, published_by=officer)


def test_publish_call_refuses_a_call_published_already(make_call, officer):
    call = make_call(publish=True)
    with pytest.raises(TransitionNotAllowed, match="published; it cannot become published"):
        services.publish_call(call, published_by=officer)


def test_archive_call_refuses_while_the_call_is_open(make_call, officer):
    call = make_call(publish=True)
    with pytest.raises(DomainError, match="applicants are working on it"):
        services.archive_call(call, archived_by=officer)
    assert call.status is CallStatus.PUBLISHED


def test_archive_call_after_it_closed(make_call, officer):
    call = make_call(publish=True)
    services.archive_call(call, archived_by=officer, now=call.closes_at)
    assert call.status is CallStatus.ARCHIVED and call.archived_at is not None
    assert _event(call, "call.archived").details == {"from": "published", "to": "archived"}


def test_archive_call_discards_a_draft(make_call, officer):
    call = make_call()
    services.archive_call(call, archived_by=officer)
    assert call.status is CallStatus.ARCHIVED


def test_archived_call_cannot_be_published_or_changed(make_call, officer):
    call = make_call()
    services.archive_call(call, archived_by=officer)
    with pytest.raises(TransitionNotAllowed):
        services.publish_call(call, published_by=officer)
    with pytest.raises(DomainError, match="archived"):
        services.update_call(call, changed_by=officer, title="New title")
    with pytest.raises(DomainError, match="archived"):
        services.add_call_item(call, OutcomeMetric, changed_by=officer, name="More", unit="")


# --- editing a draft --------------------------------------------------------------------

def test_update_call_on_a_draft_changes_anything_and_audits_each_change(make_call, officer):
    call = make_call()
    old_closing = call.closes_at
    changes = services.update_call(call, changed_by=officer, closes_at=old_closing - timedelta(days=5),
                                   time_zone="America/New_York", award_ceiling_cents=20_000_000)
    assert set(changes) == {"closes_at", "time_zone", "award_ceiling_cents"}
    details = _event(call, "call.updated").details
    assert details["time_zone"] == {"from": CHICAGO, "to": "America/New_York"}
    assert details["award_ceiling_cents"] == {"from": 25_000_000, "to": 20_000_000}
    assert "call.deadline_extended" not in _actions(call)


def test_update_call_without_changes_records_nothing(make_call, officer):
    call = make_call()
    before = _actions(call)
    assert services.update_call(call, changed_by=officer, title=call.title,
                                lead_kinds=[OrganisationKind.MEMBER_INSTITUTION]) == {}
    assert _actions(call) == before


def test_update_call_refuses_an_edit_made_on_an_older_version(make_call, officer):
    call = make_call()
    version_seen = call.version
    services.update_call(call, changed_by=officer, title="Changed by a colleague")
    db.session.flush()
    with pytest.raises(StaleEdit, match="Someone else saved changes"):
        services.update_call(call, changed_by=officer, expected_version=version_seen, summary="Mine")
    assert call.summary == "Money for partnerships."


# --- editing a published call -----------------------------------------------------------

def _draft_application(call, owner, status="draft"):
    from grants.applications.enums import ApplicationStatus
    from grants.applications.models import Application

    application = Application(call=call, lead_organisation=owner.organisation, owner=owner, title="In progress",
                              status=ApplicationStatus(status))
    if status != "draft":
        application.reference_number, application.submitted_at = f"REF-{owner.id}", call.opens_at
    db.session.add(application)
    db.session.flush()
    return application


def test_update_call_extends_the_deadline_of_a_published_call_and_tells_applicants(
        make_call, officer, make_user, outbox):
    call = make_call(publish=True, closes_at=chicago(2030, 1, 15, 17))
    applicant = make_user(Role.APPLICANT)
    _draft_application(call, applicant)
    services.update_call(call, changed_by=officer, closes_at=chicago(2030, 1, 29, 17))
    assert call.closes_at == chicago(2030, 1, 29, 17)
    assert _event(call, "call.deadline_extended").details["notified"] == 1
    [message] = outbox(kind="call_deadline_extended")
    assert message.recipient == applicant.email
    assert "15 January 2030, 5:00 PM CST" in message.body and "29 January 2030, 5:00 PM CST" in message.body


def test_applicants_of_counts_only_applications_in_progress(make_call, make_user):
    call = make_call(publish=True)
    assert services.applicants_of(call) == []
    drafting, submitted = make_user(Role.APPLICANT), make_user(Role.APPLICANT)
    _draft_application(call, drafting)
    _draft_application(call, submitted, status="submitted")
    assert services.applicants_of(call) == [drafting]


def test_update_call_refuses_to_shorten_a_published_deadline_and_changes_nothing(make_call, officer):
    call = make_call(publish=True)
    closing, before = call.closes_at, _actions(call)
    with pytest.raises(DomainError, match="The closing date can only move later once the call is published"):
        services.update_call(call, changed_by=officer, closes_at=closing - timedelta(days=1), title="New title")
    assert call.closes_at == closing and call.title == "Community Trust Partnerships"
    assert _actions(call) == before


def test_update_call_names_every_refused_change_of_a_published_call(make_call, officer):
    call = make_call(publish=True)
    with pytest.raises(DomainError) as refused:
        services.update_call(call, changed_by=officer, award_floor_cents=6_000_000, award_ceiling_cents=20_000_000,
                             min_partners=3, lead_kinds=[], time_zone="America/New_York",
                             requires_partner_signoff=True)
    message = refused.value.message
    for label in ("The award floor can only go down", "The award ceiling can only go up",
                  "The minimum number of partners can only go down", "The kinds of lead organisation can gain",
                  "The time zone cannot change"):
        assert label in message
    assert fresh(call).award_floor_cents == 5_000_000 and fresh(call).min_partners == 2


def test_update_call_allows_relaxing_a_published_call(make_call, officer):
    call = make_call(publish=True)
    services.update_call(call, changed_by=officer, title="Community Trust Partnerships (corrected)",
                         award_floor_cents=2_500_000, award_ceiling_cents=30_000_000, total_funds_cents=120_000_000,
                         expected_awards=5, min_partners=1, min_community_share_percent=30,
                         requires_partner_signoff=False,
                         partner_kinds=[*call.partner_kinds, OrganisationKind.SOCIAL_SERVICE_AGENCY.value])
    assert call.min_partners == 1 and not call.requires_partner_signoff
    assert OrganisationKind.SOCIAL_SERVICE_AGENCY in call.allowed_partner_kinds
    assert _event(call, "call.updated").details["title"]["to"] == "Community Trust Partnerships (corrected)"


def test_update_call_opening_of_a_published_call_changes_only_before_it_opens(make_call, officer):
    upcoming = make_call(publish=True, opens_at=utcnow() + timedelta(days=10), closes_at=utcnow() + timedelta(days=40))
    services.update_call(upcoming, changed_by=officer, opens_at=upcoming.opens_at + timedelta(days=2))
    with pytest.raises(DomainError, match="opening date in the past"):
        services.update_call(upcoming, changed_by=officer, opens_at=utcnow() - timedelta(days=1))
    already_open = make_call(publish=True)
    with pytest.raises(DomainError, match="the call has already opened"):
        services.update_call(already_open, changed_by=officer, opens_at=already_open.opens_at + timedelta(days=1))


# --- items ------------------------------------------------------------------------------

def test_add_call_item_appends_in_order_and_audits(make_call, officer):
    call = make_call()
    question = services.add_call_item(call, CallQuestion, changed_by=officer, prompt=" A third question? ",
                                      help_text="", word_limit=None, is_required=False)
    assert call.questions[-1] is question and question.prompt == "A third question?"
    assert _event(call, "call.question_added").details["item_id"] == question.id


def test_add_call_item_refuses_milestone_shares_over_100(make_call, officer):
    call = make_call()
    with pytest.raises(DomainError, match="would add up to 110%"):
        services.add_call_item(call, MilestoneTemplate, changed_by=officer, name="Extra", offset_days=10,
                               payment_share_percent=10)


def test_add_call_item_to_a_published_call_only_optional_questions_and_documents(make_call, officer):
    call = make_call(publish=True)
    services.add_call_item(call, CallQuestion, changed_by=officer, prompt="Anything else?", help_text="",
                           word_limit=300, is_required=False)
    services.add_call_item(call, CallDocument, changed_by=officer, name="Photos", help_text="",
                           scope=DocumentScope.PER_APPLICATION, is_required=False)
    with pytest.raises(DomainError, match="Only optional questions can be added"):
        services.add_call_item(call, CallQuestion, changed_by=officer, prompt="A new required one", help_text="",
                               word_limit=300, is_required=True)
    with pytest.raises(DomainError, match="Rubric criteria cannot be added"):
        services.add_call_item(call, RubricCriterion, changed_by=officer, name="New", description="", weight=10,
                               scale_min=1, scale_max=5, anchors="")
    assert len(call.questions) == 3 and len(call.criteria) == 2


def test_remove_call_item_from_a_draft(make_call, officer):
    call = make_call()
    question = call.questions[0]
    services.remove_call_item(question, changed_by=officer)
    assert [q.prompt for q in fresh(call).questions] == ["How will partners share decisions?"]
    assert _event(call, "call.question_removed").details["prompt"] == "Describe the community."


def test_remove_call_item_refuses_a_question_of_a_published_call_and_changes_nothing(make_call, officer):
    call = make_call(publish=True)
    before = _actions(call)
    with pytest.raises(DomainError, match="Questions cannot be removed once the call is published: applicants may "
                                          "already have answered them"):
        services.remove_call_item(call.questions[0], changed_by=officer)
    assert len(fresh(call).questions) == 2
    assert _actions(call) == before


def test_update_call_item_of_a_published_call_may_relax_a_question(make_call, officer):
    call = make_call(publish=True)
    question = call.questions[0]
    services.update_call_item(question, changed_by=officer, prompt="Describe your community.",
                              word_limit=600, is_required=False)
    assert (question.prompt, question.word_limit, question.is_required) == ("Describe your community.", 600, False)
    services.update_call_item(question, changed_by=officer, word_limit=None)  # no limit at all
    assert _event(call, "call.question_updated").details["word_limit"] == {"from": 600, "to": None}


@pytest.mark.parametrize("change, message", [
    ({"word_limit": 400}, "The word limit can only go up"),
    ({"is_required": True}, "“Required” can be dropped but not added"),
])
def test_update_call_item_refuses_tightening_a_published_question(make_call, officer, change, message):
    call = make_call(publish=True)
    question = call.questions[0]
    services.update_call_item(question, changed_by=officer, is_required=False)
    with pytest.raises(DomainError, match=message):
        services.update_call_item(question, changed_by=officer, **change)
    assert fresh(question).word_limit == 500


def test_update_call_item_refuses_rubric_weights_once_published(make_call, officer):
    call = make_call(publish=True)
    criterion = call.criteria[0]
    services.update_call_item(criterion, changed_by=officer, name="Community need and voice")
    with pytest.raises(DomainError, match="The weight cannot change once the call is published"):
        services.update_call_item(criterion, changed_by=officer, weight=50)
    assert fresh(criterion).weight == 60


def test_move_call_item_swaps_neighbours(make_call, officer):
    call = make_call()
    first, second = call.questions
    services.move_call_item(second, up=True, changed_by=officer)
    assert fresh(call).questions[0].id == second.id
    services.move_call_item(fresh(call).questions[0], up=True, changed_by=officer)  # already first
    assert [q.id for q in fresh(call).questions] == [second.id, first.id]


# --- finding calls ----------------------------------------------------------------------

def test_open_and_upcoming_calls_lists_published_calls_not_yet_closed(make_call, officer):
    now = utcnow()
    open_call = make_call(publish=True, title="Open")
    upcoming = make_call(publish=True, title="Upcoming", opens_at=now + timedelta(days=5),
                         closes_at=now + timedelta(days=50))
    make_call(publish=True, title="Closed", opens_at=now - timedelta(days=50), closes_at=now - timedelta(days=5))
    make_call(title="Draft")
    archived = make_call(publish=True, title="Archived", opens_at=now + timedelta(days=5),
                         closes_at=now + timedelta(days=50))
    services.archive_call(archived, archived_by=officer)
    assert services.open_and_upcoming_calls(now) == [open_call, upcoming]


def test_update_call_keeps_what_a_published_call_needs(make_call, officer):
    call = make_call(publish=True)
    with pytest.raises(DomainError, match="A published call needs a description"):
        services.update_call(call, changed_by=officer, description="  ")
    assert fresh(call).description == "Build **trust** together."
