"""Issue 11, community reviewers' stipends, end to end in the browser: the program officer reads
the stipends of the demo's closed call, unticks and ticks a reviewer again, marks an owed stipend
paid with a cheque number (a second tab, opened before, cannot pay it twice), undoes a mistaken
payment, and exports the CSV; the reviewer sees their own stipend paid, and nobody else's; an
applicant finds no such page.

The call is the demo's "Vaccine Confidence Community Grants 2026", whose review has closed: its
$200 stipends are owed to Tanya Brooks and Luis Ortega, Rosa Delgado's is paid, and Dr. Mei Chen
(of a member institution) is not eligible.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from grants.core.dates import format_date
from tests.browser.helpers import OFFICER, Page, assert_accessible, expect, log_in, main_nav

CALL_TITLE = "Vaccine Confidence Community Grants 2026"
ZONE = "America/Chicago"
PAID_NOW = ("Tanya Brooks", "reviewer@lakecounty.example")
UNTICKED = ("Luis Ortega", "reviewer@familiesfirst.example")
REFERENCE = "CHQ 5521"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.get_by_role("status").first


def stipends_table(page: Page):
    return page.get_by_role("table", name=re.compile("Stipends of this call's reviewers"))


def row_of(page: Page, name: str):
    return stipends_table(page).get_by_role("row").filter(has_text=name)


def expect_totals(page: Page, owed: str, paid: str) -> None:
    figures = page.get_by_role("region", name="Totals")
    for label, text in (("Owed", owed), ("Paid", paid)):
        expect(figures).to_contain_text(re.compile(rf"{label}\s*{re.escape(text)}"))


def today() -> str:
    return format_date(datetime.now(ZoneInfo(ZONE)).date())


def open_stipends(officer: Page) -> str:
    main_nav(officer).get_by_role("link", name="Manage calls").click()
    officer.get_by_role("link", name=CALL_TITLE).click()
    officer.get_by_role("link", name="Review", exact=True).click()
    officer.get_by_role("navigation", name="Review of this call").get_by_role("link", name="Stipends").click()
    expect(heading(officer)).to_have_text(f"Stipends: {CALL_TITLE}")
    return officer.url


def read_the_stipends(officer: Page, shot) -> None:
    expect(officer.get_by_role("main")).to_contain_text("This call pays $200 per completed review set")
    for name, status in (("Tanya Brooks", "Owed"), ("Luis Ortega", "Owed"), ("Rosa Delgado", "Paid"),
                         ("Dr. Mei Chen", "Not eligible")):
        expect(row_of(officer, name)).to_contain_text(status)
    expect(row_of(officer, "Rosa Delgado")).to_contain_text("(reference EFT 20417)")
    expect_totals(officer, owed="$400 to 2 reviewers", paid="$200 to 1 reviewer")
    shot("officer-stipends", officer)
    assert_accessible(officer)


def untick_and_tick_again(officer: Page, stipends_url: str) -> None:
    officer.get_by_role("navigation", name="Review of this call").get_by_role("link", name="Settings and panel").click()
    tick = officer.get_by_label(f"Stipend for {UNTICKED[1]}")
    expect(tick).to_be_checked()  # a social-service agency: ticked by the rule
    tick.uncheck()
    officer.get_by_role("button", name=f"Save {UNTICKED[1]}").click()
    expect(flash(officer)).to_contain_text(f"{UNTICKED[1]}: sub-panel, cap and stipend saved.")
    officer.goto(stipends_url)
    expect(row_of(officer, UNTICKED[0])).to_contain_text("Not eligible")
    expect_totals(officer, owed="$200 to 1 reviewer", paid="$200 to 1 reviewer")

    officer.get_by_role("link", name="Settings and panel").first.click()
    officer.get_by_label(f"Stipend for {UNTICKED[1]}").check()
    officer.get_by_role("button", name=f"Save {UNTICKED[1]}").click()
    expect(officer.get_by_label(f"Stipend for {UNTICKED[1]}")).to_be_checked()
    officer.goto(stipends_url)
    expect(row_of(officer, UNTICKED[0])).to_contain_text("Owed")


def mark_paid(officer: Page, stale: Page, shot) -> None:
    row = row_of(officer, PAID_NOW[0])
    expect(row.get_by_label("Paid on")).to_have_value(datetime.now(ZoneInfo(ZONE)).date().isoformat())
    row.get_by_label("Reference (optional)").fill(REFERENCE)
    row.get_by_role("button", name=f"Mark paid for {PAID_NOW[0]}").click()
    expect(flash(officer)).to_contain_text(f"The stipend of {PAID_NOW[0]} ($200) is recorded as paid on {today()}.")
    expect(row_of(officer, PAID_NOW[0])).to_contain_text(f"Paid on {today()} (reference {REFERENCE})")
    expect_totals(officer, owed="$200 to 1 reviewer", paid="$400 to 2 reviewers")
    shot("officer-stipend-paid", officer)
    assert_accessible(officer)

    # The other tab was opened before: its button is refused, saying when it was paid.
    row_of(stale, PAID_NOW[0]).get_by_role("button", name=f"Mark paid for {PAID_NOW[0]}").click()
    expect(stale.get_by_role("alert")).to_contain_text(
        f"The stipend of {PAID_NOW[0]} is already recorded as paid: $200 paid on {today()} (reference {REFERENCE}).")
    expect(row_of(stale, PAID_NOW[0])).to_contain_text("Paid")
    expect_totals(stale, owed="$200 to 1 reviewer", paid="$400 to 2 reviewers")
    shot("officer-second-paid-refused", stale)


def undo_a_mistake(officer: Page) -> None:
    """Rosa's demo payment was recorded twice over in the books, say: undone, owed, paid again."""
    row = row_of(officer, "Rosa Delgado")
    row.locator("summary", has_text="Undo this payment").click()
    row.get_by_role("button", name="Undo the payment to Rosa Delgado").click()
    expect(officer.get_by_role("alert")).to_contain_text("Say why the payment is undone.")
    row = row_of(officer, "Rosa Delgado")
    row.get_by_label("Why undo this payment").fill("Recorded against the wrong transfer")
    row.get_by_role("button", name="Undo the payment to Rosa Delgado").click()
    expect(flash(officer)).to_contain_text("The payment to Rosa Delgado is undone")
    expect(row_of(officer, "Rosa Delgado")).to_contain_text("Owed")
    row_of(officer, "Rosa Delgado").get_by_label("Reference (optional)").fill("EFT 20418")
    row_of(officer, "Rosa Delgado").get_by_role("button", name="Mark paid for Rosa Delgado").click()
    expect(row_of(officer, "Rosa Delgado")).to_contain_text("(reference EFT 20418)")


