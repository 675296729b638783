"""Issue 10, two-stage calls, in the browser: the officer writes a call with a letter-of-intent
stage and publishes it; the applicant submits a letter of intent; once letters have closed the
officer invites it in one release; the applicant starts the full proposal from the letter (its
shared answer and partner carried over) and submits it.

The letters' deadline passing is the one step not done in the browser: the test moves the
call's letter-of-intent deadline into the past in the live app's database.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.helpers import OFFICER, Page, expect, log_in, main_nav  # skips where playwright is missing

ZONE = "America/Chicago"
CALL_TITLE = "Two-Stage Neighbourhood Health Grants"
APPLICANT = "applicant@riverside.example"
EASTSIDE = ("Eastside Community Health Alliance", "Community nonprofit", "Jordan Williams")
SHARED = "Which community will you work with?"
LOI_ONLY = "Who are the partners, in a paragraph?"
FULL_ONLY = "How will you report back to residents?"
TITLE = "Barbershop blood-pressure checks"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.locator(".alert-success").first


def write_the_two_stage_call(page: Page) -> int:
    log_in(page, OFFICER)
    main_nav(page).get_by_role("link", name="Manage calls").click()
    page.get_by_role("link", name="New call").click()
    today = datetime.now(ZoneInfo(ZONE)).date()
    page.get_by_label("Title", exact=True).fill(CALL_TITLE)
    page.get_by_label("Summary", exact=True).fill("A letter of intent first; invited partnerships send a proposal.")
    page.get_by_label("Description", exact=True).fill("Two stages.")
    page.get_by_label("Eligibility", exact=True).fill("A member institution leads.")
    page.get_by_label("Time zone").select_option(label="Central Time (America/Chicago)")
    page.get_by_label("Opening date").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Opening time").fill("09:00")
    page.get_by_label("Closing date").fill((today + timedelta(days=40)).isoformat())
    page.get_by_label("Closing time").fill("17:00")
    page.get_by_label("Letters of intent close on (optional)").fill((today + timedelta(days=10)).isoformat())
    page.get_by_label("Letters of intent close at").fill("17:00")
    page.get_by_label("Award floor (US$)").fill("25,000")
    page.get_by_label("Award ceiling (US$)").fill("150,000")
    page.get_by_label("Total funds (US$)").fill("600,000")
    page.get_by_label("Expected number of awards").fill("4")
    page.get_by_role("button", name="Save draft").click()
    expect(heading(page)).to_contain_text(CALL_TITLE)
    call_id = int(re.search(r"/manage/calls/(\d+)", page.url).group(1))
    expect(page.get_by_role("main")).to_contain_text("Letters of intent close")

    page.get_by_role("link", name="Edit partnership rules").click()
    page.get_by_role("group", name="Who may lead an application").get_by_label("Member institution").check()
    page.get_by_label("Two-stage calls: named partners a letter of intent needs").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Saved.")

    def add(section_link: str, fields: dict[str, str], button: str, *, stage: str | None = None) -> None:
        page.get_by_role("link", name=section_link).click()
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        if stage:
            page.get_by_label("Asked in (two-stage calls)").select_option(label=stage)
        page.get_by_role("button", name=button).click()
        expect(page.locator(".alert-success")).to_contain_text("is added.")

    add("Add a question", {"Question": SHARED, "Word limit": "100"}, "Add the question",
        stage="Both (the answer is carried over)")
    add("Add a question", {"Question": LOI_ONLY, "Word limit": "60"}, "Add the question",
        stage="Letter of intent only")
    add("Add a question", {"Question": FULL_ONLY, "Word limit": "300"}, "Add the question",
        stage="Full proposal only")
    add("Add a criterion", {"Criterion": "Community voice", "Weight": "100"}, "Add the criterion")
    add("Add a milestone", {"Milestone": "Final report", "Due, in days after the award starts": "365",
                            "Payment share (% of the award)": "100"}, "Add the milestone")
    page.get_by_role("button", name="Publish the call").click()
    expect(heading(page)).to_contain_text("Published")
    return call_id


def tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Application sections").get_by_role("link", name=name, exact=True)


def task(page: Page, label: str):
    return page.locator(".task-list > li").filter(has=page.get_by_text(label, exact=True))


def submit_the_letter_of_intent(page: Page) -> int:
    log_in(page, APPLICANT)
    main_nav(page).get_by_role("link", name="Funding calls").click()
    page.get_by_role("link", name=CALL_TITLE).click()
    page.get_by_role("link", name="Start a letter of intent").click()
    page.get_by_label("Working title of the project").fill(TITLE)
    page.get_by_role("button", name="Start the letter of intent").click()
    expect(heading(page)).to_have_text("Task list")
    loi_id = int(re.search(r"/applications/(\d+)", page.url).group(1))
    # A letter of intent has no budget or documents.
    expect(task(page, "Budget")).to_have_count(0)
    tab(page, "Overview").click()
    page.get_by_label("Summary").fill("Barbers check blood pressure and invite customers to the clinic.")
    page.get_by_role("button", name="Save").click()
    tab(page, "Answers").click()
    expect(page.get_by_label(FULL_ONLY)).to_have_count(0)
    page.get_by_label(SHARED).fill("Black men on the Eastside, who rarely see a doctor before a crisis.")
    page.get_by_label(LOI_ONLY).fill("Eastside Alliance trains the barbers; the medical centre runs the clinic.")
    page.get_by_role("button", name="Save the answers").click()
    tab(page, "Partners").click()
    page.get_by_label("Yes, choose it from the list").check()
    page.get_by_label("Registered organisation").select_option(label=f"{EASTSIDE[0]} ({EASTSIDE[1]})")
    page.get_by_label("Contact person: one of the organisation's people").select_option(label=EASTSIDE[2])
    page.get_by_label("Role in the project").fill("Trains the barbers.")
    page.get_by_role("button", name="Add the partner").click()
    tab(page, "Check and submit").click()
    page.get_by_role("button", name="Submit the application").click()
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"LOI-\d{4}-\d{3}-\d{4}"))
    return loi_id


def letters_close(live_server, call_id: int) -> None:
    from grants.calls.models import Call
    from grants.core.types import utcnow
    from grants.extensions import db

    with live_server.app.app_context():
        call = db.session.get(Call, call_id)
        call.loi_closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def test_two_stage_call_from_letter_of_intent_to_full_proposal(page: Page, open_page, live_server):
    officer = page
    call_id = write_the_two_stage_call(officer)
    applicant = open_page()
    loi_id = submit_the_letter_of_intent(applicant)

    letters_close(live_server, call_id)
    officer.goto(f"/manage/calls/{call_id}/letters-of-intent")
    expect(heading(officer)).to_contain_text("Letters of intent")
    letter = officer.locator(f"#loi-{loi_id}")
    letter.get_by_label("Invite to a full proposal").check()
    letter.get_by_role("button", name=re.compile("Save the screening")).click()
    officer.get_by_role("button", name=re.compile(r"Release 1 and send the letters")).click()
    expect(officer.locator(".alert-success")).to_contain_text("1 invited to a full proposal, 0 declined")
    assert live_server.last_mail(recipient=APPLICANT, kind="loi_invited")

    applicant.goto(f"/applications/{loi_id}")
    expect(applicant.get_by_role("main")).to_contain_text("Invited to a full proposal.")
    applicant.get_by_role("button", name="Start the full proposal").click()
    expect(applicant.locator(".alert-success")).to_contain_text("Your full proposal is started")
    expect(applicant.get_by_role("main")).to_contain_text(EASTSIDE[0])
    tab(applicant, "Answers").click()
    expect(applicant.get_by_label(SHARED)).to_have_value(re.compile("Black men on the Eastside"))
    applicant.get_by_label(FULL_ONLY).fill("A printed card in every shop each quarter, and a yearly open evening.")
    applicant.get_by_role("button", name="Save the answers").click()
    tab(applicant, "Budget").click()
    applicant.get_by_label("Category").select_option(label="Personnel")
    applicant.get_by_label("Subaward to").select_option(label="Lead organisation")
    applicant.get_by_label("Description").fill("Clinic nurse (50%)")
    applicant.get_by_label("Amount (USD)").fill("50,000")
    applicant.get_by_role("button", name="Add the line").click()
    tab(applicant, "Check and submit").click()
    applicant.get_by_role("button", name="Submit the application").click()
    expect(heading(applicant)).to_have_text("Application submitted")
    expect(applicant.get_by_role("main")).to_contain_text(re.compile(r"PG-\d{4}-\d{3}-\d{4}"))
