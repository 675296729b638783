"""Issue #4 end to end, as the people do it in the browser: a program officer sets up the review
of the demo's open call and invites two reviewers, who join the panel from the e-mailed link; the
officer has reviewers proposed automatically and confirms; the reviewer of a partner
organisation never gets near the application, while the other attests, reads, scores and
submits; the officer ranks the applications, reads the scores and exports them. The applicants
never learn who reviewed them.

The call is the demo's "Community Trust Partnerships 2027". Its demo panel has already
reviewed "Trusted Messengers for Heart Health" (two submitted reviews: as many as the call asks
for), while "Listening Circles on Mental Health" (led by Northgate, with Families First and
Eastside as partners) has one review in progress and one declared conflict, so it still needs a
reviewer: that is the one reviewed here. The two invited reviewers are new users: one at an
unrelated organisation, one at Eastside, a partner on both applications.
"""

from __future__ import annotations

import csv
import re
import statistics
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.helpers import (  # skips this module where playwright is missing
    OFFICER,
    Page,
    assert_accessible,
    expect,
    log_in,
    log_out,
    main_nav,
)

CALL_TITLE = "Community Trust Partnerships 2027"
ZONE = "America/Chicago"
REVIEWED = "Listening Circles on Mental Health"
REVIEWED_BY_THE_DEMO = "Trusted Messengers for Heart Health"
REVIEWED_ORGANISATIONS = ("Northgate University School of Medicine", "Families First Social Services",
                          "Eastside Community Health Alliance")
REVIEWED_SUMMARY = "Monthly listening circles run by a social-service agency"
# (e-mail, application title): who applied, and for what.
APPLICANTS = (("applicant@riverside.example", REVIEWED_BY_THE_DEMO), ("applicant@northgate.example", REVIEWED))
# The demo panel's reviewers, who must not be named to applicants either.
DEMO_REVIEWERS = ("Dr. Mei Chen", "Rosa Delgado", "Dr. Samuel Okafor")
PASSWORD = "reviewer-password-for-the-journey"

# (e-mail, name, organisation): users added for this test.
REVIEWER = ("grace.whitfield@lakeside.example", "Dr. Grace Whitfield", "Lakeside University Health Sciences")
CONFLICTED = ("tomas.rivera@eastside.example", "Tomás Rivera", "Eastside Community Health Alliance")

# The demo rubric: weights of its criteria (all scored 1–5), in its order, and the scores given.
WEIGHTS = {"Community need and voice": 25, "Strength and equity of the partnership": 30,
           "Approach to two-way communication": 20, "Outcomes and evaluation": 15, "Sustainability": 10}
SCORES = {"Community need and voice": 4, "Strength and equity of the partnership": 5,
          "Approach to two-way communication": 3, "Outcomes and evaluation": 4, "Sustainability": 2}
# 100 × Σ w·(s − 1)/4 ÷ Σ w  = 72.5
WEIGHTED = 100 * sum(WEIGHTS[name] * (score - 1) / 4 for name, score in SCORES.items()) / sum(WEIGHTS.values())
LAST = "Sustainability"  # left unscored on the first attempt to submit
STRENGTHS = "Circles run by the social-service agency reach residents the medical school never hears from."
WEAKNESSES = "Say how what the circles hear changes a study, not only how it is reported back."


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.get_by_role("status").first


def criterion_section(page: Page, name: str):
    return page.get_by_role("region", name=re.compile(rf"^\d+\. {re.escape(name)}"))


def cells_of(row) -> list[str]:
    """A table row's cell texts, its row header included."""
    return [text.strip() for text in row.locator("th, td").all_inner_texts()]


def column_names(table) -> list[str]:
    return [text.strip().splitlines()[0] if text.strip() else "" for text in
            table.get_by_role("columnheader").all_inner_texts()]


# --- 1. the officer: settings and invitations -------------------------------------------------

