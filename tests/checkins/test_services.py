"""Check-ins: who answers, answering and declining, the report's completeness, the trend's
flags, funds reaching partners, the portfolio's figures and follow-up notes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.audit.models import AuditEvent
from grants.reports import services as reporting
from grants.awards.enums import MilestoneStatus
from grants.checkins import services
from grants.checkins.enums import CheckInResponse
from grants.checkins.services import Answer, CheckInIncomplete
from grants.core.errors import DomainError, PermissionDenied, StaleEdit
from grants.extensions import db
from tests.reports.factories import officer_for, submit
from tests.checkins.factories import STATEMENTS, answer, check_in_award, people, subaward


@pytest.fixture
def award(make_user, make_organisation):
    return check_in_award(make_user, make_organisation)


@pytest.fixture
def officer(make_user, make_organisation):
    return officer_for(make_user, make_organisation)


def _events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_lead_and_each_partner_answer_for_their_own_organisation(award):
    lead, community, health = people(award)
    names = [voice.name for voice in services.voices(award)]
    assert names[0] == award.application.lead_organisation.name and len(names) == 3
    assert services.voice_of(lead, award).is_lead
    assert services.voice_of(community, award).organisation_id == award.application.partners[0].organisation_id
    assert services.voice_of(health, award).partner is award.application.partners[1]


def test_someone_not_on_the_team_answers_for_nobody(award, make_user, make_organisation):
    colleague = make_user(Role.APPLICANT, organisation=award.application.lead_organisation)  # not on the team
    outsider = make_user(Role.APPLICANT, organisation=make_organisation("Elsewhere",
                                                                         kind=OrganisationKind.COMMUNITY_NONPROFIT))
    for user in (colleague, outsider):
        assert services.voice_of(user, award) is None
        with pytest.raises(PermissionDenied):
            answer(award.milestones[0], user)
    assert services.check_ins_of(award.milestones[0]) == {}


def test_each_answer_counts_until_every_organisation_has_answered_or_declined(award):
    lead, community, health = people(award)
    milestone = award.milestones[0]
    assert len(services.still_to_answer(milestone)) == 3
    answer(milestone, lead, 5, 4, 4)
    answer(milestone, community, 2, 1, 3, comment="We hear about decisions after they are made.", funds_cents=500_000)
    assert [voice.name for voice in services.still_to_answer(milestone)] == [
        award.application.partners[1].organisation.name]
    services.decline_check_in(milestone, user=health)
    assert services.still_to_answer(milestone) == []
    check_ins = services.check_ins_of(milestone)
    community_check_in = check_ins[award.application.partners[0].organisation_id]
    assert [r.rating for r in community_check_in.ratings] == [2, 1, 3]
    assert community_check_in.funds_received_cents == 500_000
    assert check_ins[award.application.partners[1].organisation_id].response is CheckInResponse.DECLINED
    [event] = _events("check_in.declined")
    assert event.details["organisation"] == award.application.partners[1].organisation.name


def test_an_answer_missing_a_rating_is_refused_naming_the_statements(award):
    lead = people(award)[0]
    statements = services.statements(award)
    with pytest.raises(CheckInIncomplete) as refused:
        services.answer_check_in(award.milestones[0], user=lead,
                                 answer=Answer(ratings={statements[0].id: 4, statements[1].id: 9}))
    assert refused.value.unrated == [statements[1].id, statements[2].id]
    assert STATEMENTS[2] in refused.value.message and STATEMENTS[0] not in refused.value.message
    # Refused before anything was written (the view rolls back all the same).
    assert services.check_ins_of(award.milestones[0]) == {}


def test_only_a_partner_says_what_reached_it(award):
    lead, community, _ = people(award)
    with pytest.raises(DomainError, match="funds received"):
        answer(award.milestones[0], lead, funds_cents=100)
    with pytest.raises(DomainError, match="funds received"):
        answer(award.milestones[0], community, funds_cents=-1)


def test_a_comment_over_the_limit_is_refused(award):
    lead = people(award)[0]
    with pytest.raises(DomainError, match="at most"):
        answer(award.milestones[0], lead, comment="x" * (services.COMMENT_LIMIT + 1))


def test_a_changed_answer_replaces_the_earlier_one_and_declining_clears_it(award):
    lead = people(award)[0]
    milestone = award.milestones[0]
    first = answer(milestone, lead, 3, 3, 3)
    version = first.version
    again = services.answer_check_in(milestone, user=lead, expected_version=version, answer=Answer(
        ratings={s.id: 5 for s in services.statements(award)}))
    db.session.flush()
    assert again.id == first.id and [r.rating for r in again.ratings] == [5, 5, 5]
    declined = services.decline_check_in(milestone, user=lead, expected_version=again.version)
    db.session.flush()
    assert declined.ratings == [] and declined.response is CheckInResponse.DECLINED
    assert len(_events("check_in.answered")) == 2


def test_a_save_over_a_colleagues_newer_answer_is_refused(award):
    lead = people(award)[0]
    milestone = award.milestones[0]
    answer(milestone, lead)
    with pytest.raises(StaleEdit):
        # The form was opened before the colleague's answer (version 0: none yet).
        services.answer_check_in(milestone, user=lead, expected_version=0,
                                 answer=Answer(ratings={s.id: 1 for s in services.statements(award)}))


def test_the_report_is_accepted_only_once_every_organisation_has_answered_or_declined(award, officer):
    lead, community, health = people(award)
    milestone = award.milestones[0]
    submit(milestone, lead)
    answer(milestone, lead)
    with pytest.raises(DomainError, match="still waiting for") as refused:
        reporting.accept_report(milestone, officer=officer)
    assert award.application.partners[0].organisation.name in refused.value.message
    assert milestone.status is MilestoneStatus.SUBMITTED
    # A partner may check in after the report is submitted, while it waits for the decision.
    answer(milestone, community)
    services.decline_check_in(milestone, user=health)
    reporting.accept_report(milestone, officer=officer)
    assert milestone.status is MilestoneStatus.ACCEPTED


def test_the_check_in_closes_when_the_report_is_accepted(award, officer):
    lead, community, health = people(award)
    milestone = award.milestones[0]
    submit(milestone, lead)
    for user in (lead, community, health):
        answer(milestone, user)
    reporting.accept_report(milestone, officer=officer)
    assert not services.is_open(milestone)
    with pytest.raises(DomainError, match="closed"):
        answer(milestone, community, 1, 1, 1)


def test_a_call_without_statements_asks_no_check_in(make_user, make_organisation, officer):
    from tests.reports.factories import reporting_award

    award = reporting_award(make_user, make_organisation, signoff=False)
    milestone = award.milestones[0]
    assert services.still_to_answer(milestone) == []
    submit(milestone, award.application.owner)
    reporting.accept_report(milestone, officer=officer)
    with pytest.raises(DomainError, match="no partnership check-in"):
        answer(award.milestones[1], award.application.owner)


# --- what the staff see -------------------------------------------------------------------------

def _three_reports(award, officer, ratings_by_user):
    """Each milestone's check-ins answered (ratings_by_user: user → one rating per milestone,
    used for every statement) and the first two reports accepted."""
    for index, milestone in enumerate(award.milestones):
        for user, ratings in ratings_by_user.items():
            if ratings[index] is None:
                services.decline_check_in(milestone, user=user)
            else:
                answer(milestone, user, *(ratings[index],) * len(STATEMENTS))
        if index < 2:
            submit(milestone, award.application.owner)
            reporting.accept_report(milestone, officer=officer)


def test_the_trend_flags_low_and_falling_latest_answers(award, officer):
    lead, community, health = people(award)
    _three_reports(award, officer, {lead: (5, 5, 5), community: (4, 4, 3), health: (3, 2, None)})
    health_report = services.award_health(award)
    flags = {(flag.organisation, flag.reason) for flag in health_report.flags}
    community_name = award.application.partners[0].organisation.name
    health_name = award.application.partners[1].organisation.name
    # The community partner's latest (3) is lower than its one before (4); the health
    # department declined the last check-in, so its latest answer is the 2: low, and down.
    assert flags == {(community_name, "fell from 4 to 3"), (health_name, "rated 2 of 5, down from 3")}
    assert len(health_report.flags) == 2 * len(STATEMENTS)
    [_, community_row, health_row] = health_report.trends[0].rows
    assert [cell.rating for cell in community_row[1]] == [4, 4, 3]
    assert [cell.is_falling for cell in community_row[1]] == [False, False, True]
    assert [(cell.rating, cell.declined, cell.is_low) for cell in health_row[1]] == [
        (3, False, False), (2, False, True), (None, True, False)]


def test_funds_reaching_partners_against_their_budget(award, officer):
    lead, community, health = people(award)
    subaward(award, 0, 4_000_000)
    budgeted = {row.voice.name: row.budgeted_cents for row in services.award_health(award).funds}
    answer(award.milestones[0], community, funds_cents=1_000_000)
    answer(award.milestones[1], community, funds_cents=2_500_000)
    answer(award.milestones[0], health)  # says nothing of funds
    funds = {row.voice.name: row for row in services.award_health(award).funds}
    row = funds[award.application.partners[0].organisation.name]
    assert row.budgeted_cents == budgeted[row.voice.name] and row.budgeted_cents >= 4_000_000
    assert row.received_cents == 2_500_000 and row.as_of == award.milestones[1].name
    assert row.received_percent == pytest.approx(100 * 2_500_000 / row.budgeted_cents)
    assert funds[award.application.partners[1].organisation.name].received_cents is None


def test_the_portfolio_counts_each_organisations_latest_answer(award, officer, make_user, make_organisation):
    lead, community, health = people(award)
    _three_reports(award, officer, {lead: (5, 5, 4), community: (4, 4, 3), health: (3, 2, None)})
    other = check_in_award(make_user, make_organisation, call=award.call)
    other_lead, *_ = people(other)
    answer(other.milestones[0], other_lead, 5, 5, 5)
    answer(award.milestones[2], community, 3, 3, 3, funds_cents=3_000_000)
    portfolio = services.portfolio_health(call_id=award.call.id)
    first = portfolio.distributions[0]
    assert first.text == STATEMENTS[0]
    # award: lead 4, community 3, health 2 (latest answered); other award: lead 5.
    assert first.counts == {4: 1, 3: 1, 2: 1, 5: 1} and first.answers == 4
    assert first.mean == pytest.approx(3.5)
    assert [flagged.award_id for flagged in portfolio.flagged] == [award.id]
    # Community partners: the nonprofit said $30,000 reached it; the health department (a
    # public-health agency, also a community kind) said nothing, so it is not in "promised".
    assert portfolio.partners_reporting == 1 and portfolio.delivered_cents == 3_000_000
    assert portfolio.promised_cents > 0 and portfolio.partners_budgeted >= 1


def test_the_portfolio_runs_as_many_queries_for_many_awards_as_for_one(award, make_user, make_organisation):
    from tests.reports.factories import counted_statements

    answer(award.milestones[0], people(award)[0])
    with counted_statements() as one:
        services.portfolio_health()
    for _ in range(3):
        more = check_in_award(make_user, make_organisation, call=award.call)
        answer(more.milestones[0], people(more)[1], 1, 1, 1)
    with counted_statements() as many:
        portfolio = services.portfolio_health()
    assert len(portfolio.flagged) == 3
    assert len(one) <= len(many) <= len(one) + 1  # the flagged awards' names: one query once there are any


def test_a_follow_up_note_is_kept_and_audited(award, officer):
    with pytest.raises(DomainError, match="Write the follow-up"):
        services.add_follow_up(award, officer=officer, note="   ")
    note = services.add_follow_up(award, officer=officer, note="Called the lead about joint decisions.")
    assert services.follow_ups(award) == [note]
    [event] = _events("award.check_in_follow_up")
    assert event.details["note"] == "Called the lead about joint decisions."
