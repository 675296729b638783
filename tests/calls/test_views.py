"""The call pages as officers and the public use them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import Role
from grants.audit.models import AuditEvent
from grants.calls import services
from grants.calls.enums import CallStatus
from grants.calls.models import Call
from grants.core.types import utcnow
from grants.extensions import db
from tests.calls.factories import CHICAGO, chicago
from tests.conftest import fresh


def _page(response) -> str:
    return response.get_data(as_text=True)


def _call_form(call: Call, **overrides) -> dict:
    """What the edit form posts for ``call`` unchanged, plus ``overrides``."""
    opens, closes = call.local(call.opens_at), call.local(call.closes_at)
    data = {"version": call.version, "title": call.title, "summary": call.summary,
            "description": call.description, "eligibility": call.eligibility, "time_zone": call.time_zone,
            "opens_on": f"{opens:%Y-%m-%d}", "opens_time": f"{opens:%H:%M}",
            "closes_on": f"{closes:%Y-%m-%d}", "closes_time": f"{closes:%H:%M}",
            "award_floor": "50,000", "award_ceiling": "250,000", "total_funds": "1,000,000", "expected_awards": "4"}
    return {**data, **overrides}


# --- public pages -----------------------------------------------------------------------

def test_list_calls_shows_only_open_and_upcoming_published_calls(client, make_call, officer):
    now = utcnow()
    make_call(publish=True, title="Open call", closes_at=now + timedelta(days=12))
    make_call(publish=True, title="Upcoming call", opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=60))
    make_call(publish=True, title="Closed call", opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=2))
    make_call(title="Draft call")
    archived = make_call(publish=True, title="Archived call", opens_at=now - timedelta(days=60),
                         closes_at=now - timedelta(days=2))
    services.archive_call(archived, archived_by=officer)
    db.session.commit()
    page = _page(client.get("/calls"))
    assert "Open call" in page and "Upcoming call" in page
    assert "Closed call" not in page and "Draft call" not in page and "Archived call" not in page
    assert page.index("Open now") < page.index("Open call") < page.index("Opening soon") < page.index("Upcoming call")


def test_list_calls_shows_the_deadline_on_the_call_clocks_and_a_countdown(client, make_call):
    make_call(publish=True, title="Chicago call", opens_at=utcnow() - timedelta(days=1),
              closes_at=chicago(2031, 1, 15, 17))
    db.session.commit()
    page = _page(client.get("/calls"))
    assert "15 January 2031, 5:00 PM CST" in page
    assert re.search(r"Closes in \d+ days", page)


def test_call_detail_shows_the_whole_call_to_anyone(client, make_call):
    call = make_call(publish=True)
    db.session.commit()
    page = _page(client.get(f"/calls/{call.id}"))
    for text in ("Community Trust Partnerships", "Member institutions with partners.",
                 "The lead organisation must be a member institution.",
                 "At least 2 partner organisations, each a community nonprofit or public-health agency.",
                 "At least 40% of the requested budget must go to community partners",
                 "Every partner signs off", "Describe the community.", "Up to 500 words", "Letter of commitment",
                 "One from each partner", "Community need", "60%", "1 to 5", "Community members reached (people)",
                 "Launch", "30 days after the award starts", "60% of the award", "$50,000 to $250,000",
                 "Central Time (America/Chicago)"):
        assert text in page, text


@pytest.mark.parametrize("archive", [False, True], ids=["draft", "archived"])
def test_call_detail_hides_unpublished_calls_from_applicants_and_anonymous(app, client, login, make_call, make_user,
                                                                             officer, archive):
    call = make_call(title="Secret plans")
    if archive:
        services.archive_call(call, archived_by=officer)
    db.session.commit()
    anonymous = client.get(f"/calls/{call.id}")
    assert anonymous.status_code == 404 and "Secret plans" not in _page(anonymous)
    login(make_user(Role.APPLICANT))
    applicant = client.get(f"/calls/{call.id}")
    assert applicant.status_code == 404 and "Secret plans" not in _page(applicant)
    staff = app.test_client()
    login(officer, the_client=staff)
    page = _page(staff.get(f"/calls/{call.id}"))
    assert "Secret plans" in page and "only funder staff can see this page" in page


def test_call_detail_sanitises_the_description(client, make_call):
    call = make_call(publish=True, description=(
        "**Bold** and [a link](https://example.org).\n\n<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) <img src=x onerror=alert(2)> <a href=\"#\" onclick=\"steal()\">x</a>\n\n"
        "# A heading"))
    db.session.commit()
    page = _page(client.get(f"/calls/{call.id}"))
    assert "<strong>Bold</strong>" in page
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">a link</a>' in page
    assert "<script>alert" not in page and "javascript:" not in page
    assert "onerror" not in page and "onclick" not in page and "<img" not in page
    assert "<h3>A heading</h3>" in page  # below the page's own h1 and h2


# --- officers: creating and editing -----------------------------------------------------

def test_manage_calls_lists_calls_by_status(client, login, make_call, officer):
    make_call(title="A draft")
    make_call(publish=True, title="A published call")
    login(officer)
    page = _page(client.get("/manage/calls"))
    assert page.index("Drafts") < page.index("A draft") < page.index("Published") < page.index("A published call")
    assert "Ready to publish" in page


def test_new_call_saves_a_draft_with_instants_in_the_call_zone(client, login, officer):
    login(officer)
    response = client.post("/manage/calls/new", data={
        "title": "Spring call", "time_zone": CHICAGO, "opens_on": "2031-03-02", "opens_time": "09:00",
        "closes_on": "2031-04-15", "closes_time": "17:00", "award_floor": "$25,000", "award_ceiling": "75,000.50",
        "total_funds": "300000"})
    assert response.status_code == 302
    call = db.session.scalar(select(Call).where(Call.title == "Spring call"))
    assert call.status is CallStatus.DRAFT
    assert call.closes_at == chicago(2031, 4, 15, 17) and call.closes_at.hour == 22  # CDT by April
    assert (call.award_floor_cents, call.award_ceiling_cents, call.total_funds_cents) == (2_500_000, 7_500_050,
                                                                                          30_000_000)
    assert response.location == f"/manage/calls/{call.id}"


def test_new_call_keeps_what_was_typed_when_refused(client, login, officer):
    login(officer)
    response = client.post("/manage/calls/new", data={
        "title": "", "summary": "Typed summary", "time_zone": CHICAGO, "closes_on": "2031-04-15",
        "award_floor": "lots", "award_ceiling": "75,000"})
    page = _page(response)
    assert response.status_code == 400
    assert "Typed summary" in page and 'value="lots"' in page and 'value="2031-04-15"' in page
    assert "Enter an amount in dollars" in page and "Give both the date and the time, or neither." in page
    assert db.session.scalar(select(Call)) is None


def test_new_call_keeps_what_was_typed_when_the_csrf_token_is_refused(app, client, login, officer, monkeypatch):
    login(officer)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/manage/calls/new", data={"title": "Typed title", "summary": "Typed summary",
                                                      "csrf_token": "stale"})
    page = _page(response)
    assert response.status_code == 400
    assert "This form had expired" in page and 'value="Typed title"' in page and "Typed summary" in page
    assert db.session.scalar(select(Call)) is None


def test_new_call_refuses_a_time_the_clocks_skip(client, login, officer):
    login(officer)
    response = client.post("/manage/calls/new", data={
        "title": "Spring", "time_zone": CHICAGO, "opens_on": "2031-03-09", "opens_time": "02:30",
        "closes_on": "2031-04-15", "closes_time": "17:00"})
    assert response.status_code == 400
    assert "02:30 does not exist on 9 March 2031 in America/Chicago" in _page(response)


def test_edit_call_extends_the_deadline_of_a_published_call(client, login, make_call, officer):
    call = make_call(publish=True, closes_at=chicago(2031, 1, 15, 17))
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/edit", data=_call_form(call, closes_on="2031-01-29"),
                           follow_redirects=True)
    assert response.status_code == 200
    assert "The deadline is extended" in _page(response)
    assert fresh(call).closes_at == chicago(2031, 1, 29, 17)


def test_edit_call_refuses_to_shorten_a_published_deadline_and_keeps_the_form(client, login, make_call, officer):
    call = make_call(publish=True, closes_at=chicago(2031, 1, 15, 17))
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/edit",
                           data=_call_form(call, closes_on="2031-01-10", summary="A typed summary"))
    page = _page(response)
    assert response.status_code == 400
    # Said at the field it concerns, which is marked invalid.
    error = re.search(r'id="closes_on-error"[^>]*>([^<]*)<', page).group(1)
    assert "The closing date can only move later once the call is published" in error
    assert re.search(r'aria-describedby="closes_on-help closes_on-error" aria-invalid="true"[^>]*id="closes_on"', page)
    assert "A typed summary" in page and 'value="2031-01-10"' in page
    assert fresh(call).closes_at == chicago(2031, 1, 15, 17) and fresh(call).summary == "Money for partnerships."


def test_edit_call_of_an_open_call_leaves_out_what_cannot_change(client, login, make_call, officer):
    call = make_call(publish=True)
    login(officer)
    page = _page(client.get(f"/manage/calls/{call.id}/edit"))
    assert 'name="time_zone"' not in page and 'name="opens_on"' not in page and 'name="closes_on"' in page
    assert "the opening date of a call that has opened cannot change" in page


def test_edit_call_refuses_a_form_saved_over_someone_elses_change(client, login, make_call, officer):
    call = make_call()
    stale = _call_form(call, summary="My summary")
    services.update_call(call, changed_by=officer, summary="A colleague's summary")
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/edit", data=stale)
    page = _page(response)
    assert response.status_code == 409
    assert "Someone else saved changes to this call" in page and "My summary" in page
    assert fresh(call).summary == "A colleague's summary"
    # The form now carries the current version: saving again is a deliberate overwrite.
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert client.post(f"/manage/calls/{call.id}/edit", data={**stale, "version": version}).status_code == 302
    assert fresh(call).summary == "My summary"


def test_edit_rules_refuses_a_number_past_a_floats_range_with_the_range(client, login, make_call, officer):
    # 400 nines overflowed WTForms' NumberRange (its NaN check): a 500.
    call = make_call()
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/rules", data={
        "version": call.version, "lead_kinds": ["member_institution"], "min_partners": "9" * 400,
        "min_community_share_percent": "-" + "9" * 400})
    assert response.status_code == 400
    assert "Number must be between 0 and 50." in _page(response)
    assert "Number must be between 0 and 100." in _page(response)
    assert 'value="' + "9" * 400 + '"' in _page(response)


def test_edit_rules_of_a_published_call_refuses_tightening(client, login, make_call, officer):
    call = make_call(publish=True)
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/rules", data={
        "version": call.version, "lead_kinds": ["member_institution"],
        "partner_kinds": ["community_nonprofit", "public_health_agency"], "min_partners": "3",
        "min_community_share_percent": "40", "requires_partner_signoff": "y"})
    assert response.status_code == 400
    assert "The minimum number of partners can only go down" in _page(response)
    assert fresh(call).min_partners == 2


# --- officers: items, publishing, archiving ---------------------------------------------

def test_new_item_adds_a_criterion(client, login, make_call, officer):
    call = make_call()
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/criteria/new", data={
        "name": "Sustainability", "description": "What lasts", "weight": "10", "scale_min": "1", "scale_max": "5",
        "anchors": ""})
    assert response.status_code == 302 and response.location.endswith("#criteria")
    assert [c.name for c in fresh(call).criteria][-1] == "Sustainability"


def test_new_item_keeps_what_was_typed_when_refused(client, login, make_call, officer):
    call = make_call()
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/milestones/new", data={
        "name": "Typed milestone", "offset_days": "90", "payment_share_percent": "30"})
    page = _page(response)
    assert response.status_code == 400
    assert "would add up to 130%" in page and 'value="Typed milestone"' in page


def test_edit_item_posted_without_its_help_text_saves_it_empty(client, login, make_call, officer):
    # A post that leaves the field out (not empty: absent) once stored None: a 503 on NOT NULL.
    call = make_call()
    document = call.documents[0]
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/documents/{document.id}", data={
        "name": "Letter of support", "scope": document.scope.value, "is_required": "y"})
    assert response.status_code == 302
    assert (fresh(document).name, fresh(document).help_text) == ("Letter of support", "")


def test_unknown_section_is_404(client, login, make_call, officer):
    call = make_call()
    login(officer)
    assert client.get(f"/manage/calls/{call.id}/budgets/new").status_code == 404


def test_item_of_another_call_is_404(client, login, make_call, officer):
    call, other = make_call(), make_call(title="Other")
    login(officer)
    assert client.get(f"/manage/calls/{call.id}/questions/{other.questions[0].id}").status_code == 404


def test_remove_item_of_a_published_call_is_refused_with_the_reason(client, login, make_call, officer):
    call = make_call(publish=True)
    question = call.questions[0]
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/questions/{question.id}/remove", follow_redirects=True)
    assert "Questions cannot be removed once the call is published" in _page(response)
    assert fresh(question) is not None


def test_move_item_moves_a_question_down(client, login, make_call, officer):
    call = make_call()
    first = call.questions[0]
    login(officer)
    client.post(f"/manage/calls/{call.id}/questions/{first.id}/move", data={"direction": "down"})
    assert fresh(call).questions[1].id == first.id


def test_publish_refuses_an_incomplete_call_and_the_page_lists_what_is_missing(client, login, officer):
    call = services.create_call(created_by=officer, title="Half written")
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/publish", follow_redirects=True)
    page = _page(response)
    assert "Not published:" in page and "Before you can publish" in page
    assert "Add at least one narrative question." in page
    assert fresh(call).status is CallStatus.DRAFT


def test_publish_puts_the_call_on_the_public_list(client, login, make_call, officer):
    call = make_call(title="Ready call")
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/publish", follow_redirects=True)
    assert "The call is published" in _page(response)
    assert fresh(call).status is CallStatus.PUBLISHED
    assert "Ready call" in _page(client.get("/calls"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.published")).actor_id == officer.id


def test_archive_refuses_an_open_call(client, login, make_call, officer):
    call = make_call(publish=True)
    login(officer)
    response = client.post(f"/manage/calls/{call.id}/archive", follow_redirects=True)
    assert "applicants are working on it" in _page(response)
    assert fresh(call).status is CallStatus.PUBLISHED


def test_preview_renders_the_public_page_of_a_draft(client, login, make_call, officer):
    call = make_call(title="Preview me")
    login(officer)
    page = _page(client.get(f"/manage/calls/{call.id}/preview"))
    assert "Preview." in page and "still a draft" in page
    for text in ("Application questions", "Documents to attach", "How applications are scored",
                 "What funded projects report", "Milestones and payments", "Partnership requirements"):
        assert text in page


def test_navigation_offers_funding_calls_to_everyone_and_managing_them_to_officers(client, login, make_user,
                                                                                    officer):
    anonymous = _page(client.get("/"))
    assert "Funding calls" in anonymous and "Manage calls" not in anonymous
    login(make_user(Role.APPLICANT))
    assert "Manage calls" not in _page(client.get("/"))
    client.post("/logout")
    login(officer)
    assert "Manage calls" in _page(client.get("/"))
