"""Review pages: the officer's settings, panel and assignments; the reviewer's list,
assignment page and invitation. A reviewer conflicted automatically never gets near the
application; others see only who applies until they attest."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import Role
from grants.audit.models import AuditEvent
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus, PanelMemberStatus
from grants.reviews.models import PanelMember, ReviewAssignment, ReviewSettings
from tests.conftest import fresh
from tests.reviews.fixtures import assign, build_review_world

DUE = date.today() + timedelta(days=14)
# Words only the application's content holds (summary, answer, budget): never shown before attesting.
CONTENT = ("co-design outreach", "meet monthly with residents", "Project coordinator")


@pytest.fixture
def world(make_user, make_organisation):
    world = build_review_world(make_user, make_organisation)
    db.session.commit()
    return world


def member_of(world, user) -> PanelMember:
    return db.session.scalar(select(PanelMember).where(PanelMember.call_id == world.call.id,
                                                       PanelMember.user_id == user.id))


def assignment_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ReviewAssignment))


def text(response) -> str:
    return response.get_data(as_text=True)


def shows_no_content(response) -> bool:
    body = text(response)
    return not any(words in body for words in CONTENT)


# --- settings and panel ---------------------------------------------------------------------

def test_officer_saves_review_settings_in_the_calls_time_zone(client, login, world):
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/review", data={
        "review_closes_on": "2031-01-15", "review_closes_time": "17:00", "reviewers_per_application": "2",
        "default_workload_cap": "6", "disagreement_threshold": "20", "show_other_reviews": ""})

    assert response.status_code == 302
    settings = db.session.get(ReviewSettings, world.call.id)
    # 5 PM in Chicago (CST, UTC−6) is 11 PM UTC.
    assert settings.review_closes_at == datetime(2031, 1, 15, 23, 0, tzinfo=timezone.utc)
    assert (settings.reviewers_per_application, settings.default_workload_cap, settings.disagreement_threshold,
            settings.show_other_reviews) == (2, 6, 20, False)
    page = text(client.get(f"/manage/calls/{world.call.id}/review"))
    assert 'value="2031-01-15"' in page and 'value="17:00"' in page


def test_review_settings_need_both_date_and_time(client, login, world):
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/review", data={
        "review_closes_on": "2031-01-15", "reviewers_per_application": "3", "default_workload_cap": "8",
        "disagreement_threshold": "25"})

    assert response.status_code == 400
    assert "Give both the date and the time, or neither." in text(response)
    assert db.session.get(ReviewSettings, world.call.id) is None


def test_panel_page_lists_members_with_sub_panels_caps_and_loads(client, login, world):
    assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.officer)

    page = text(client.get(f"/manage/calls/{world.call.id}/review"))

    assert "Ada Academic" in page and "Cody Community" in page
    assert 'value="Academic"' in page and 'value="Community"' in page
    assert "1 of 8" in page and "0 of 8" in page


def test_invitation_round_trip_through_the_pages(client, login, world, make_user, outbox):
    invitee = make_user(Role.APPLICANT, email="rita@example.org", full_name="Rita Reviewer")
    login(world.officer)
    response = client.post(f"/manage/calls/{world.call.id}/review/invite",
                           data={"email": "rita@example.org", "sub_panel": "Community", "workload_cap": "3"})
    assert response.status_code == 302
    client.post("/logout")
    token = re.search(r"/panel-invitations/(\S+)", outbox(kind="panel_invitation")[0].body).group(1)

    login(invitee)
    page = client.get(f"/panel-invitations/{token}")
    assert page.status_code == 200 and world.call.title in text(page)
    response = client.post(f"/panel-invitations/{token}", data={"answer": "accept"})

    assert response.status_code == 302 and response.location.endswith("/reviews")
    member = db.session.scalar(select(PanelMember).where(PanelMember.email == "rita@example.org"))
    assert member.status is PanelMemberStatus.ACTIVE and member.user_id == invitee.id
    assert Role.REVIEWER in fresh(invitee).roles
    assert "My reviews" in text(client.get("/reviews"))
    # The link works once.
    assert client.get(f"/panel-invitations/{token}").status_code == 404


def test_invitation_opened_by_another_account_is_refused_without_details(client, login, world, make_user, outbox):
    db.session.commit()
    login(world.officer)
    client.post(f"/manage/calls/{world.call.id}/review/invite", data={"email": "rita@example.org"})
    client.post("/logout")
    token = re.search(r"/panel-invitations/(\S+)", outbox(kind="panel_invitation")[0].body).group(1)
    intruder = make_user(email="someone@example.org")

    login(intruder)
    page = client.get(f"/panel-invitations/{token}")
    response = client.post(f"/panel-invitations/{token}", data={"answer": "accept"})

    assert page.status_code == 403 and response.status_code == 403
    assert "This invitation is for rita@example.org" in text(response)
    assert world.call.title not in text(page)
    assert Role.REVIEWER not in fresh(intruder).roles
    assert fresh(db.session.scalar(select(PanelMember).where(PanelMember.email == "rita@example.org"))).status \
        is PanelMemberStatus.INVITED


def test_invite_refusal_keeps_what_was_typed(client, login, world):
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/review/invite",
                           data={"email": world.academic.email, "sub_panel": "Clinical"})

    assert response.status_code == 400
    assert "is already on this call&#39;s panel" in text(response)
    assert 'value="Clinical"' in text(response)


def test_remove_refused_with_open_assignments_says_why(client, login, world):
    assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.officer)

    response = client.post(f"/manage/panel-members/{member_of(world, world.academic).id}/remove",
                           follow_redirects=True)

    assert "still has 1 open assignment" in text(response)
    assert fresh(member_of(world, world.academic)).status is PanelMemberStatus.ACTIVE


# --- assignments --------------------------------------------------------------------------

@pytest.mark.parametrize("who, reason", [
    ("lead organisation", "works at the lead organisation, Riverside Medical"),
    ("partner organisation", "works at a partner organisation, Eastside Alliance"),
    ("collaborator", "works on the application"),
])
def test_manual_assignment_of_a_conflicted_reviewer_is_refused_with_the_reason(client, login, world, who, reason):
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/assignments/manual", data={
        "application_id": world.application.id, "member_id": member_of(world, world.conflicted[who]).id,
        "due_on": DUE.isoformat()})

    assert response.status_code == 400
    assert reason in text(response)
    assert assignment_count() == 0


def test_manual_assignment(client, login, world, outbox):
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/assignments/manual", data={
        "application_id": world.application.id, "member_id": member_of(world, world.academic).id,
        "due_on": DUE.isoformat()})

    assert response.status_code == 302
    [assignment] = db.session.scalars(select(ReviewAssignment)).all()
    assert (assignment.reviewer_id, assignment.due_on) == (world.academic.id, DUE)
    page = text(client.get(f"/manage/calls/{world.call.id}/assignments"))
    assert "Ada Academic" in page and "Assigned" in page
    assert outbox(kind="review_assigned")


def test_proposal_grid_marks_conflicts_and_ticks_the_proposal(client, login, world):
    login(world.officer)

    page = text(client.get(f"/manage/calls/{world.call.id}/assignments?propose=1&per_application=3&mix=1"))

    app_id = world.application.id
    for reviewer in (world.academic, world.community):
        value = f"{app_id}-{member_of(world, reviewer).id}"
        assert re.search(rf'value="{value}"[^>]*checked', page)
    for reviewer in world.conflicted.values():
        assert f'value="{app_id}-{member_of(world, reviewer).id}"' not in page
    assert page.count(">Conflict<") == 3
    assert "2 of 3 reviewers: of 5 panel members, 3 conflicted." in page
    assert assignment_count() == 0  # proposing saves nothing


def test_confirming_a_proposal_creates_the_ticked_assignments(client, login, world, outbox):
    login(world.officer)
    app_id = world.application.id

    response = client.post(f"/manage/calls/{world.call.id}/assignments/confirm", data={
        "pairs": [f"{app_id}-{member_of(world, world.academic).id}"], "due_on": DUE.isoformat(),
        "per_application": "3", "mix_sub_panels": ""})

    assert response.status_code == 302
    assert [a.reviewer_id for a in db.session.scalars(select(ReviewAssignment))] == [world.academic.id]
    assert [m.recipient for m in outbox(kind="review_assigned")] == [world.academic.email]


def test_confirming_a_tampered_proposal_with_a_conflicted_pair_assigns_nothing(client, login, world, outbox):
    login(world.officer)
    app_id = world.application.id

    response = client.post(f"/manage/calls/{world.call.id}/assignments/confirm", data={
        "pairs": [f"{app_id}-{member_of(world, world.academic).id}",
                  f"{app_id}-{member_of(world, world.partner_colleague).id}"],
        "due_on": DUE.isoformat(), "per_application": "3"})

    assert response.status_code == 400
    assert "Nothing was assigned." in text(response) and "Eastside Alliance" in text(response)
    assert assignment_count() == 0 and outbox(kind="review_assigned") == []
    # The officer's ticks are kept.
    assert re.search(rf'value="{app_id}-{member_of(world, world.academic).id}"[^>]*checked', text(response))


def test_waiver_requires_a_reason(client, login, world):
    assignment = assign(world.application, world.academic, attested=False)
    assignment.status, assignment.conflict_reason = AssignmentStatus.CONFLICTED, "Former student."
    assignment.conflict_declared_at = assignment.conflicted_at = datetime.now(timezone.utc)
    db.session.commit()
    login(world.officer)
    page = text(client.get(f"/manage/calls/{world.call.id}/assignments"))
    assert "Former student." in page and "Waive the conflict" in page

    response = client.post(f"/manage/assignments/{assignment.id}/waive", data={"waiver_reason": "  "})

    assert response.status_code == 400
    assert "Give the reason for waiving this conflict." in text(response)
    assert fresh(assignment).status is AssignmentStatus.CONFLICTED

    response = client.post(f"/manage/assignments/{assignment.id}/waive", data={"waiver_reason": "Long ago."})

    assert response.status_code == 302
    assert fresh(assignment).status is AssignmentStatus.ASSIGNED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.conflict_waived"))
    assert event.actor_id == world.officer.id and event.details["reason"] == "Long ago."


def test_an_automatic_conflict_offers_no_waiver(client, login, world):
    assignment = assign(world.application, world.lead_colleague, attested=False)
    assignment.status, assignment.conflict_reason = AssignmentStatus.CONFLICTED, "My own institution."
    db.session.commit()
    login(world.officer)

    page = text(client.get(f"/manage/calls/{world.call.id}/assignments"))

    assert "This cannot be waived" in page
    assert f"/manage/assignments/{assignment.id}/waive" not in page


# --- the reviewer ---------------------------------------------------------------------------

def test_my_reviews_lists_my_assignments_only(client, login, world):
    mine = assign(world.application, world.academic, attested=False)
    assign(world.application, world.community, attested=False)
    db.session.commit()
    login(world.academic)

    page = text(client.get("/reviews"))

    assert f"/reviews/assignments/{mine.id}" in page
    assert world.application.reference_number in page
    assert page.count("/reviews/assignments/") == 1


def test_before_attesting_the_reviewer_sees_who_applies_and_nothing_more(client, login, world):
    assignment = assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.academic)

    response = client.get(f"/reviews/assignments/{assignment.id}")

    page = text(response)
    assert response.status_code == 200
    for shown in (world.application.title, world.application.reference_number, "Riverside Medical",
                  "Eastside Alliance", "Lake County Health", "I have no conflict of interest"):
        assert shown in page
    assert shows_no_content(response)
    # The application's own pages stay closed until the reviewer attests.
    for rule in reviewer_rules(client.application):
        if rule.rule == "/reviews/assignments/<int:assignment_id>" or "GET" not in rule.methods:
            continue
        answer = client.get(reviewer_url(rule, assignment))
        assert answer.status_code in (403, 404), rule.rule
        assert shows_no_content(answer), rule.rule


def test_attesting_opens_the_application(client, login, world):
    assignment = assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.academic)

    response = client.post(f"/reviews/assignments/{assignment.id}/attest")

    assert response.status_code == 302
    assert fresh(assignment).status is AssignmentStatus.IN_PROGRESS
    page = text(client.get(f"/reviews/assignments/{assignment.id}"))
    assert "You attested that you have no conflict" in page
    if "reviews.read_application" in client.application.view_functions:
        assert f"/reviews/assignments/{assignment.id}/application" in page
        assert client.get(f"/reviews/assignments/{assignment.id}/application").status_code == 200


@pytest.mark.parametrize("path, field, message", [
    ("declare-conflict", "conflict_reason", "Say what the conflict is."),
    ("decline", "decline_reason", "Give a reason for declining."),
])
def test_declaring_or_declining_without_a_reason_is_refused(client, login, world, path, field, message):
    assignment = assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.academic)

    response = client.post(f"/reviews/assignments/{assignment.id}/{path}", data={field: " "})

    assert response.status_code == 400 and message in text(response)
    assert fresh(assignment).status is AssignmentStatus.ASSIGNED


def test_declaring_a_conflict(client, login, world):
    assignment = assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.academic)

    client.post(f"/reviews/assignments/{assignment.id}/declare-conflict",
                data={"conflict_reason": "My spouse works at Eastside Alliance."})

    assignment = fresh(assignment)
    assert assignment.status is AssignmentStatus.CONFLICTED
    assert assignment.conflict_reason == "My spouse works at Eastside Alliance."
    page = text(client.get(f"/reviews/assignments/{assignment.id}"))
    assert "You declared a conflict" in page and shows_no_content(client.get(f"/reviews/assignments/{assignment.id}"))


def test_declining_an_assignment(client, login, world):
    assignment = assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.academic)

    response = client.post(f"/reviews/assignments/{assignment.id}/decline", data={"decline_reason": "Away."})

    assert response.status_code == 302
    assert (fresh(assignment).status, fresh(assignment).decline_reason) == (AssignmentStatus.DECLINED, "Away.")


def test_another_reviewers_assignment_does_not_exist_for_me(client, login, world):
    assignment = assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.community)

    for rule in reviewer_rules(client.application):
        response = client.open(reviewer_url(rule, assignment), method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))
        assert response.status_code == 404, rule.rule
    assert fresh(assignment).status is AssignmentStatus.ASSIGNED


# --- a reviewer conflicted automatically: never anywhere near the application ----------------

def reviewer_rules(app):
    """Every reviewer URL of one assignment, the scoring pages included."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("reviews.")
            and rule.rule.startswith("/reviews/assignments/<int:assignment_id>")]


