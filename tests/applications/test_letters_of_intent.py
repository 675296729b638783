"""Two-stage calls: letters of intent, their deadline, screening, one release of invitations and
declines, and the invited lead's full proposal started from its letter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import letters_of_intent as loi_services
from grants.applications import services
from grants.applications.enums import ApplicationStage, ApplicationStatus, LoiOutcome
from grants.applications.models import Application
from grants.applications.permissions import can_start_full_proposal
from grants.calls.enums import QuestionStage
from grants.calls.models import CallQuestion
from grants.core.errors import DomainError, PermissionDenied
from grants.core.types import utcnow
from grants.extensions import db
from grants.notifications.models import OutboxMessage
from tests.applications.fixtures import make_applicant, make_call


def make_two_stage_call(*, loi_closes_in_days: int = 5, loi_min_partners: int = 1, **kwargs):
    """A call whose letters of intent close in ``loi_closes_in_days``; its first question is asked
    at both stages, a short LOI-only question and the rest only in the full proposal."""
    call = make_call(**kwargs)
    call.loi_closes_at = utcnow() + timedelta(days=loi_closes_in_days)
    call.loi_min_partners = loi_min_partners
    call.questions[0].stage = QuestionStage.BOTH
    call.questions.append(CallQuestion(position=2, prompt="In a paragraph, who are the partners?", word_limit=30,
                                       is_required=True, stage=QuestionStage.LOI))
    db.session.flush()
    return call


@pytest.fixture
def people(make_user, make_organisation):
    lead = make_applicant(make_user, make_organisation, name="Riverside Medical")
    other = make_applicant(make_user, make_organisation, name="Hillside University")
    nonprofit = make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                               name="Eastside Alliance")
    officer = make_user(Role.PROGRAM_OFFICER)
    return lead, other, nonprofit, officer


def prepare_loi(call, owner, partner_user, *, title="Trusted messengers"):
    loi = services.start_application(call, owner=owner, title=title)
    services.update_overview(loi, editor=owner, expected_version=None, title=title, summary="Clinics and churches.")
    both, _, loi_only = (q for q in sorted(call.questions, key=lambda q: q.position))
    services.save_answers(loi, editor=owner, expected_version=None,
                          texts={both.id: "Monthly listening sessions.", loi_only.id: "A church network."})
    services.add_partner(loi, editor=owner, expected_version=None, organisation=partner_user.organisation,
                         contact_name=partner_user.full_name, contact_email=partner_user.email,
                         role_in_project="Hosts the sessions")
    db.session.flush()
    return loi


def submitted_loi(call, owner, partner_user, **kwargs):
    loi = prepare_loi(call, owner, partner_user, **kwargs)
    services.submit_application(loi, submitted_by=owner, expected_version=None)
    db.session.flush()
    return loi


def test_start_application_on_a_two_stage_call_is_a_letter_of_intent_asking_only_its_questions(people):
    lead, *_ = people
    call = make_two_stage_call()
    loi = services.start_application(call, owner=lead, title="Trusted messengers")
    assert loi.stage is ApplicationStage.LOI
    assert [q.prompt for q in loi.questions] == ["How will the partnership build trust?",
                                                 "In a paragraph, who are the partners?"]
    # No budget, documents or sign-offs in a letter of intent.
    assert {task.key for task in services.task_list(loi)} == {"overview", "answers", "partners", "submit"}


def test_submit_letter_of_intent_checks_its_partner_rule_and_word_limits(people):
    lead, _, nonprofit, _ = people
    call = make_two_stage_call(loi_min_partners=1)
    loi = services.start_application(call, owner=lead, title="Trusted messengers")
    with pytest.raises(DomainError, match="At least 1 named partner"):
        services.submit_application(loi, submitted_by=lead, expected_version=None)
    loi_only = next(q for q in call.questions if q.stage is QuestionStage.LOI)
    with pytest.raises(services.AnswersTooLong):
        services.save_answers(loi, editor=lead, expected_version=None, texts={loi_only.id: "word " * 31})


def test_submit_letter_of_intent_takes_an_loi_reference(people):
    lead, _, nonprofit, _ = people
    loi = submitted_loi(make_two_stage_call(), lead, nonprofit)
    assert loi.status is ApplicationStatus.SUBMITTED and loi.reference_number.startswith("LOI-")


def test_submit_letter_of_intent_is_refused_after_the_loi_deadline(people):
    lead, _, nonprofit, _ = people
    call = make_two_stage_call()
    loi = prepare_loi(call, lead, nonprofit)
    call.loi_closes_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    with pytest.raises(DomainError, match="Letters of intent to this call closed on .*can no longer be submitted"):
        services.submit_application(loi, submitted_by=lead, expected_version=None)
    assert loi.status is ApplicationStatus.DRAFT


def test_start_application_is_refused_after_the_loi_deadline_even_while_full_proposals_are_open(people):
    lead, *_ = people
    call = make_two_stage_call()
    call.loi_closes_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    with pytest.raises(DomainError, match="only invited applicants"):
        services.start_application(call, owner=lead, title="Late")


def test_release_loi_decisions_invites_and_declines_in_one_go_with_letters(people):
    lead, other, nonprofit, officer = people
    call = make_two_stage_call()
    invited = submitted_loi(call, lead, nonprofit, title="Invite me")
    declined = submitted_loi(call, other, nonprofit, title="Decline me")
    loi_services.screen_loi(invited, officer=officer, outcome=LoiOutcome.INVITE, note="Strong partners.")
    loi_services.screen_loi(declined, officer=officer, outcome=LoiOutcome.DECLINE)
    # Screening tells nobody yet.
    assert invited.status is ApplicationStatus.SUBMITTED
    call.loi_closes_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    before = db.session.scalar(select(db.func.count(OutboxMessage.id)))
    released = loi_services.release_loi_decisions(call, officer=officer, expected_count=2)
    assert {a.id for a in released} == {invited.id, declined.id}
    assert invited.status is ApplicationStatus.INVITED and invited.invited_at is not None
    assert declined.status is ApplicationStatus.DECLINED
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id).offset(before)).all()
    assert sorted(kinds) == ["loi_declined", "loi_invited"]
    with pytest.raises(DomainError, match="No screened letter of intent"):
        loi_services.release_loi_decisions(call, officer=officer)


def test_release_loi_decisions_is_refused_while_letters_are_taken_or_the_count_changed(people):
    lead, other, nonprofit, officer = people
    call = make_two_stage_call()
    loi = submitted_loi(call, lead, nonprofit)
    loi_services.screen_loi(loi, officer=officer, outcome=LoiOutcome.INVITE)
    with pytest.raises(DomainError, match="still being taken"):
        loi_services.release_loi_decisions(call, officer=officer)
    call.loi_closes_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(DomainError, match="1 letters of intent are waiting for release now, not 2"):
        loi_services.release_loi_decisions(call, officer=officer, expected_count=2)
    assert loi.status is ApplicationStatus.SUBMITTED


def _invite(call, loi, officer):
    loi_services.screen_loi(loi, officer=officer, outcome=LoiOutcome.INVITE)
    call.loi_closes_at = utcnow() - timedelta(minutes=1)
    loi_services.release_loi_decisions(call, officer=officer)
    db.session.flush()


def test_start_full_proposal_carries_over_shared_answers_and_partners(people):
    lead, _, nonprofit, officer = people
    call = make_two_stage_call()
    loi = submitted_loi(call, lead, nonprofit)
    _invite(call, loi, officer)
    proposal = loi_services.start_full_proposal(loi, owner=lead)
    assert proposal.stage is ApplicationStage.FULL and proposal.loi_id == loi.id and loi.full_proposal is proposal
    assert (proposal.title, proposal.summary) == (loi.title, loi.summary)
    both = next(q for q in call.questions if q.stage is QuestionStage.BOTH)
    assert [(a.question_id, a.text) for a in proposal.answers] == [(both.id, "Monthly listening sessions.")]
    assert [(p.organisation_id, p.contact_email, p.is_signed_off) for p in proposal.partners] == [
        (nonprofit.organisation_id, nonprofit.email, False)]
    # The full proposal asks the full stage's questions and has the whole checklist.
    assert "In a paragraph, who are the partners?" not in [q.prompt for q in proposal.questions]
    assert "budget" in {task.key for task in services.task_list(proposal)}
    with pytest.raises(DomainError, match="already started"):
        loi_services.start_full_proposal(loi, owner=lead)


def test_start_full_proposal_is_refused_to_uninvited_letters_and_other_users(people):
    lead, other, nonprofit, officer = people
    call = make_two_stage_call()
    loi = submitted_loi(call, lead, nonprofit)
    with pytest.raises(PermissionDenied, match="Only applicants invited"):
        loi_services.start_full_proposal(loi, owner=lead)
    declined = submitted_loi(call, other, nonprofit, title="Declined")
    loi_services.screen_loi(declined, officer=officer, outcome=LoiOutcome.DECLINE)
    _invite(call, loi, officer)
    assert declined.status is ApplicationStatus.DECLINED
    with pytest.raises(PermissionDenied, match="Only applicants invited"):
        loi_services.start_full_proposal(declined, owner=other)
    with pytest.raises(PermissionDenied, match="Only the lead"):
        loi_services.start_full_proposal(loi, owner=other)
    assert not can_start_full_proposal(other, loi) and can_start_full_proposal(lead, loi)
    assert db.session.scalar(select(db.func.count(Application.id)).where(
        Application.stage == ApplicationStage.FULL)) == 0


def test_full_proposal_submits_through_the_existing_checklist_until_the_full_deadline(people):
    from tests.applications.fixtures import complete_application

    lead, _, nonprofit, officer = people
    call = make_two_stage_call(min_partners=0, requires_partner_signoff=False)
    loi = submitted_loi(call, lead, nonprofit)
    _invite(call, loi, officer)
    proposal = loi_services.start_full_proposal(loi, owner=lead)
    for partner in list(proposal.partners):
        services.remove_partner(partner, editor=lead, expected_version=None)
    db.session.flush()
    complete_application(proposal, [nonprofit])
    services.submit_application(proposal, submitted_by=lead, expected_version=None)
    assert proposal.status is ApplicationStatus.SUBMITTED and proposal.reference_number.startswith("PG-")


def test_stage_funnel_counts_letters_invited_and_full_proposals(people):
    from grants.portfolio.queries import stage_funnel

    lead, other, nonprofit, officer = people
    call = make_two_stage_call()
    invited = submitted_loi(call, lead, nonprofit)
    declined = submitted_loi(call, other, nonprofit, title="Declined")
    prepare_loi(call, other, nonprofit, title="Still a draft")
    loi_services.screen_loi(declined, officer=officer, outcome=LoiOutcome.DECLINE)
    _invite(call, invited, officer)
    loi_services.start_full_proposal(invited, owner=lead)
    funnel = stage_funnel(call)
    assert (funnel.letters, funnel.invited, funnel.full_proposals, funnel.funded) == (2, 1, 0, 0)
    assert funnel.invited_percent == 50.0
    assert stage_funnel(make_call()) is None