def set_up_the_review(officer: Page, shot) -> None:
    log_in(officer, OFFICER)
    main_nav(officer).get_by_role("link", name="Manage calls").click()
    officer.get_by_role("link", name=CALL_TITLE).click()
    officer.get_by_role("link", name="Review", exact=True).click()
    expect(heading(officer)).to_have_text(f"Review: {CALL_TITLE}")
    assert_accessible(officer)

    closes_on = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=7)
    closing = officer.get_by_role("group", name="When the review closes")
    closing.get_by_label("Date").fill(closes_on.isoformat())
    closing.get_by_label("Time").fill("17:00")
    officer.get_by_label("Reviewers per application").fill("2")
    shot("officer-review-settings", officer)
    officer.get_by_role("button", name="Save the settings").click()
    expect(flash(officer)).to_contain_text("The review settings are saved.")
    expect(closing.get_by_label("Date")).to_have_value(closes_on.isoformat())
    expect(closing.get_by_label("Time")).to_have_value("17:00")
    expect(officer.get_by_label("Reviewers per application")).to_have_value("2")

    for email, _name, _organisation in (REVIEWER, CONFLICTED):
        officer.get_by_label("Or someone new: their e-mail address").fill(email)
        officer.get_by_role("button", name="Send the invitation").click()
        expect(flash(officer)).to_contain_text(f"An invitation is on its way to {email}.")
    panel = officer.get_by_role("table", name=re.compile("Reviewers invited to this call's panel"))
    for email, *_ in (REVIEWER, CONFLICTED):
        expect(panel.get_by_role("row").filter(has_text=email)).to_contain_text("Invited")
    shot("officer-reviewers-invited", officer)
    assert_accessible(officer)


def join_the_panel(reviewer: Page, live_server, shot, *, email: str, name: str, from_home: bool = False) -> None:
    invitation = live_server.last_mail(recipient=email, kind="panel_invitation")
    assert CALL_TITLE in invitation.subject
    if from_home:
        # Without the e-mail: logging in, the invitation waits on the home page.
        reviewer.goto("/login")
        log_in(reviewer, email, PASSWORD)
        waiting = reviewer.get_by_role("region", name="Waiting for you")
        expect(waiting).to_contain_text(f"Invitation to review for the call “{CALL_TITLE}”.")
        assert_accessible(reviewer)
        waiting.get_by_role("link", name=re.compile("Answer the invitation")).click()
    else:
        # Not logged in yet: the link leads through the login form and back.
        reviewer.goto(invitation.link("/panel-invitations/"))
        expect(heading(reviewer)).to_have_text("Log in")
        log_in(reviewer, email, PASSWORD)
    expect(heading(reviewer)).to_have_text("Invitation to review")
    expect(reviewer.get_by_role("main")).to_contain_text(CALL_TITLE)
    # Not a reviewer before accepting.
    expect(main_nav(reviewer).get_by_role("link", name="My reviews")).to_have_count(0)
    shot(f"invitation-{email.split('@')[0]}", reviewer)
    assert_accessible(reviewer)
    reviewer.get_by_role("button", name="Join the panel").click()
    expect(flash(reviewer)).to_contain_text(f"You are on the review panel of “{CALL_TITLE}”.")
    expect(heading(reviewer)).to_have_text("My reviews")
    expect(main_nav(reviewer).get_by_role("link", name="My reviews")).to_be_visible()
    expect(reviewer.get_by_role("main")).to_contain_text("Nothing is waiting for you.")


# --- 2. the officer: the automatic proposal ----------------------------------------------------