def reviewer_url(rule, assignment) -> str:
    values = {"assignment_id": assignment.id}
    for argument in rule.arguments - {"assignment_id"}:
        values[argument] = assignment.application.documents[0].id if "document" in argument else 1
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:int:)?{name}>", str(value), path)
    return path


@pytest.mark.parametrize("who", ["lead organisation", "partner organisation", "collaborator"])
@pytest.mark.parametrize("attested", [False, True])
def test_a_reviewer_conflicted_automatically_can_never_open_the_application(client, login, world, who, attested):
    # Such an assignment is refused when made; here one exists anyway (say, the reviewer moved
    # organisation afterwards), and every page still refuses, whatever its status.
    reviewer = world.conflicted[who]
    assignment = assign(world.application, reviewer, attested=attested)
    db.session.commit()
    login(reviewer)

    rules = reviewer_rules(client.application)
    assert len(rules) >= 4
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(reviewer_url(rule, assignment), method=method,
                                   data={"conflict_reason": "x", "decline_reason": "x"})
            assert response.status_code in (403, 404), f"{method} {rule.rule}: {response.status_code}"
            assert shows_no_content(response), rule.rule
    assert fresh(assignment).status is (AssignmentStatus.IN_PROGRESS if attested else AssignmentStatus.ASSIGNED)
    # Nor is it listed among their reviews.
    assert f"/reviews/assignments/{assignment.id}" not in text(client.get("/reviews"))