def export(officer: Page) -> None:
    with officer.expect_download() as download_info:
        officer.get_by_role("link", name="Download stipends (CSV)").click()
    assert download_info.value.suggested_filename.endswith(".csv")
    with open(download_info.value.path(), encoding="utf-8-sig", newline="") as handle:
        rows = {row["Reviewer"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"Tanya Brooks", "Luis Ortega", "Rosa Delgado", "Dr. Mei Chen"}, rows
    paid = rows[PAID_NOW[0]]
    assert (paid["Status"], paid["Amount (USD)"], paid["Payment reference"]) == ("Paid", "200.00", REFERENCE)
    assert (rows["Luis Ortega"]["Status"], rows["Dr. Mei Chen"]["Eligible"]) == ("Owed", "no")


def reviewer_sees_their_own(reviewer: Page, shot, stipends_url: str) -> None:
    log_in(reviewer, PAID_NOW[1])
    main_nav(reviewer).get_by_role("link", name="My reviews").click()
    stipends = reviewer.get_by_role("table", name="Your stipend on each call")
    row = stipends.get_by_role("row").filter(has_text=CALL_TITLE)
    expect(row).to_contain_text(f"Paid on {today()} (reference {REFERENCE})")
    expect(row).to_contain_text("$200")
    expect(row).to_contain_text("2 of 2")
    main = reviewer.get_by_role("main")
    for someone_else in ("Rosa Delgado", "Luis Ortega", "Dr. Mei Chen", "EFT 2041"):
        expect(main).not_to_contain_text(someone_else)
    shot("reviewer-stipend-paid", reviewer)
    assert_accessible(reviewer)
    # The officer's page is not theirs: it does not exist for them.
    assert reviewer.goto(stipends_url).status == 404


def applicant_finds_nothing(applicant: Page, stipends_url: str) -> None:
    log_in(applicant, "applicant@riverside.example")
    for url in (stipends_url, stipends_url + ".csv"):
        response = applicant.goto(url)
        assert response.status == 404, (url, response.status)
        expect(heading(applicant)).to_have_text("Page not found")
        expect(applicant.get_by_role("main")).not_to_contain_text(PAID_NOW[0])


def test_officer_pays_a_community_reviewers_stipend_and_the_reviewer_sees_it(page: Page, open_page, shot):
    officer = page
    log_in(officer, OFFICER)
    stipends_url = open_stipends(officer)
    read_the_stipends(officer, shot)
    untick_and_tick_again(officer, stipends_url)

    stale = open_page()
    log_in(stale, OFFICER)
    stale.goto(stipends_url)
    mark_paid(officer, stale, shot)
    undo_a_mistake(officer)
    export(officer)

    reviewer_sees_their_own(open_page(), shot, stipends_url)
    applicant_finds_nothing(open_page(), stipends_url)