def assign_automatically(officer: Page, shot) -> str:
    officer.reload()
    panel = officer.get_by_role("table", name=re.compile("Reviewers invited to this call's panel"))
    for _email, name, _organisation in (REVIEWER, CONFLICTED):
        expect(panel.get_by_role("row").filter(has_text=name)).to_contain_text("Active")
    officer.get_by_role("link", name="Assign reviewers").click()
    expect(heading(officer)).to_have_text(f"Assignments: {CALL_TITLE}")
    assert_accessible(officer)

    # By hand, the partner organisation's reviewer is refused, with the reason.
    manual = officer.get_by_role("region", name="Assign by hand")
    for label, option in (("Application", REVIEWED), ("Reviewer", CONFLICTED[1])):
        choice = manual.get_by_label(label)
        choice.select_option(label=choice.locator("option", has_text=option).inner_text().strip())
    manual.get_by_role("button", name="Assign").click()
    expect(officer.get_by_role("alert")).to_contain_text(f"{CONFLICTED[1]} cannot review PG-")
    expect(officer.get_by_role("alert")).to_contain_text(f"works at a partner organisation, {CONFLICTED[2]}")
    shot("officer-manual-conflict-refused", officer)

    automatic = officer.get_by_role("region", name="Assign automatically")
    expect(automatic.get_by_label("Reviewers per application")).to_have_value("2")
    automatic.get_by_role("button", name="Propose reviewers").click()
    proposal = officer.get_by_role("region", name=re.compile(r"^Proposal: 2 reviewers per application"))
    grid = proposal.get_by_role("table")
    columns = column_names(grid)
    rows = {title: grid.get_by_role("row").filter(has_text=title) for title in (REVIEWED, REVIEWED_BY_THE_DEMO)}
    references = {title: re.search(r"PG-\d{4}-\d{3}-\d{4}", row.get_by_role("rowheader").inner_text()).group(0)
                  for title, row in rows.items()}
    reference = references[REVIEWED]
    # The partner organisation's reviewer cannot even be ticked, on either application: the cell says why.
    conflicted_column = next(i for i, text in enumerate(columns) if text.startswith(CONFLICTED[1]))
    for title, row in rows.items():
        assert cells_of(row)[conflicted_column] == "Conflict", (title, cells_of(row))
        expect(officer.get_by_label(f"Assign {CONFLICTED[1]} to {references[title]}")).to_have_count(0)
    # The application the demo panel has reviewed twice needs nobody; the other needs one more: ours.
    expect(rows[REVIEWED_BY_THE_DEMO]).to_contain_text("Submitted")
    expect(rows[REVIEWED]).to_contain_text("Conflict declared")  # by a demo reviewer, unlike the automatic ones
    expect(proposal.get_by_role("checkbox", checked=True)).to_have_count(1)
    expect(officer.get_by_label(f"Assign {REVIEWER[1]} to {reference}")).to_be_checked()
    expect(proposal.get_by_text("Not every application could be filled")).to_have_count(0)
    shot("officer-proposal", officer)
    assert_accessible(officer)

    proposal.get_by_role("button", name="Confirm these assignments").click()
    expect(flash(officer)).to_contain_text("1 assignment made; 1 reviewer was e-mailed.")
    card = officer.locator("[id^=application-]").filter(has_text=reference)
    expect(card.get_by_role("row").filter(has_text=REVIEWER[1])).to_contain_text("Assigned")
    shot("officer-assigned", officer)
    return reference


# --- 3. the reviewers ------------------------------------------------------------------------