# --- the panel invitation listed on the invited person's home page ---------------------------

def test_panel_invitation_is_listed_on_the_home_page_and_answered_there(client, login, world, make_user):
    invitee = make_user(Role.APPLICANT, email="rita@example.org", full_name="Rita Reviewer")
    login(world.officer)
    assert client.post(f"/manage/calls/{world.call.id}/review/invite",
                       data={"email": "rita@example.org"}).status_code == 302
    member = db.session.scalar(select(PanelMember).where(PanelMember.email == "rita@example.org"))

    client.post("/logout")
    login(invitee)
    home = text(client.get("/"))
    assert "Waiting for you" in home and f"Invitation to review for the call “{world.call.title}”" in home
    assert f'href="/my/panel-invitations/{member.id}"' in client.get("/").get_data(as_text=True)
    page = client.get(f"/my/panel-invitations/{member.id}")
    assert page.status_code == 200 and "Join the panel" in text(page)
    response = client.post(f"/my/panel-invitations/{member.id}", data={"answer": "accept"})

    assert response.status_code == 302 and response.location.endswith("/reviews")
    assert fresh(member).status is PanelMemberStatus.ACTIVE and member.user_id == invitee.id
    assert Role.REVIEWER in fresh(invitee).roles
    assert "Waiting for you" not in text(client.get("/"))
    assert client.get(f"/my/panel-invitations/{member.id}").status_code == 404


