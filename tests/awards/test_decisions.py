"""Decisions: recording them (one, or a batch all or nothing) within the money rules, keeping
them internal, and releasing them with letters. Concurrency is in test_concurrency.py."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import Role
from grants.applications.enums import ApplicationStatus
from grants.audit.models import AuditEvent
from grants.awards import services
from grants.awards.enums import AwardStatus, DecisionOutcome
from grants.awards.models import Award, Decision
from grants.core.errors import DomainError, TransitionNotAllowed
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_application, make_call
from tests.awards.fixtures import make_awardable_application, make_decision, make_officer
from tests.conftest import fresh
from tests.reviews.scoring_factories import light_application, submitted_review

START, END = date(2031, 1, 1), date(2031, 12, 31)


@pytest.fixture
def officer(make_user, make_organisation):
    return make_officer(make_user, make_organisation, full_name="Olive Officer")


@pytest.fixture
def call():
    # Floor $50,000, ceiling $250,000, total funds $400,000.
    return make_call(total_cents=40_000_000)


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


def in_review(call, lead, title="Application", requested_cents=10_000_000):
    return light_application(call, lead, title=title, requested_cents=requested_cents)


def award(application, officer, amount_cents, **fields):
    return services.decide_application(application, officer=officer, outcome=DecisionOutcome.AWARD,
                                       amount_cents=amount_cents, start_on=fields.pop("start_on", START),
                                       end_on=fields.pop("end_on", END),
                                       rationale=fields.pop("rationale", "Ranked high."), **fields)


def decline(application, officer, rationale="Below the funding line."):
    return services.decide_application(application, officer=officer, outcome=DecisionOutcome.DECLINE,
                                       rationale=rationale)


def decisions_count() -> int:
    return db.session.scalar(select(func.count(Decision.id)))


def events(action: str) -> list[AuditEvent]:
    db.session.flush()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# --- recording ---------------------------------------------------------------------------------

def test_decide_application_records_an_internal_decision(call, lead, officer, outbox):
    application = in_review(call, lead)
    decision = award(application, officer, 12_000_000, terms="Quarterly reports.", include_review_comments=True)
    assert (decision.outcome, decision.amount_cents, decision.start_on, decision.end_on) == (
        DecisionOutcome.AWARD, 12_000_000, START, END)
    assert decision.terms == "Quarterly reports." and decision.decided_by_id == officer.id
    assert decision.released_at is None and decision.include_review_comments
    assert fresh(application).status is ApplicationStatus.IN_REVIEW
    assert outbox() == [] and db.session.scalar(select(func.count(Award.id))) == 0
    [event] = events("decision.recorded")
    assert event.details["amount_cents"] == 12_000_000 and event.details["outcome"] == "award"


def test_changing_an_unreleased_decision_updates_it_and_counts_its_amount_once(call, lead, officer):
    application = in_review(call, lead)
    award(application, officer, 25_000_000)
    other = in_review(call, lead)
    award(other, officer, 15_000_000)  # $400,000 committed: the whole total
    # Its own $250,000 is not counted twice.
    decision = award(application, officer, 20_000_000, rationale="Scope reduced.")
    assert decisions_count() == 2 and decision.amount_cents == 20_000_000
    assert services.committed_cents(call) == 35_000_000
    assert events("decision.recorded")[-1].details["before"]["amount_cents"] == 25_000_000


def test_a_decline_clears_the_award_fields_and_frees_the_funds(call, lead, officer):
    application = in_review(call, lead)
    award(application, officer, 25_000_000, terms="Terms")
    decision = decline(application, officer)
    assert (decision.amount_cents, decision.start_on, decision.end_on, decision.terms) == (None, None, None, "")
    assert services.committed_cents(call) == 0 and services.remaining_cents(call) == 40_000_000


@pytest.mark.parametrize("amount, message", [
    (25_000_001, "above the call's award ceiling of $250,000"),
    (4_999_999, "below the call's award floor of $50,000"),
    (0, "amount above zero"),
    (None, "amount above zero"),
])
def test_an_award_outside_the_floor_and_ceiling_is_refused(call, lead, officer, amount, message):
    application = in_review(call, lead)
    with pytest.raises(DomainError, match=re.escape(message)) as refused:
        award(application, officer, amount)
    assert "Nothing was changed" in refused.value.message
    assert decisions_count() == 0


def test_an_award_over_the_total_funds_is_refused(call, lead, officer):
    first, second = in_review(call, lead), in_review(call, lead)
    award(first, officer, 25_000_000)
    with pytest.raises(DomainError) as refused:
        award(second, officer, 15_000_001)
    assert refused.value.message == (
        f"$150,000.01 for {second.reference_number} would bring the call's awards to $400,000.01, over its total "
        "funds of $400,000 (still available: $150,000). Nothing was changed.")
    assert decisions_count() == 1
    award(second, officer, 15_000_000)  # exactly the total is fine
    assert services.remaining_cents(call) == 0


def test_released_awards_count_against_the_total_and_a_declined_offer_frees_its_money(call, lead, officer):
    first, second = in_review(call, lead), in_review(call, lead)
    award(first, officer, 25_000_000)
    services.release_decisions(call, officer=officer, confirm_early=True)
    with pytest.raises(DomainError, match="over its total funds"):
        award(second, officer, 20_000_000)
    offer = db.session.scalar(select(Award).where(Award.application_id == first.id))
    services.decline_award(offer, user=lead, reason="We could not staff the project.")
    award(second, officer, 20_000_000)
    assert services.committed_cents(call) == 20_000_000


@pytest.mark.parametrize("status", [ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN,
                                    ApplicationStatus.AWARDED, ApplicationStatus.DECLINED])
def test_only_an_application_in_review_is_decided(call, lead, officer, status):
    application = light_application(call, lead, status=status)
    with pytest.raises(TransitionNotAllowed, match="only an application in review can be decided"):
        award(application, officer, 10_000_000)
    with pytest.raises(TransitionNotAllowed):
        decline(application, officer)
    assert decisions_count() == 0


def test_a_decision_needs_a_rationale_and_an_award_a_period(call, lead, officer):
    application = in_review(call, lead)
    with pytest.raises(DomainError, match="Give the rationale"):
        decline(application, officer, rationale="  ")
    with pytest.raises(DomainError, match="start and end dates"):
        award(application, officer, 10_000_000, end_on=None)
    with pytest.raises(DomainError, match="must end after it starts"):
        award(application, officer, 10_000_000, end_on=START)
    assert decisions_count() == 0


# --- a batch ------------------------------------------------------------------------------------

def test_decide_many_declines_every_ticked_application(call, lead, officer):
    applications = [in_review(call, lead) for _ in range(3)]
    decisions = services.decide_many(applications, officer=officer, outcome=DecisionOutcome.DECLINE,
                                     rationale="Below the funding line.")
    assert [d.outcome for d in decisions] == [DecisionOutcome.DECLINE] * 3
    assert all(d.rationale == "Below the funding line." for d in decisions)


def test_a_batch_of_awards_gives_each_its_requested_amount(call, lead, officer):
    applications = [in_review(call, lead, requested_cents=amount) for amount in (10_000_000, 12_345_678)]
    decisions = services.decide_many(applications, officer=officer, outcome=DecisionOutcome.AWARD, start_on=START,
                                     end_on=END, terms="Standard terms", rationale="Above the line.")
    assert [d.amount_cents for d in decisions] == [10_000_000, 12_345_678]


def test_a_batch_is_all_or_nothing_and_names_the_application_that_broke_a_rule(client, login, call, lead, officer):
    fits = in_review(call, lead, requested_cents=20_000_000)
    too_big = in_review(call, lead, requested_cents=30_000_000)
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/decisions/bulk", data={
        "application_ids": [fits.id, too_big.id], "outcome": "award", "start_on": "2031-01-01",
        "end_on": "2031-12-31", "rationale": "Above the line."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (f"$300,000 for {too_big.reference_number} is above the call&#39;s award ceiling of $250,000. "
            "No decision of this batch was recorded.") in page
    assert decisions_count() == 0


# --- internal until released --------------------------------------------------------------------

def test_applicants_see_nothing_of_a_decision_until_it_is_released(client, login, make_user, make_organisation,
                                                                   officer):
    application = make_awardable_application(make_user, make_organisation)
    make_decision(application, officer, amount_cents=12_345_600, rationale="Secret internal reasoning.")
    db.session.commit()
    login(application.owner)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "In review" in page
    assert "Secret internal reasoning" not in page and "123,456" not in page
    assert "My awards" not in page
    mine = client.get("/awards").get_data(as_text=True)
    assert "No awards yet" in mine

    services.release_decisions(application.call, officer=officer, confirm_early=True)
    db.session.commit()
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "Awarded" in page and "My awards" in page
    assert "Secret internal reasoning" not in client.get("/awards").get_data(as_text=True)


# --- release ------------------------------------------------------------------------------------

def test_release_offers_the_awards_declines_the_others_and_sends_the_letters(
        make_user, make_organisation, call, officer, outbox):
    funded = make_awardable_application(make_user, make_organisation, call=call, title="Funded project")
    refused = make_awardable_application(make_user, make_organisation, call=call, title="Refused project")
    award(funded, officer, 12_000_000, terms="Quarterly reports.")
    decline(refused, officer)
    before = len(outbox())
    released = services.release_decisions(call, officer=officer, confirm_early=True)

    assert len(released) == 2 and all(d.released_at is not None for d in released)
    assert fresh(funded).status is ApplicationStatus.AWARDED and fresh(refused).status is ApplicationStatus.DECLINED
    offer = db.session.scalar(select(Award).where(Award.application_id == funded.id))
    assert (offer.status, offer.amount_cents, offer.start_on, offer.end_on, offer.terms) == (
        AwardStatus.OFFERED, 12_000_000, START, END, "Quarterly reports.")
    assert db.session.scalar(select(func.count(Award.id))) == 1

    letters = outbox()[before:]
    # The owner and both partner contacts (collaborators through their sign-off) of each.
    award_letters = [m for m in letters if m.kind == "decision_award"]
    decline_letters = [m for m in letters if m.kind == "decision_decline"]
    assert {m.recipient for m in award_letters} == {u.email for u in services.people_to_tell(funded)}
    assert len(award_letters) == 3 and len(decline_letters) == 3
    assert "$120,000" in award_letters[0].body and "Quarterly reports." in award_letters[0].body
    assert f"/awards/{offer.id}" in award_letters[0].body
    assert "will not be funded" in decline_letters[0].body
    assert "Below the funding line" not in decline_letters[0].body  # the rationale is internal
    assert {e.action for e in events("decision.released")} == {"decision.released"}
    assert len(events("award.offered")) == 1


def test_letters_quote_submitted_reviews_as_numbered_reviewers_never_by_name(
        make_user, make_organisation, call, lead, officer, outbox):
    application = in_review(call, lead)
    ada = make_user(Role.REVIEWER, full_name="Ada Academic", email="ada@northgate.example")
    cody = make_user(Role.REVIEWER, full_name="Cody Community", email="cody@westside.example")
    drafter = make_user(Role.REVIEWER, full_name="Dora Draft", email="dora@example.org")
    first = submitted_review(application, ada, 80)
    first.strengths, first.weaknesses = "Deep community roots.", "Evaluation plan is thin."
    second = submitted_review(application, cody, 60)
    second.strengths, second.weaknesses = "Clear budget.", ""
    draft = submitted_review(application, drafter, 40, submit=False)
    draft.strengths = "Unfinished draft thoughts."
    decline(application, officer)
    services.decide_application(application, officer=officer, outcome=DecisionOutcome.DECLINE,
                                rationale="Below the line.", include_review_comments=True)
    services.release_decisions(call, officer=officer, confirm_early=True)

    [letter] = outbox(kind="decision_decline")
    assert "Reviewer 1" in letter.body and "Reviewer 2" in letter.body and "Reviewer 3" not in letter.body
    assert "Deep community roots." in letter.body and "Evaluation plan is thin." in letter.body
    assert "Clear budget." in letter.body
    assert "Unfinished draft thoughts." not in letter.body
    for secret in ("Ada", "Academic", "Cody", "Dora", "northgate", "westside", "@example"):
        assert secret not in letter.body


def test_letters_leave_the_reviews_out_unless_the_decision_says_so(call, lead, officer, make_user, outbox):
    application = in_review(call, lead)
    review = submitted_review(application, make_user(Role.REVIEWER), 80)
    review.strengths = "Deep community roots."
    award(application, officer, 10_000_000)
    services.release_decisions(call, officer=officer, confirm_early=True)
    [letter] = outbox(kind="decision_award")
    assert "Deep community roots." not in letter.body and "Reviewer 1" not in letter.body


def test_releasing_twice_is_refused_and_changes_nothing(call, lead, officer, outbox):
    application = in_review(call, lead)
    award(application, officer, 10_000_000)
    services.release_decisions(call, officer=officer, confirm_early=True)
    sent = len(outbox())
    with pytest.raises(DomainError, match="No decision is waiting for release"):
        services.release_decisions(call, officer=officer, confirm_early=True)
    with pytest.raises(DomainError, match="No decision is waiting for release on"):
        services.release_decisions(call, officer=officer, application_ids=[application.id], confirm_early=True)
    assert len(outbox()) == sent and db.session.scalar(select(func.count(Award.id))) == 1


def test_a_released_decision_cannot_change(call, lead, officer):
    application = in_review(call, lead)
    award(application, officer, 10_000_000)
    services.release_decisions(call, officer=officer, confirm_early=True)
    with pytest.raises(TransitionNotAllowed):
        decline(application, officer)
    assert fresh(services.decision_for(application)).outcome is DecisionOutcome.AWARD


def test_release_of_the_ticked_only(call, lead, officer):
    first, second = in_review(call, lead), in_review(call, lead)
    decline(first, officer)
    decline(second, officer)
    services.release_decisions(call, officer=officer, application_ids=[second.id], confirm_early=True)
    assert fresh(first).status is ApplicationStatus.IN_REVIEW and fresh(second).status is ApplicationStatus.DECLINED


def test_release_all_is_refused_when_more_were_decided_since_the_page_was_shown(call, lead, officer):
    first, second = in_review(call, lead), in_review(call, lead)
    decline(first, officer)
    decline(second, officer)
    with pytest.raises(DomainError, match="2 decisions are waiting for release now, not 1"):
        services.release_decisions(call, officer=officer, expected_count=1, confirm_early=True)
    assert fresh(first).status is ApplicationStatus.IN_REVIEW


def test_release_is_refused_when_the_total_was_lowered_below_the_decisions(call, lead, officer):
    application = in_review(call, lead)
    award(application, officer, 25_000_000)
    call.award_ceiling_cents = call.total_funds_cents = 20_000_000  # edited after the decision
    with pytest.raises(DomainError, match="change a decision first"):
        services.release_decisions(call, officer=officer, confirm_early=True)
    assert fresh(application).status is ApplicationStatus.IN_REVIEW


def test_apportion_adds_up_exactly():
    assert services.apportion(10_000_001, [33, 33, 34]) == [3_300_000, 3_300_000, 3_400_001]
    assert services.apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert services.apportion(5, [0, 100]) == [0, 5]
    for total in (1, 7, 99_999, 12_345_678):
        assert sum(services.apportion(total, [17, 29, 54])) == total


# --- the officer's page -------------------------------------------------------------------------

def test_the_decisions_page_follows_the_ranking_with_the_funding_line_and_totals(
        client, login, call, lead, officer, make_user):
    reviewer = make_user(Role.REVIEWER)
    low = in_review(call, lead, title="Low scorer", requested_cents=20_000_000)
    high = in_review(call, lead, title="High scorer", requested_cents=25_000_000)
    middle = in_review(call, lead, title="Middle scorer", requested_cents=15_000_000)
    for application, score in ((low, 40), (high, 90), (middle, 70)):
        submitted_review(application, reviewer, score)
    award(high, officer, 25_000_000)
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/decisions").get_data(as_text=True)
    assert page.index("High scorer") < page.index("Middle scorer") < page.index("Funding line") < page.index(
        "Low scorer")
    assert '<dd class="col-sm-8" id="committed">$250,000</dd>' in page
    assert '<dd class="col-sm-8" id="remaining">$150,000</dd>' in page
    assert "Release 1 decision" in page and "Not released" in page


def test_an_officer_decides_through_the_page(client, login, call, lead, officer):
    application = in_review(call, lead)
    login(officer)
    prefix = f"d{application.id}-"
    response = client.post(f"/manage/applications/{application.id}/decision", data={
        prefix + "outcome": "award", prefix + "amount": "120,000", prefix + "start_on": "2031-01-01",
        prefix + "end_on": "2031-12-31", prefix + "terms": "Quarterly reports.", prefix + "rationale": "Ranked first."})
    assert response.status_code == 302
    decision = services.decision_for(application)
    assert decision.amount_cents == 12_000_000 and decision.rationale == "Ranked first."


def test_a_refused_decision_shows_the_message_and_keeps_what_was_typed(client, login, call, lead, officer):
    application = in_review(call, lead)
    login(officer)
    prefix = f"d{application.id}-"
    response = client.post(f"/manage/applications/{application.id}/decision", data={
        prefix + "outcome": "award", prefix + "amount": "300,000", prefix + "start_on": "2031-01-01",
        prefix + "end_on": "2031-12-31", prefix + "rationale": "My careful reasoning."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "above the call&#39;s award ceiling of $250,000. Nothing was changed." in page
    assert "My careful reasoning." in page and 'value="300,000"' in page
    assert decisions_count() == 0


def test_deciding_an_application_not_in_review_through_the_page_is_refused(client, login, call, lead, officer):
    application = light_application(call, lead, status=ApplicationStatus.SUBMITTED)
    login(officer)
    prefix = f"d{application.id}-"
    response = client.post(f"/manage/applications/{application.id}/decision", data={
        prefix + "outcome": "decline", prefix + "rationale": "No."})
    assert response.status_code == 409
    assert "only an application in review can be decided" in response.get_data(as_text=True)
    assert decisions_count() == 0


def test_an_officer_declines_in_bulk_then_releases(client, login, call, lead, officer, outbox):
    applications = [in_review(call, lead) for _ in range(2)]
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/decisions/bulk", data={
        "application_ids": [a.id for a in applications], "outcome": "decline", "rationale": "Below the line."})
    assert response.status_code == 302
    response = client.post(f"/manage/calls/{call.id}/decisions/release", data={"expected_count": "2"},
                           follow_redirects=True)
    assert "Release the decisions before the call and its review are over?" in response.get_data(as_text=True)
    response = client.post(f"/manage/calls/{call.id}/decisions/release",
                           data={"expected_count": "2", "confirm_early": "1"}, follow_redirects=True)
    assert "2 decisions released (0 awards, 2 declines)" in response.get_data(as_text=True)
    assert all(fresh(a).status is ApplicationStatus.DECLINED for a in applications)
    response = client.post(f"/manage/calls/{call.id}/decisions/release", data={"expected_count": "0"},
                           follow_redirects=True)
    assert "No decision is waiting for release" in response.get_data(as_text=True)


def test_the_call_page_links_to_its_decisions(client, login, officer):
    from tests.calls.factories import build_call

    call = build_call(officer, publish=True)
    db.session.commit()
    login(officer)
    assert f"/manage/calls/{call.id}/decisions" in client.get(f"/manage/calls/{call.id}").get_data(as_text=True)


def test_decision_pages_are_the_funders(client, login, call, lead, make_user):
    application = make_application(call, lead)  # a draft: private even to staff
    login(lead)
    assert client.get(f"/manage/calls/{call.id}/decisions").status_code == 403
    client.post("/logout")
    login(make_user(Role.PROGRAM_OFFICER))
    assert client.post(f"/manage/applications/{application.id}/decision").status_code == 404


def test_the_decisions_page_runs_the_same_queries_for_any_number_of_applications(
        client, login, call, lead, officer, make_user):
    from tests.reviews.scoring_factories import counted_statements

    reviewer = make_user(Role.REVIEWER)
    login(officer)
    counts = []
    for extra in (2, 6):
        for _ in range(extra):
            application = in_review(call, lead)
            submitted_review(application, reviewer, 70)
            decline(application, officer)
        db.session.commit()
        with counted_statements() as statements:
            response = client.get(f"/manage/calls/{call.id}/decisions")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{counts[0]} queries for 2 applications, {counts[1]} for 8"


# --- releasing early ---------------------------------------------------------------------------

def _closed_call(review_closes_in_days: int | None = None):
    """A call closed yesterday; with a review phase ending that many days from now."""
    from datetime import timedelta

    from grants.core.types import utcnow
    from grants.reviews.models import ReviewSettings

    call = make_call(opens_in_days=-40, closes_in_days=-1, total_cents=40_000_000)
    if review_closes_in_days is not None:
        closes_at = utcnow() + timedelta(days=review_closes_in_days)
        db.session.add(ReviewSettings(call_id=call.id, review_closes_at=closes_at))
        db.session.flush()
        db.session.expire(call)
    return call


def test_early_release_warnings_say_the_call_is_open(call):
    [warning] = services.early_release_warnings(call)
    assert warning.startswith("The call is still open: it closes ")


def test_early_release_warnings_say_the_review_phase_runs(lead):
    [warning] = services.early_release_warnings(_closed_call(review_closes_in_days=3))
    assert warning.startswith("The review phase has not ended: it closes ")


@pytest.mark.parametrize("review_closes_in_days", [None, -1])
def test_early_release_warnings_are_none_once_call_and_review_are_over(review_closes_in_days):
    assert services.early_release_warnings(_closed_call(review_closes_in_days)) == []


def test_release_decisions_while_the_call_is_open_needs_confirmation(call, lead, officer, outbox):
    application = in_review(call, lead)
    award(application, officer, 10_000_000)
    db.session.commit()

    with pytest.raises(services.EarlyReleaseNotConfirmed) as refusal:
        services.release_decisions(call, officer=officer)

    assert "The call is still open" in refusal.value.message
    db.session.rollback()
    assert fresh(application).status is ApplicationStatus.IN_REVIEW
    assert db.session.scalar(select(func.count(Award.id))) == 0
    assert not outbox(kind="decision_award")


def test_release_decisions_confirmed_early_is_recorded_as_early(call, lead, officer):
    application = in_review(call, lead)
    award(application, officer, 10_000_000)

    services.release_decisions(call, officer=officer, confirm_early=True)

    assert fresh(application).status is ApplicationStatus.AWARDED
    [event] = events("decision.released")
    assert event.details["released_early"][0].startswith("The call is still open")


def test_decisions_page_warns_before_an_early_release(client, login, call, lead, officer):
    award(in_review(call, lead), officer, 10_000_000)
    db.session.commit()
    login(officer)

    page = client.get(f"/manage/calls/{call.id}/decisions").get_data(as_text=True)

    assert "It is early to release." in page and "The call is still open" in page


def test_early_release_of_the_ticked_asks_to_confirm_then_releases(client, login, call, lead, officer, outbox):
    first, second = in_review(call, lead), in_review(call, lead)
    award(first, officer, 10_000_000)
    decline(second, officer)
    db.session.commit()
    login(officer)

    response = client.post(f"/manage/calls/{call.id}/decisions/release", data={"application_ids": [first.id]})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Release the decisions before the call and its review are over?" in page
    assert "The call is still open: it closes" in page
    assert f'<input type="hidden" name="application_ids" value="{first.id}">' in page
    assert '<input type="hidden" name="confirm_early" value="1">' in page and 'name="csrf_token"' in page
    assert fresh(first).status is ApplicationStatus.IN_REVIEW and not outbox(kind="decision_award")

    response = client.post(f"/manage/calls/{call.id}/decisions/release",
                           data={"application_ids": [first.id], "confirm_early": "1"}, follow_redirects=True)

    assert "1 decision released (1 award, 0 declines)" in response.get_data(as_text=True)
    assert fresh(first).status is ApplicationStatus.AWARDED
    assert fresh(second).status is ApplicationStatus.IN_REVIEW


def test_release_once_call_and_review_are_over_asks_nothing(client, login, lead, officer):
    call = _closed_call(review_closes_in_days=-1)
    application = in_review(call, lead)
    decline(application, officer)
    db.session.commit()
    login(officer)

    assert "It is early to release" not in client.get(f"/manage/calls/{call.id}/decisions").get_data(as_text=True)
    response = client.post(f"/manage/calls/{call.id}/decisions/release", data={"expected_count": "1"},
                           follow_redirects=True)

    assert "1 decision released (0 awards, 1 decline)" in response.get_data(as_text=True)
    assert fresh(application).status is ApplicationStatus.DECLINED
