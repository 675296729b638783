"""The scoring pages: the reviewer's read-only application and documents, the review form
(drafts, submission, revision until close, stale saves), the other reviews, and the officers'
ranking, detail and CSV — with the conflict and visibility rules on every route."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role
from grants.accounts.models import UserRole
from grants.applications.enums import ApplicationStatus
from grants.audit.models import AuditEvent
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus, Confidence, Recommendation
from grants.reviews.models import Review, ReviewAssignment
from tests.applications.fixtures import PDF, make_applicant, make_call
from tests.conftest import fresh
from tests.reviews.fixtures import assign, make_in_review_application
from tests.reviews.scoring_factories import (
    counted_statements,
    light_application,
    review_settings,
    scored,
    submitted_review,
)


@pytest.fixture
def call():
    return make_call()


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical", email="owner@riverside.org")


@pytest.fixture
def partners(make_user, make_organisation):
    return [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name="Eastside Alliance"),
            make_applicant(make_user, make_organisation, kind=OrganisationKind.PUBLIC_HEALTH_AGENCY,
                           name="Lake County Health")]


@pytest.fixture
def application(call, lead, partners):
    return make_in_review_application(call, lead, partners, title="Trusted messengers for heart health")


@pytest.fixture
def university(make_organisation):
    return make_organisation("Northgate University")


@pytest.fixture
def reviewer(make_user, university):
    return make_user(Role.REVIEWER, organisation=university, full_name="Rita Quill", email="rita.quill@northgate.edu")


@pytest.fixture
def second_reviewer(make_user, university):
    return make_user(Role.REVIEWER, organisation=university, full_name="Sam Marlowe",
                     email="sam.marlowe@northgate.edu")


@pytest.fixture
def officer(make_user, make_organisation):
    return make_user(Role.PROGRAM_OFFICER, organisation=make_organisation("Funder", kind=OrganisationKind.OTHER))


@pytest.fixture
def assignment(application, reviewer):
    assignment = assign(application, reviewer)
    db.session.commit()
    return assignment


def _url(assignment, page: str) -> str:
    return f"/reviews/assignments/{assignment.id}/{page}"


def _form(call, weighted=None, *, action="save", version=0, **fields) -> dict:
    data = {"action": action, "version": str(version), "strengths": fields.get("strengths", "Deep roots."),
            "weaknesses": fields.get("weaknesses", "Thin evaluation."),
            "recommendation": fields.get("recommendation", Recommendation.FUND.value),
            "confidence": fields.get("confidence", Confidence.HIGH.value)}
    for criterion_id, score in (scored(call, weighted) if weighted is not None else fields.get("scores", {})).items():
        data[f"score_{criterion_id}"] = str(score)
    for criterion in call.criteria:
        data[f"comment_{criterion.id}"] = fields.get("comment", f"About {criterion.name}.")
    return data


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _document(application):
    return application.documents[0]


def _reviewer_urls(assignment):
    return [_url(assignment, "application"), _url(assignment, "review"), _url(assignment, "others"),
            _url(assignment, f"documents/{_document(assignment.application).id}")]


# --- reading the application ---------------------------------------------------------------

def test_the_reviewer_reads_the_application_and_its_documents(client, login, assignment, reviewer):
    login(reviewer)
    page = client.get(_url(assignment, "application")).get_data(as_text=True)
    assert "Trusted messengers for heart health" in page
    assert "We will meet monthly with residents" in page  # the answer
    assert "Eastside Alliance" in page and "$100,000" in page  # partners and budget
    document = _document(assignment.application)
    link = _url(assignment, f"documents/{document.id}")
    assert f'href="{link}"' in page
    response = client.get(link)
    assert response.status_code == 200 and response.get_data() == PDF
    response.close()
    [event] = _events("attachment.downloaded")
    assert event.details == {"application_id": assignment.application_id, "document_id": document.id,
                             "assignment_id": assignment.id}


def test_a_document_of_another_application_is_not_found_through_an_assignment(
        client, login, assignment, reviewer, call, lead, partners):
    other = make_in_review_application(call, lead, partners, title="Another application")
    db.session.commit()
    login(reviewer)
    assert client.get(_url(assignment, f"documents/{_document(other).id}")).status_code == 404
    assert client.get(_url(assignment, "documents/999999")).status_code == 404


# --- who may use the reviewer pages -----------------------------------------------------------

def test_someone_elses_assignment_is_not_found(client, login, assignment, second_reviewer, officer):
    assign(assignment.application, second_reviewer)
    db.session.commit()
    for user in (second_reviewer, officer):
        login(user)
        for url in _reviewer_urls(assignment):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Trusted messengers" not in response.get_data(as_text=True)
        assert client.post(_url(assignment, "review"), data=_form(assignment.call, 80)).status_code == 404
    assert fresh(assignment).review is None


def test_a_missing_assignment_is_not_found(client, login, reviewer):
    login(reviewer)
    assert client.get("/reviews/assignments/999999/review").status_code == 404


def test_a_conflicted_reviewer_is_refused_with_the_reason(client, login, application, partners):
    # A partner's staff member on the panel: conflicted automatically, even after attesting.
    partner_user = partners[0]
    partner_user.role_rows.append(UserRole(role=Role.REVIEWER))
    assignment = assign(application, partner_user)
    db.session.commit()
    login(partner_user)
    for url in _reviewer_urls(assignment):
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.get_data(as_text=True)
        assert "conflict of interest" in page
        assert "We will meet monthly" not in page
    assert client.post(_url(assignment, "review"), data=_form(application.call, 80)).status_code == 403
    assert fresh(assignment).review is None
    assert any(e.details.get("reason") == "conflicted or not attested" for e in _events("access.denied"))


def test_a_reviewer_who_has_not_attested_is_asked_to(client, login, application, reviewer):
    assignment = assign(application, reviewer, attested=False)
    db.session.commit()
    login(reviewer)
    for url in _reviewer_urls(assignment):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Confirm that you have no conflict of interest" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", [AssignmentStatus.CONFLICTED, AssignmentStatus.DECLINED])
def test_a_declared_conflict_or_declined_assignment_shows_nothing(client, login, application, reviewer, status):
    assignment = assign(application, reviewer, attested=False)
    assignment.status = status
    assignment.decline_reason = "Travelling."
    db.session.commit()
    login(reviewer)
    response = client.get(_url(assignment, "application"))
    assert response.status_code == 403
    assert "We will meet monthly" not in response.get_data(as_text=True)


# --- the review form --------------------------------------------------------------------------

def test_the_form_shows_each_criterion_on_its_scale_with_its_anchors(client, login, assignment, reviewer, call):
    call.criteria[0].anchors = "1 = not addressed; 3 = adequate; 5 = exemplary"
    db.session.commit()
    login(reviewer)
    page = client.get(_url(assignment, "review")).get_data(as_text=True)
    first = call.criteria[0]
    assert "Community engagement" in page and "(weight 60)" in page
    assert "1 = not addressed; 3 = adequate; 5 = exemplary" in page
    for value in range(1, 6):
        assert f'name="score_{first.id}" type="radio" value="{value}"' in page
    assert f'name="score_{first.id}" type="radio" value="6"' not in page
    assert "Save draft" in page and "Submit review" in page
    assert 'name="version" type="hidden" value="0"' in page


def test_a_draft_saves_then_submitting_with_a_missing_score_is_refused(client, login, assignment, reviewer, call):
    first, second = call.criteria
    login(reviewer)
    response = client.post(_url(assignment, "review"), data=_form(call, scores={first.id: 4}, comment="Careful."))
    assert response.status_code == 302
    review = fresh(assignment).review
    assert review.score_for(first.id).score == 4 and review.score_for(second.id).score is None
    assert fresh(assignment).status is AssignmentStatus.IN_PROGRESS

    response = client.post(_url(assignment, "review"), data=_form(
        call, scores={first.id: 5}, action="submit", version=review.version, strengths="Kept words."))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "not submitted" in page and "Feasibility" in page
    # The unscored criterion is marked where it is, not only in the message at the top.
    assert f'id="score_{second.id}-error"' in page and "Give Feasibility a score to submit the review." in page
    assert f'id="score_{first.id}-error"' not in page
    assert "Kept words." in page  # what was typed stays in the form
    assignment = fresh(assignment)
    assert assignment.status is AssignmentStatus.IN_PROGRESS and assignment.submitted_at is None
    assert assignment.review.score_for(first.id).score == 4 and assignment.review.strengths == "Deep roots."
    assert _events("review.submitted") == []


def test_submitting_a_complete_review(client, login, assignment, reviewer, call):
    login(reviewer)
    response = client.post(_url(assignment, "review"), data=_form(call, 80, action="submit"))
    assert response.status_code == 302
    assert fresh(assignment).status is AssignmentStatus.SUBMITTED
    page = client.get(_url(assignment, "review")).get_data(as_text=True)
    assert "Your review is submitted" in page
    assert "80.0" in page  # its weighted score
    assert "Submit revised review" in page and "Save draft" not in page


def test_a_submitted_review_is_revised_until_the_phase_closes_then_refused(client, login, assignment, reviewer,
                                                                             call):
    settings = review_settings(call, review_closes_at=utcnow() + timedelta(days=2))
    db.session.commit()
    login(reviewer)
    assert client.post(_url(assignment, "review"), data=_form(call, 80, action="submit")).status_code == 302
    version = fresh(assignment).review.version
    # Revising: the review stays submitted; the change is on the record.
    response = client.post(_url(assignment, "review"), data=_form(call, 60, action="submit", version=version))
    assert response.status_code == 302
    assignment = fresh(assignment)
    assert assignment.status is AssignmentStatus.SUBMITTED
    assert assignment.review.score_for(call.criteria[0].id).score == 3
    [event] = _events("review.revised")
    assert event.details["score: Community engagement"] == {"from": 5, "to": 3}

    settings.review_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(_url(assignment, "review")).get_data(as_text=True)
    assert "The review phase closed" in page and "Submit revised review" not in page
    assert 'name="action"' not in page
    response = client.post(_url(assignment, "review"), data=_form(call, 100, action="submit",
                                                                   version=assignment.review.version))
    assert response.status_code == 409
    assert "closed" in response.get_data(as_text=True)
    assert fresh(assignment).review.score_for(call.criteria[0].id).score == 3
    assert len(_events("review.revised")) == 1


def test_a_stale_save_is_refused_and_keeps_what_was_typed(client, login, assignment, reviewer, call):
    login(reviewer)
    # Two windows open on the empty form (version 0); the first saves.
    assert client.post(_url(assignment, "review"), data=_form(call, 50)).status_code == 302
    response = client.post(_url(assignment, "review"), data=_form(call, 90, strengths="My careful words."))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "saved this review after you opened this page" in page and "My careful words." in page
    assert fresh(assignment).review.strengths == "Deep roots."
    assert fresh(assignment).review.score_for(call.criteria[0].id).score == 3


def test_a_refused_csrf_token_keeps_what_was_typed(app, client, login, assignment, reviewer, call, monkeypatch):
    login(reviewer)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(_url(assignment, "review"), data={
        **_form(call, 80, strengths="Typed before lunch."), "csrf_token": "stale"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form had expired" in page and "Typed before lunch." in page
    assert f'<input checked class="form-check-input" id="score_{call.criteria[0].id}-4"' in page
    assert fresh(assignment).review is None


def test_a_score_off_the_scale_is_refused_by_the_form(client, login, assignment, reviewer, call):
    login(reviewer)
    response = client.post(_url(assignment, "review"), data=_form(call, scores={call.criteria[0].id: 9}))
    assert response.status_code == 400
    assert fresh(assignment).review is None


def test_the_review_form_is_read_only_once_the_application_is_decided(client, login, assignment, reviewer, call):
    from grants.applications.enums import ApplicationStatus

    assignment.application.status = ApplicationStatus.DECLINED
    db.session.commit()
    login(reviewer)
    page = client.get(_url(assignment, "review")).get_data(as_text=True)
    assert "can no longer be changed" in page and "Save draft" not in page
    assert client.post(_url(assignment, "review"), data=_form(call, 80)).status_code == 400
    assert fresh(assignment).review is None


# --- the other reviews ------------------------------------------------------------------------

def test_other_reviews_only_after_submitting_ones_own(client, login, assignment, reviewer, second_reviewer, call):
    submitted_review(assignment.application, second_reviewer, 40, comment="Second opinion on the rubric.")
    db.session.commit()
    login(reviewer)
    response = client.get(_url(assignment, "others"))
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "once you have submitted your own" in page and "Second opinion" not in page
    assert "Other reviews" not in client.get(_url(assignment, "review")).get_data(as_text=True)

    client.post(_url(assignment, "review"), data=_form(call, 80, action="submit"))
    page = client.get(_url(assignment, "others")).get_data(as_text=True)
    assert "Reviewer 1" in page and "Second opinion on the rubric." in page and "40.0" in page
    assert "Sam Marlowe" not in page and "sam.marlowe@northgate.edu" not in page


def test_other_reviews_stay_hidden_when_the_call_turns_them_off(client, login, assignment, reviewer,
                                                                second_reviewer, call):
    review_settings(call, show_other_reviews=False)
    submitted_review(assignment.application, second_reviewer, 40, comment="Second opinion.")
    db.session.commit()
    login(reviewer)
    client.post(_url(assignment, "review"), data=_form(call, 80, action="submit"))
    assert fresh(assignment).status is AssignmentStatus.SUBMITTED
    response = client.get(_url(assignment, "others"))
    assert response.status_code == 403 and "Second opinion." not in response.get_data(as_text=True)
    assert "Other reviews" not in client.get(_url(assignment, "review")).get_data(as_text=True)


def test_drafts_of_others_are_never_shown(client, login, assignment, reviewer, second_reviewer, call):
    submitted_review(assignment.application, second_reviewer, 40, comment="Unfinished thoughts.", submit=False)
    db.session.commit()
    login(reviewer)
    client.post(_url(assignment, "review"), data=_form(call, 80, action="submit"))
    page = client.get(_url(assignment, "others")).get_data(as_text=True)
    assert "Unfinished thoughts." not in page and "No other reviewer has submitted" in page


# --- applicants never see who reviewed ---------------------------------------------------------

def test_applicants_pages_never_name_the_reviewers(client, login, assignment, reviewer, second_reviewer, call,
                                                   lead):
    submitted_review(assignment.application, second_reviewer, 40)
    db.session.commit()
    login(reviewer)
    client.post(_url(assignment, "review"), data=_form(call, 80, action="submit"))
    client.post("/logout")
    login(lead)
    application_id = assignment.application_id
    for url in ("/applications", f"/applications/{application_id}", f"/applications/{application_id}/documents",
                f"/applications/{application_id}/collaborators", f"/applications/{application_id}/partners",
                f"/applications/{application_id}/budget"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        for secret in ("Rita Quill", "rita.quill@northgate.edu", "Sam Marlowe", "sam.marlowe@northgate.edu"):
            assert secret not in page, (url, secret)


# --- the officers' pages --------------------------------------------------------------------------

@pytest.fixture
def reviewed(assignment, reviewer, second_reviewer, call):
    """The application reviewed by both: Rita 80 (submitted through the service), Sam 40."""
    submitted_review(assignment.application, reviewer, 80, comment="=HYPERLINK(\"http://evil\")")
    submitted_review(assignment.application, second_reviewer, 40, recommendation=Recommendation.DO_NOT_FUND)
    db.session.commit()
    return assignment.application


def test_the_ranking_page(client, login, officer, call, reviewed):
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert reviewed.reference_number in page and reviewed.title in page and "Riverside Medical" in page
    assert "60.0" in page and "40.0" in page  # mean and spread of 80 and 40
    assert "Disagree" in page  # 40 > 25
    assert "Funding line" in page
    text = " ".join(page.split())
    assert "The application above the line requests $" in text and "The 1 application" not in text
    assert f'href="/manage/calls/{call.id}/ranking/{reviewed.id}"' in page
    assert "Rita Quill" not in page  # names only on the detail page
    assert client.get(f"/manage/calls/{call.id}/ranking?figure=median&sub_panel=Nope").status_code == 200
    assert client.get(f"/manage/calls/{call.id}/ranking?figure=bogus").status_code == 200


def test_the_ranking_detail_names_the_reviewers_for_officers(client, login, officer, call, reviewed):
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/ranking/{reviewed.id}").get_data(as_text=True)
    assert "Rita Quill" in page and "Sam Marlowe" in page
    assert "Do not fund" in page and "80.0" in page and "40.0" in page
    other = make_call(title="Elsewhere")
    db.session.commit()
    assert client.get(f"/manage/calls/{other.id}/ranking/{reviewed.id}").status_code == 404


def test_the_ranking_csv_has_one_row_per_review_and_criterion(client, login, officer, call, reviewed):
    login(officer)
    response = client.get(f"/manage/calls/{call.id}/ranking.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 4  # 2 reviews × 2 criteria
    assert [(r["Reviewer"], r["Criterion"], r["Score"], r["Review weighted score (0-100)"]) for r in rows] == [
        ("Rita Quill", "Community engagement", "5", "80.00"), ("Rita Quill", "Feasibility", "3", "80.00"),
        ("Sam Marlowe", "Community engagement", "3", "40.00"), ("Sam Marlowe", "Feasibility", "2", "40.00")]
    assert rows[0]["Reference"] == reviewed.reference_number and rows[0]["Weight"] == "60"
    assert rows[0]["Scale"] == "1–5" and rows[2]["Recommendation"] == "Do not fund"
    assert rows[0]["Review z-score"] == ""  # one review per reviewer: undefined
    assert rows[0]["Comment"] == "'=HYPERLINK(\"http://evil\")"  # not run as a formula
    [event] = _events("call.review_scores_exported")
    assert event.details["rows"] == 4


@pytest.mark.parametrize("page", ["ranking", "ranking.csv", "ranking/{application_id}"])
def test_officer_pages_are_refused_to_reviewers_and_applicants(client, login, call, reviewed, reviewer, lead, page):
    url = f"/manage/calls/{call.id}/" + page.format(application_id=reviewed.id)
    for user in (reviewer, lead):
        login(user)
        response = client.get(url)
        assert response.status_code == 403
        assert "Sam Marlowe" not in response.get_data(as_text=True)
        client.post("/logout")


@pytest.mark.parametrize("page", ["ranking", "ranking.csv"])
def test_officer_pages_run_as_many_queries_for_10_applications_as_for_3(client, login, officer, lead,
                                                                         make_user, university, page):
    reviewers = [make_user(Role.REVIEWER, organisation=university) for _ in range(3)]
    small, large = make_call(title="Small call"), make_call(title="Large call")
    for call, count in ((small, 3), (large, 10)):
        for number in range(count):
            application = light_application(call, lead, title=f"Application {number}")
            for reviewer, weighted in zip(reviewers, (40, 60, 80)):
                submitted_review(application, reviewer, weighted)
    db.session.commit()
    login(officer)
    urls = [f"/manage/calls/{call.id}/{page}" for call in (small, large)]
    client.get(urls[0])  # warm up caches that are not per page
    counts = []
    for url in urls:
        with counted_statements() as statements:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{counts[0]} queries for 3 applications, {counts[1]} for 10"


def test_reviews_submitted_through_the_form_show_in_the_ranking(client, login, assignment, reviewer, officer, call):
    login(reviewer)
    client.post(_url(assignment, "review"), data=_form(call, 70, action="submit"))
    client.post("/logout")
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert "70.0" in page
    assert db.session.scalar(select(ReviewAssignment.status).where(ReviewAssignment.id == assignment.id)) \
        is AssignmentStatus.SUBMITTED


def test_submitting_without_a_confidence_is_refused_and_marks_the_question(client, login, assignment, reviewer,
                                                                             call):
    login(reviewer)
    response = client.post(_url(assignment, "review"), data=_form(call, 80, action="submit", confidence=""))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "say how confident you are" in page
    assert 'id="confidence-error"' in page and "Say how confident you are to submit the review." in page
    assert fresh(assignment).status is AssignmentStatus.IN_PROGRESS
    # A draft may leave it open.
    assert client.post(_url(assignment, "review"), data=_form(call, 80, confidence="")).status_code == 302
    assert fresh(assignment).review.confidence is None


def test_the_ranking_shows_confidence_percentile_and_the_reserve_list(client, login, officer, call, reviewed, lead):
    db.session.commit()
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/ranking").get_data(as_text=True)
    assert "Weighted by confidence" in page and "Percentile" in page
    assert "2 medium" in page  # both reviews of the fixture are of medium confidence
    assert "What if the line were drawn elsewhere?" in page
    assert 'id="what-if-result"' not in page  # until the officer asks


def test_what_if_moves_the_line_without_deciding_anything(client, login, officer, call, reviewed):
    login(officer)
    page = client.get(f"/manage/calls/{call.id}/ranking?fund_top=1").get_data(as_text=True)
    assert 'id="what-if-result"' in page
    assert "Funding the top 1 application would take" in page
    text = " ".join(page.split())
    assert "Your line: the top application requests $" in text and "top 1 request" not in text
    assert "The funding line by the total funds is after the first." in text
    assert fresh(reviewed).status is ApplicationStatus.IN_REVIEW
    # A hand-typed or hostile value shows the page as if it were not there.
    for bad in ("-1", "abc", "1e9", "99999999", "1.5", "%EF%BC%91"):
        response = client.get(f"/manage/calls/{call.id}/ranking?fund_top={bad}&reserve={bad}")
        assert response.status_code == 200, bad
        assert 'id="what-if-result"' not in response.get_data(as_text=True), bad


def test_a_draft_with_blank_recommendation_and_confidence_saves_them_as_unanswered(
        client, login, assignment, reviewer, call):
    # "   " passed Optional() and then failed Recommendation("   "): a 500.
    login(reviewer)
    response = client.post(_url(assignment, "review"), data=_form(call, recommendation="   ", confidence=" "))
    assert response.status_code == 302
    review = db.session.scalars(select(Review).where(Review.assignment_id == assignment.id)).one()
    assert (review.recommendation, review.confidence) == (None, None)