def test_panel_invitation_declined_from_the_home_page(client, login, world, make_user):
    invitee = make_user(Role.APPLICANT, email="rita@example.org")
    login(world.officer)
    client.post(f"/manage/calls/{world.call.id}/review/invite", data={"email": "rita@example.org"})
    member = db.session.scalar(select(PanelMember).where(PanelMember.email == "rita@example.org"))

    client.post("/logout")
    login(invitee)
    response = client.post(f"/my/panel-invitations/{member.id}", data={"answer": "decline"})
    assert response.status_code == 302
    assert fresh(member).status is PanelMemberStatus.DECLINED and Role.REVIEWER not in fresh(invitee).roles


def test_panel_invitation_of_someone_else_is_not_found_and_changes_nothing(client, login, world, make_user):
    intruder = make_user(email="someone@example.org")
    login(world.officer)
    client.post(f"/manage/calls/{world.call.id}/review/invite", data={"email": "rita@example.org"})
    member = db.session.scalar(select(PanelMember).where(PanelMember.email == "rita@example.org"))

    client.post("/logout")
    login(intruder)
    assert world.call.title not in text(client.get("/"))
    assert client.get(f"/my/panel-invitations/{member.id}").status_code == 404
    assert client.post(f"/my/panel-invitations/{member.id}", data={"answer": "accept"}).status_code == 404
    assert fresh(member).status is PanelMemberStatus.INVITED and Role.REVIEWER not in fresh(intruder).roles


