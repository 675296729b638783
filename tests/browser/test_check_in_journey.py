"""Partnership check-ins in the browser, on the demo's active award ("Barbershop Conversations
on Vaccines", led by Riverside with Eastside as partner): the partner changes its answers in
confidence, the lead answers and never sees the partner's, an incomplete answer is refused
with each statement marked, and the program officer reads every answer, the flags and the
funds that reached the partner, and writes a follow-up note.

It adds check-ins to the demo award: marked ``changes_the_demo_call`` to run after the others.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import OFFICER, Page, assert_accessible, expect, log_in, main_nav

pytestmark = pytest.mark.changes_the_demo_call

LEAD = ("applicant@riverside.example", "Riverside University Medical Center")
PARTNER = ("applicant@eastside.example", "Eastside Community Health Alliance")
AWARD_TITLE = "Barbershop Conversations on Vaccines"
MILESTONE = "Final report"
CANDID = "Payments for our messengers still arrive six weeks late."
FUNDS = "Our organisation receives its share of funds on time."
FOLLOW_UP = "Called Riverside's grants office with Eastside's agreement; invoices now paid within 30 days."


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def open_check_in(page: Page) -> None:
    main_nav(page).get_by_role("link", name="My awards").click()
    page.get_by_role("link", name=AWARD_TITLE).click()
    page.get_by_role("main").get_by_role("link", name=re.compile(MILESTONE)).first.click()
    page.get_by_role("link", name=re.compile("check-in", re.I)).click()
    expect(heading(page)).to_have_text(f"Partnership check-in: {MILESTONE}")


def statement(page: Page, text: str):
    return page.get_by_role("group", name=re.compile(re.escape(text)))


def test_partnership_check_ins_from_partner_to_follow_up(page: Page, open_page, shot):
    # The partner changes the answers it began with: in confidence from the lead.
    log_in(page, PARTNER[0])
    open_check_in(page)
    expect(page.get_by_role("main")).to_contain_text(f"{LEAD[1]} does not see them")
    statement(page, FUNDS).get_by_label("1 — Strongly disagree").check()
    page.get_by_label("Comment on statement 2 (optional)").fill(CANDID)
    page.get_by_label(re.compile("Funds your organisation has received")).fill("15,000")
    shot("partner-check-in", page)
    assert_accessible(page)
    page.get_by_role("button", name="Send our answers").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{PARTNER[1]}'s check-in for “{MILESTONE}” is saved")

    # The lead answers for itself; a missing rating is refused and marked where it is.
    lead = open_page()
    log_in(lead, LEAD[0])
    open_check_in(lead)
    expect(lead.get_by_role("main")).to_contain_text("Each partner answers separately")
    expect(lead.get_by_role("main")).not_to_contain_text(CANDID)
    statement(lead, "Decisions about the project are made jointly.").get_by_label("5 — Strongly agree").check()
    lead.get_by_role("button", name="Send our answers").click()
    expect(lead.get_by_role("alert")).to_contain_text("Rate every statement from 1 to 5")
    expect(statement(lead, FUNDS)).to_contain_text("Choose a rating from 1 to 5.")
    expect(statement(lead, "Decisions about the project are made jointly.").get_by_label("5 — Strongly agree")) \
        .to_be_checked()
    shot("lead-check-in-refused", lead)
    statement(lead, FUNDS).get_by_label("4 — Agree").check()
    statement(lead, "The community's priorities shape the work.").get_by_label("4 — Agree").check()
    lead.get_by_role("button", name="Send our answers").click()
    expect(lead.get_by_role("status").first).to_contain_text("check-in for “Final report” is saved")
    expect(lead.get_by_role("main")).not_to_contain_text(CANDID)

    # The officer reads both, sees the flag and the funds, and notes the follow-up.
    officer = open_page()
    log_in(officer, OFFICER)
    officer.goto("/manage/portfolio/partnership")
    expect(heading(officer)).to_have_text("Partnership health")
    flagged = officer.get_by_role("region", name=re.compile("Awards flagged for follow-up"))
    expect(flagged).to_contain_text(f"“{FUNDS}” rated 1 of 5, down from 3")
    assert_accessible(officer)
    shot("portfolio-partnership-health", officer)
    flagged.get_by_role("link", name=re.compile(r"PG-")).click()
    expect(officer.get_by_role("main")).to_contain_text(AWARD_TITLE)
    expect(officer.get_by_role("main")).to_contain_text(CANDID)
    funds = officer.get_by_role("region", name="Funds reaching partners")
    expect(funds.get_by_role("row", name=re.compile(PARTNER[1]))).to_contain_text("$15,000")
    officer.get_by_role("textbox", name="Follow-up note").fill(FOLLOW_UP)
    officer.get_by_role("button", name="Add the note").click()
    expect(officer.get_by_role("status").first).to_contain_text("Follow-up note added")
    expect(officer.get_by_role("region", name="Follow-up notes")).to_contain_text(FOLLOW_UP)
    assert_accessible(officer)
    shot("award-partnership-health", officer)

    # The grantee's pages never show the note.
    lead.reload()
    expect(lead.get_by_role("main")).not_to_contain_text(FOLLOW_UP)