def attest_and_read(reviewer: Page, live_server, shot, *, reference: str) -> int:
    assigned = live_server.last_mail(recipient=REVIEWER[0], kind="review_assigned")
    assert reference in assigned.body
    main_nav(reviewer).get_by_role("link", name="My reviews").click()
    rows = reviewer.get_by_role("table", name="Applications waiting for your review").get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text(f"{reference} · {REVIEWED}")
    shot("reviewer-my-reviews", reviewer)
    assert_accessible(reviewer)
    rows.nth(1).get_by_role("link").click()
    assignment_id = int(re.search(r"/reviews/assignments/(\d+)", reviewer.url).group(1))

    # Before attesting: only the title, the reference and the organisations on it.
    expect(heading(reviewer)).to_have_text(REVIEWED)
    main = reviewer.get_by_role("main")
    expect(main).to_contain_text(reference)
    organisations = reviewer.get_by_role("region", name="Organisations on this application")
    for organisation in REVIEWED_ORGANISATIONS:
        expect(organisations).to_contain_text(organisation)
    expect(main).not_to_contain_text(REVIEWED_SUMMARY)
    expect(main).not_to_contain_text("$")  # nothing of the budget
    expect(reviewer.get_by_role("link", name="Read the application")).to_have_count(0)
    shot("reviewer-before-attesting", reviewer)
    assert_accessible(reviewer)
    response = reviewer.goto(f"/reviews/assignments/{assignment_id}/application")
    assert response.status == 403
    expect(reviewer.get_by_role("main")).to_contain_text("Confirm that you have no conflict of interest")
    expect(reviewer.get_by_role("main")).not_to_contain_text(REVIEWED_SUMMARY)
    shot("reviewer-application-before-attesting", reviewer)
    reviewer.go_back()

    reviewer.get_by_role("button", name="I have no conflict of interest").click()
    expect(flash(reviewer)).to_contain_text("Thank you. You can now read the application and write your review.")
    shot("reviewer-attested", reviewer)
    reviewer.get_by_role("link", name="Read the application").click()
    expect(heading(reviewer)).to_have_text(REVIEWED)
    main = reviewer.get_by_role("main")
    expect(main).to_contain_text("It is read-only.")
    expect(main).to_contain_text(REVIEWED_SUMMARY)
    expect(reviewer.get_by_role("region", name="Answers")).to_contain_text("A joint steering group of six")
    expect(reviewer.get_by_role("region", name="Budget")).to_contain_text("$190,000")
    # Read-only: nothing to type in, nothing to submit.
    expect(main.locator("input:not([type=hidden]), textarea, select, button")).to_have_count(0)
    with reviewer.expect_download() as download_info:
        reviewer.get_by_role("region", name="Documents").get_by_role("link", name="budget-justification.pdf").click()
    with open(download_info.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    # The other reviews are not offered before one's own is submitted.
    expect(reviewer.get_by_role("navigation", name="This review").get_by_role("link")).to_have_text(
        ["Application", "Your review"])
    shot("reviewer-application", reviewer)
    assert_accessible(reviewer)
    return assignment_id


def conflicted_reviewer_is_kept_out(conflicted: Page, shot, *, assignment_id: int) -> None:
    conflicted.reload()
    expect(conflicted.get_by_role("main")).to_contain_text("Nothing is waiting for you.")
    shot("conflicted-reviewer-nothing-assigned", conflicted)
    assert_accessible(conflicted)
    for path in (f"/reviews/assignments/{assignment_id}", f"/reviews/assignments/{assignment_id}/application",
                 f"/reviews/assignments/{assignment_id}/review"):
        response = conflicted.goto(path)
        assert response.status in (403, 404), (path, response.status)
        main = conflicted.get_by_role("main")
        expect(main).not_to_contain_text(REVIEWED)
        expect(main).not_to_contain_text(REVIEWED_SUMMARY)
    shot("conflicted-reviewer-refused", conflicted)


def score_and_submit(reviewer: Page, shot, *, assignment_id: int) -> None:
    reviewer.get_by_role("link", name="Go to your review").click()
    expect(reviewer.get_by_role("main")).to_contain_text("Not started")
    # Each criterion shows its scale, with the anchors where the rubric has them.
    expect(criterion_section(reviewer, "Community need and voice")).to_contain_text(
        "What the scale means: 1 = generic; 3 = specific but from the institution's view")
    expect(criterion_section(reviewer, "Approach to two-way communication")).to_contain_text(
        "1 is the lowest score, 5 the highest.")
    shot("reviewer-review-form", reviewer)
    assert_accessible(reviewer)
    for name, score in SCORES.items():
        section = criterion_section(reviewer, name)
        if name != LAST:
            section.get_by_role("radio", name=str(score), exact=True).check()
        section.get_by_label(f"Comment on {name}").fill(f"Scored {score}: {name.lower()} is argued with examples.")
    reviewer.get_by_label("Strengths").fill(STRENGTHS)
    reviewer.get_by_label("Weaknesses").fill(WEAKNESSES)
    reviewer.get_by_role("group", name="Recommendation").get_by_label("Fund", exact=True).check()
    reviewer.get_by_role("group", name="How confident are you in this review?").get_by_label("High").check()
    reviewer.get_by_role("button", name="Save draft").click()
    expect(flash(reviewer)).to_contain_text("Your draft is saved. It counts only once you submit it.")
    expect(reviewer.get_by_role("main")).to_contain_text("Draft last saved")
    expect(reviewer.get_by_role("main")).to_contain_text("Weighted score so far:")
    expect(reviewer.get_by_label("Strengths")).to_have_value(STRENGTHS)
    shot("reviewer-draft-saved", reviewer)

    # One score is missing: refused, naming the criterion, and what was typed stays.
    reviewer.get_by_label("Strengths").fill(STRENGTHS + " Members are paid.")
    reviewer.get_by_role("button", name="Submit review").click()
    expect(reviewer.get_by_role("alert")).to_contain_text(f"not yet scored: {LAST}")
    # ... and the criterion itself says so, where the reviewer will look for it.
    expect(reviewer.get_by_role("group", name=f"Score for {LAST}, from 1 to 5")).to_have_accessible_description(
        re.compile(f"Give {LAST} a score to submit the review."))
    expect(reviewer.get_by_label("Strengths")).to_have_value(STRENGTHS + " Members are paid.")
    expect(reviewer.get_by_label("Weaknesses")).to_have_value(WEAKNESSES)
    expect(criterion_section(reviewer, "Community need and voice").get_by_role("radio", name="4", exact=True)) \
        .to_be_checked()
    expect(reviewer.get_by_role("navigation", name="This review").get_by_role("link", name="Other reviews")) \
        .to_have_count(0)
    shot("reviewer-submit-refused", reviewer)
    assert_accessible(reviewer)
    assert reviewer.request.get(f"/reviews/assignments/{assignment_id}/others").status == 403

    criterion_section(reviewer, LAST).get_by_role("radio", name=str(SCORES[LAST]), exact=True).check()
    reviewer.get_by_role("button", name="Submit review").click()
    expect(flash(reviewer)).to_contain_text("Your review is submitted. You can still revise it until the review "
                                            "phase closes on")
    expect(reviewer.get_by_role("main")).to_contain_text(f"Weighted score: {WEIGHTED:.1f} of 100.")
    shot("reviewer-submitted", reviewer)
    reviewer.get_by_role("navigation", name="This review").get_by_role("link", name="Other reviews").click()
    expect(reviewer.get_by_role("main")).to_contain_text(f"Your review's weighted score is {WEIGHTED:.1f} of 100.")
    expect(reviewer.get_by_role("main")).to_contain_text("No other reviewer has submitted a review of this "
                                                         "application yet.")
    shot("reviewer-other-reviews", reviewer)
    assert_accessible(reviewer)


# --- 4. the officer: ranking, detail, export -------------------------------------------------

def read_csv(download) -> list[dict]:
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def rank_and_export(officer: Page, shot, *, reference: str) -> None:
    officer.get_by_role("navigation", name="Review of this call").get_by_role("link", name="Ranking").click()
    expect(heading(officer)).to_have_text(f"Ranking: {CALL_TITLE}")
    expect(officer.get_by_label("Rank by")).to_have_value("mean")
    table = officer.get_by_role("table", name=re.compile("ranked by mean score"))
    columns = column_names(table)
    figures = dict(zip(columns, cells_of(table.get_by_role("row").filter(has_text=reference))))
    # Both applications are ranked, and both fit under the call's total funds: the line comes after them.
    rows = table.get_by_role("row").all_inner_texts()
    at = {name: next(i for i, text in enumerate(rows) if name in text)
          for name in (REVIEWED, REVIEWED_BY_THE_DEMO, "Funding line")}
    assert max(at[REVIEWED], at[REVIEWED_BY_THE_DEMO]) < at["Funding line"], rows
    expect(table.get_by_role("row").filter(has_text="Funding line")).to_contain_text(
        "Funding line: $1,000,000 total funds. The 2 applications above the line request $400,000 in all.")
    shot("officer-ranking", officer)
    assert_accessible(officer)

    officer.get_by_role("link", name=REVIEWED).click()
    expect(heading(officer)).to_have_text(REVIEWED)
    by_criterion = officer.get_by_role("table", name="Each submitted review's score per criterion")
    reviewers = column_names(by_criterion)
    assert REVIEWER[1] in reviewers, reviewers
    column = reviewers.index(REVIEWER[1])
    for name, score in SCORES.items():
        row = by_criterion.get_by_role("row").filter(has=officer.get_by_role("rowheader", name=name))
        assert cells_of(row)[column] == str(score), (name, cells_of(row))
    weighted = [float(text) for text in
                cells_of(by_criterion.get_by_role("row").filter(has_text="Weighted score (0–100)"))[1:]]
    assert weighted[column - 1] == round(WEIGHTED, 1), weighted
    # The ranking's figures are those of the submitted reviews' weighted scores.
    assert figures["Reviews"] == str(len(weighted)), figures
    assert figures["Mean"] == f"{statistics.mean(weighted):.1f}", figures
    assert figures["Median"] == f"{statistics.median(weighted):.1f}", figures
    assert figures["Spread"] == f"{max(weighted) - min(weighted):.1f}", figures
    expect(officer.get_by_role("region", name=REVIEWER[1])).to_contain_text(STRENGTHS)
    shot("officer-ranking-detail", officer)
    assert_accessible(officer)

    officer.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Ranking").click()
    with officer.expect_download() as download_info:
        officer.get_by_role("link", name=re.compile(r"^Download scores \(CSV")).click()
    assert download_info.value.suggested_filename.endswith(".csv")
    scores = read_csv(download_info.value)
    ours = [row for row in scores if row["Reference"] == reference]
    assert [(row["Reviewer"], row["Criterion"], row["Score"]) for row in ours] == [
        (REVIEWER[1], name, str(score)) for name, score in SCORES.items()]
    assert {(row["Recommendation"], row["Review weighted score (0-100)"]) for row in ours} == {
        ("Fund", f"{WEIGHTED:.2f}")}
    # The demo panel's two reviews of the other application are there too, a row per criterion each.
    assert len(scores) == len(ours) + 2 * len(WEIGHTS), len(scores)


def applicants_see_no_reviewers(applicant: Page, shot) -> None:
    names = [REVIEWER[1], CONFLICTED[1], *DEMO_REVIEWERS]
    for email, title in APPLICANTS:
        log_in(applicant, email)
        main_nav(applicant).get_by_role("link", name="My applications").click()
        row = applicant.get_by_role("row").filter(has_text=title)
        expect(row).to_contain_text("In review")
        row.get_by_role("link", name=title).click()
        expect(heading(applicant)).to_contain_text("Application PG-")
        shot(f"applicant-in-review-{email.split('@')[1].split('.')[0]}", applicant)
        sections = applicant.get_by_role("navigation", name="Application sections")
        for section in [text.strip() for text in sections.get_by_role("link").all_inner_texts()]:
            sections.get_by_role("link", name=section, exact=True).click()
            expect(sections.get_by_role("link", name=section, exact=True)).to_have_attribute("aria-current", "page")
            for name in names:
                expect(applicant.locator("body")).not_to_contain_text(name)
            expect(applicant.locator("body")).not_to_contain_text("reviewer", ignore_case=True)
        log_out(applicant)


# --- the journey ------------------------------------------------------------------------------

def test_review_from_invitation_to_ranking(page: Page, open_page, live_server, shot):
    for email, name, organisation in (REVIEWER, CONFLICTED):
        live_server.add_user(email=email, full_name=name, organisation=organisation, password=PASSWORD)

    officer = page
    set_up_the_review(officer, shot)

    reviewer, conflicted = open_page(), open_page()
    join_the_panel(reviewer, live_server, shot, email=REVIEWER[0], name=REVIEWER[1])
    join_the_panel(conflicted, live_server, shot, email=CONFLICTED[0], name=CONFLICTED[1], from_home=True)

    reference = assign_automatically(officer, shot)

    assignment_id = attest_and_read(reviewer, live_server, shot, reference=reference)
    conflicted_reviewer_is_kept_out(conflicted, shot, assignment_id=assignment_id)
    score_and_submit(reviewer, shot, assignment_id=assignment_id)

    rank_and_export(officer, shot, reference=reference)
    applicants_see_no_reviewers(open_page(), shot)