# --- inviting from the pool of existing reviewers ---------------------------------------------

def other_call_applications(world, how_many: int) -> list:
    """Applications of another call: assignments on them load a reviewer without putting
    them on this call's panel."""
    from tests.applications.fixtures import make_call
    from tests.reviews.scoring_factories import light_application

    other_call = make_call(title="Another call")
    return [light_application(other_call, world.lead, title=f"Other {n}") for n in range(how_many)]


def test_invite_page_offers_existing_reviewers_with_organisation_and_load(client, login, world, make_user,
                                                                          make_organisation):
    pooled = make_user(Role.REVIEWER, organisation=make_organisation("Lakeside College"), full_name="Rory Pool")
    make_user(Role.APPLICANT, full_name="Nora Notreviewer")
    # Rory's load on another call: one open, one submitted, one declined (which does not count).
    first, second, third = other_call_applications(world, 3)
    assign(first, pooled, attested=False)
    assign(second, pooled).status = AssignmentStatus.SUBMITTED
    declined = assign(third, pooled, attested=False)
    declined.status, declined.decline_reason = AssignmentStatus.DECLINED, "Away"
    db.session.commit()
    login(world.officer)

    page = text(client.get(f"/manage/calls/{world.call.id}/review"))
    pick_list = re.search(r'<select[^>]*id="reviewer_id".*?</select>', page, re.S).group(0)
    assert f'value="{pooled.id}">Rory Pool — Lakeside College · 1 open review, 2 assignments in all</option>' \
        in pick_list
    # Those already on this panel, and people who are not reviewers, are not offered.
    assert "Ada Academic" not in pick_list and "Nora Notreviewer" not in pick_list


def test_invite_reviewer_picked_from_the_pool(client, login, world, make_user, make_organisation, outbox):
    pooled = make_user(Role.REVIEWER, organisation=make_organisation("Lakeside College"), full_name="Rory Pool",
                       email="rory@lakeside.example")
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/review/invite",
                           data={"reviewer_id": pooled.id, "sub_panel": "Academic", "workload_cap": "4"})

    assert response.status_code == 302
    member = db.session.scalar(select(PanelMember).where(PanelMember.email == "rory@lakeside.example"))
    assert member.status is PanelMemberStatus.INVITED and (member.sub_panel, member.workload_cap) == ("Academic", 4)
    assert outbox(kind="panel_invitation")[-1].recipient == "rory@lakeside.example"
    page = text(client.get(f"/manage/calls/{world.call.id}/review"))
    assert "An invitation is on its way to Rory Pool (rory@lakeside.example)" in page
    # Invited now: no longer offered.
    assert f'value="{pooled.id}">' not in re.search(r'<select[^>]*id="reviewer_id".*?</select>', page, re.S).group(0)


@pytest.mark.parametrize("data, message", [
    ({}, "Choose a reviewer from the list, or type the address of someone new."),
    ({"email": "new@example.org", "reviewer_id": "ACADEMIC"}, "not both"),
    ({"reviewer_id": "ACADEMIC"}, "That reviewer cannot be invited to this panel"),
    ({"reviewer_id": "999999"}, "That reviewer cannot be invited to this panel"),
])
def test_invite_reviewer_refusals_say_why_and_invite_nobody(client, login, world, outbox, data, message):
    data = {key: str(world.academic.id) if value == "ACADEMIC" else value for key, value in data.items()}
    login(world.officer)
    before = db.session.scalar(select(func.count()).select_from(PanelMember))

    response = client.post(f"/manage/calls/{world.call.id}/review/invite", data=data)

    assert response.status_code == 400 and message in text(response)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PanelMember)) == before
    assert outbox(kind="panel_invitation") == []


def test_review_setup_lists_the_pool_in_constant_statements(app, client, login, world, make_user,
                                                            make_organisation):
    from sqlalchemy import event

    login(world.officer)
    [elsewhere] = other_call_applications(world, 1)
    counts = []
    for batch in range(2):
        for n in range(1 + batch * 5):
            reviewer = make_user(Role.REVIEWER, organisation=make_organisation(f"Pool {batch}-{n}"))
            assign(elsewhere, reviewer, attested=False)
        db.session.commit()
        client.get(f"/manage/calls/{world.call.id}/review")
        count = 0

        def counter(*_args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(f"/manage/calls/{world.call.id}/review").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        counts.append(count)
    assert counts[0] == counts[1], f"review set-up: {counts[0]} statements, then {counts[1]} with a larger pool"

def test_update_panel_member_refused_by_a_rule_says_why(client, login, world):
    # The rule's message (a form-level error) once broke the page that shows it: a 500.
    assign(world.application, world.academic, attested=False)
    db.session.commit()
    login(world.officer)

    response = client.post(f"/manage/panel-members/{member_of(world, world.academic).id}",
                           data={"sub_panel": "Clinical", "workload_cap": "0"})

    assert response.status_code == 400
    assert "already has 1 assignments on this call; the cap cannot be lower" in text(response)
