"""Issue #3 end to end, as the people do it in the browser: a program officer writes and
publishes a call; an applicant starts an application, adds two partners and a budget, uploads
the documents and invites the partner contacts, who sign off; the applicant submits; the
officer finds it, exports it and screens it in.

Each person works in a browser context of their own. The call is new, so the demo
applications (on the demo calls) never get in the way.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.helpers import (  # skips this module where playwright is missing
    OFFICER,
    Page,
    assert_accessible,
    expect,
    expect_field_error,
    log_in,
    main_nav,
)

APPLICANT = "applicant@riverside.example"
# (organisation, its kind, contact person, contact's e-mail): demo organisations and users.
EASTSIDE = ("Eastside Community Health Alliance", "Community nonprofit", "Jordan Williams",
            "applicant@eastside.example")
LAKE_COUNTY = ("Lake County Health Department", "Public-health agency", "Dana Kim", "applicant@lakecounty.example")

ZONE = "America/Chicago"
CALL_TITLE = "Neighbourhood Voices in Research 2027"
PROJECT_TITLE = "Barbershop Conversations on Heart Research"
QUESTION = "How will community members shape the project?"
WORD_LIMIT = 40


def pdf_bytes(text: str) -> bytes:
    """A small, valid one-page PDF showing ``text`` (the app checks a file's content, not its name)."""
    content = b"BT /F1 14 Tf 72 720 Td (" + text.encode("ascii") + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(pdf)


def a_pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": pdf_bytes(name)}


def words(count: int) -> str:
    return " ".join(f"word{number}" for number in range(1, count + 1))


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.get_by_role("status").first


def section_tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Application sections").get_by_role("link", name=name, exact=True)


# --- 1. the officer writes and publishes the call -------------------------------------------

def write_and_publish_the_call(page: Page, open_page, shot) -> int:
    log_in(page, OFFICER)
    main_nav(page).get_by_role("link", name="Manage calls").click()
    page.get_by_role("link", name="New call").click()
    expect(heading(page)).to_have_text("New call")

    today = datetime.now(ZoneInfo(ZONE)).date()
    page.get_by_label("Title", exact=True).fill(CALL_TITLE)
    page.get_by_label("Summary", exact=True).fill("Up to $150,000 for a member institution and two community partners who "
                                      "bring residents' questions into research.")
    page.get_by_label("Description", exact=True).fill(
        "Residents help decide **what is studied** and hear back what was found.\n\n"
        "## What we fund\n\n- Listening sessions\n- Trusted messengers\n- Plain-language reports")
    page.get_by_label("Eligibility", exact=True).fill("- A **member institution** leads.\n- Two community partners join it.")
    page.get_by_label("Time zone").select_option(label="Central Time (America/Chicago)")
    page.get_by_label("Opening date").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Opening time").fill("09:00")
    page.get_by_label("Closing date").fill((today + timedelta(days=30)).isoformat())
    page.get_by_label("Closing time").fill("17:00")
    page.get_by_label("Award floor (US$)").fill("25,000")
    page.get_by_label("Award ceiling (US$)").fill("150,000")
    page.get_by_label("Total funds (US$)").fill("600,000")
    page.get_by_label("Expected number of awards").fill("4")
    shot("officer-new-call", page)
    page.get_by_role("button", name="Save draft").click()
    expect(flash(page)).to_contain_text("The draft call is saved.")
    expect(heading(page)).to_contain_text(CALL_TITLE)
    expect(heading(page)).to_contain_text("Draft")
    call_id = int(re.search(r"/manage/calls/(\d+)", page.url).group(1))

    # Partnership rules.
    page.get_by_role("link", name="Edit partnership rules").click()
    page.get_by_role("group", name="Who may lead an application").get_by_label("Member institution").check()
    page.get_by_label("Minimum number of partners").fill("2")
    counted = page.get_by_role("group", name="Which partners count toward the minimum")
    for kind in ("Community nonprofit", "Public-health agency", "Social-service agency"):
        counted.get_by_label(kind).check()
    page.get_by_label("Minimum share of the budget for community partners (%)").fill("40")
    page.get_by_label("Every partner must sign off on the application before it is submitted").check()
    shot("officer-partnership-rules", page)
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text("Saved.")
    rules = page.get_by_role("region", name="Partnership rules")
    expect(rules).to_contain_text("The lead organisation must be a member institution.")
    expect(rules).to_contain_text("At least 2 partner organisations")
    expect(rules).to_contain_text("At least 40% of the requested budget must go to community partners")
    expect(rules).to_contain_text("Every partner signs off")

    def add(section_link: str, fields: dict[str, str], button: str, *, choose: str | None = None) -> None:
        page.get_by_role("link", name=section_link).click()
        for label, value in fields.items():
            page.get_by_label(label, exact=True).fill(value)
        if choose:
            page.get_by_label(choose).check()
        page.get_by_role("button", name=button).click()
        expect(flash(page)).to_contain_text("is added.")

    add("Add a question", {"Question": QUESTION, "Help for applicants": "Who decides what, and how are residents "
                           "paid for their time?", "Word limit": str(WORD_LIMIT)}, "Add the question")
    add("Add a document", {"Document": "Budget justification", "Help for applicants": "One page per budget line."},
        "Add the document", choose="One per application")
    add("Add a document", {"Document": "Letter of commitment",
                           "Help for applicants": "Signed by the partner's director."},
        "Add the document", choose="One from each partner")
    add("Add a criterion", {"Criterion": "Community voice", "Weight": "60"}, "Add the criterion")
    add("Add a criterion", {"Criterion": "Feasibility", "Weight": "40"}, "Add the criterion")
    add("Add a metric", {"Metric": "Residents reached", "Unit": "people"}, "Add the metric")
    add("Add a milestone", {"Milestone": "Launch", "Due, in days after the award starts": "30",
                            "Payment share (% of the award)": "40"}, "Add the milestone")
    add("Add a milestone", {"Milestone": "Final report", "Due, in days after the award starts": "365",
                            "Payment share (% of the award)": "60"}, "Add the milestone")

    assert_accessible(page)
    ready = page.get_by_role("region", name="Before you can publish")
    expect(ready).to_contain_text("Everything applicants need is there.")
    expect(page.get_by_role("region", name="Review rubric")).to_contain_text("60%")
    expect(page.get_by_role("region", name="Milestones and payments")).to_contain_text("100%")
    shot("officer-call-ready", page)

    page.get_by_role("link", name="Preview the public page").click()
    expect(page.get_by_role("status")).to_contain_text("Preview.")
    expect(heading(page)).to_have_text(CALL_TITLE)
    expect(page.get_by_role("main")).to_contain_text("Up to 40 words")
    expect(page.get_by_role("main")).to_contain_text("One from each partner")
    shot("officer-preview", page)
    page.get_by_role("link", name="Back to managing the call").click()
    page.get_by_role("button", name="Publish the call").click()
    expect(flash(page)).to_contain_text("The call is published")
    expect(heading(page)).to_contain_text("Published")
    expect(heading(page)).to_contain_text("Open")
    shot("officer-published", page)

    # Anyone sees it among the open calls.
    visitor = open_page()
    visitor.goto("/calls")
    open_now = visitor.get_by_role("region", name="Open now")
    expect(open_now.get_by_role("link", name=CALL_TITLE)).to_be_visible()
    open_now.get_by_role("link", name=CALL_TITLE).click()
    expect(heading(visitor)).to_have_text(CALL_TITLE)
    expect(visitor.get_by_role("link", name="Log in to apply")).to_be_visible()
    shot("anonymous-call-page", visitor)
    assert_accessible(visitor)
    return call_id


# --- 2. the applicant and the partners --------------------------------------------------------

def task(page: Page, label: str):
    """One task of the application's task list."""
    return page.locator(".task-list > li").filter(has=page.get_by_text(label, exact=True))


def start_and_fill_the_application(page: Page, shot) -> int:
    log_in(page, APPLICANT)
    main_nav(page).get_by_role("link", name="Funding calls").click()
    page.get_by_role("link", name=CALL_TITLE).click()
    # Check before you start: a community nonprofit cannot lead; the medical centre with two partners can.
    page.get_by_role("link", name="Can we apply? Check in a minute").click()
    expect(heading(page)).to_have_text("Can we apply?")
    expect(page.get_by_label("Member institution")).to_be_checked()  # from the applicant's organisation
    page.get_by_label("Community nonprofit").first.check()
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("status")).to_contain_text("Not as things stand")
    expect(page.get_by_role("status")).to_contain_text("can join an application as a partner")
    page.get_by_role("group", name=re.compile("lead the application")).get_by_label("Member institution").check()
    page.get_by_role("spinbutton", name="Community nonprofit").fill("1")
    page.get_by_role("spinbutton", name="Public-health agency").fill("1")
    page.get_by_label(re.compile("About how much")).fill("140,000")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("status")).to_contain_text("Yes: from what you told us, you can apply")
    shot("applicant-eligibility-check", page)
    assert_accessible(page)
    page.get_by_role("link", name="Start an application").click()
    page.get_by_label("Working title of the project").fill(PROJECT_TITLE)
    page.get_by_role("button", name="Start the application").click()
    expect(flash(page)).to_contain_text("Your application is started.")
    expect(heading(page)).to_have_text("Task list")
    application_id = int(re.search(r"/applications/(\d+)", page.url).group(1))
    expect(task(page, "Project title and summary")).to_contain_text("Not yet started")
    expect(task(page, "Check your answers and submit")).to_contain_text("Cannot start yet")
    shot("applicant-task-list-new", page)
    assert_accessible(page)

    section_tab(page, "Overview").click()
    page.get_by_label("Summary").fill("Barbers trained as trusted messengers invite customers to shape and hear "
                                      "about heart research at the medical centre.")
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text("Overview saved.")

    # The answer: counted as it is typed; over the limit, the server refuses it and keeps it.
    section_tab(page, "Answers").click()
    answer = page.get_by_label(QUESTION)
    too_long = words(WORD_LIMIT + 5)
    answer.fill(too_long)
    expect(page.get_by_text(f"{WORD_LIMIT + 5} of {WORD_LIMIT} words — 5 over the limit")).to_be_visible()
    shot("applicant-answer-over-limit-typed", page)
    page.get_by_role("button", name="Save the answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Some answers are over their word limit; nothing was saved.")
    expect_field_error(page, QUESTION, f"This answer has {WORD_LIMIT + 5} words; the limit is {WORD_LIMIT}. "
                                       "Shorten it by 5.")
    expect(answer).to_have_value(too_long)
    shot("applicant-answer-refused", page)
    answer.fill("A steering group of barbers and customers decides which questions we study; members are paid "
                "for every meeting and co-present the findings in the shops.")
    expect(page.get_by_text(re.compile(rf"^\d+ of {WORD_LIMIT} words$"))).to_be_visible()
    page.get_by_role("button", name="Save the answers").click()
    expect(flash(page)).to_contain_text("Answers saved.")

    # Two partners from the registered organisations: one contact picked from its people, one typed.
    section_tab(page, "Partners").click()
    for organisation, kind, contact, email in (EASTSIDE, LAKE_COUNTY):
        page.get_by_label("Yes, choose it from the list").check()
        page.get_by_label("Registered organisation").select_option(label=f"{organisation} ({kind})")
        if organisation == EASTSIDE[0]:
            page.get_by_label("Contact person: one of the organisation's people").select_option(label=contact)
        else:
            page.get_by_label("Contact person's name").fill(contact)
            page.get_by_label("Contact's e-mail").fill(email)
        page.get_by_label("Role in the project").fill(f"{organisation} recruits and trains the messengers.")
        page.get_by_role("button", name="Add the partner").click()
        expect(flash(page)).to_contain_text("Partner added.")
    partners_table = page.get_by_role("table", name="Partners of this application")
    expect(partners_table.get_by_role("row")).to_have_count(3)
    shot("applicant-partners", page)
    assert_accessible(page)

    # The budget: the lead's own costs and a subaward to each partner (57% to the community).
    section_tab(page, "Budget").click()
    for category, to, description, amount in (
            ("Personnel", "Lead organisation", "Research coordinator (50%)", "60,000"),
            ("Contractual / subaward", EASTSIDE[0], "Messenger stipends and training", "45,000"),
            ("Contractual / subaward", LAKE_COUNTY[0], "Community health workers", "35,000")):
        page.get_by_label("Category").select_option(label=category)
        page.get_by_label("Subaward to").select_option(label=to)
        page.get_by_label("Description").fill(description)
        page.get_by_label("Amount (USD)").fill(amount)
        page.get_by_role("button", name="Add the line").click()
        expect(flash(page)).to_contain_text("Budget line added.")
    expect(page.get_by_role("main")).to_contain_text("$140,000")
    expect(page.get_by_role("main")).to_contain_text("57.1%")
    shot("applicant-budget", page)
    assert_accessible(page)

    # The documents: one for the application, a letter from each partner. A file that only
    # says it is a PDF is refused first.
    section_tab(page, "Documents").click()
    page.get_by_label("File for Budget justification").set_input_files(
        {"name": "budget-justification.pdf", "mimeType": "application/pdf", "buffer": b"just some text, no PDF"})
    page.get_by_role("button", name="Upload Budget justification").click()
    expect(page.get_by_role("alert")).to_contain_text("“budget-justification.pdf” is not a real PDF: its content is plain text")
    expect(section_tab(page, "Documents")).to_have_attribute("aria-current", "true")
    shot("applicant-document-refused", page)
    page.get_by_label("File for Budget justification").set_input_files(a_pdf("budget-justification.pdf"))
    page.get_by_role("button", name="Upload Budget justification").click()
    expect(flash(page)).to_contain_text("“budget-justification.pdf” is stored as Budget justification.")
    for organisation, *_ in (EASTSIDE, LAKE_COUNTY):
        slot = f"Letter of commitment: {organisation}"
        filename = f"letter-{organisation.split()[0].lower()}.pdf"
        page.get_by_label(f"File for {slot}").set_input_files(a_pdf(filename))
        page.get_by_role("button", name=f"Upload {slot}").click()
        expect(flash(page)).to_contain_text(f"is stored as Letter of commitment for {organisation}.")
    expect(page.get_by_text("Missing", exact=True)).to_have_count(0)
    shot("applicant-documents", page)
    assert_accessible(page)
    return application_id


def invite_the_partner_contacts(page: Page, shot) -> None:
    section_tab(page, "People").click()
    for _organisation, _kind, contact, email in (EASTSIDE, LAKE_COUNTY):
        page.get_by_role("button", name=f"Invite as viewer ({contact})").click()
        expect(flash(page)).to_contain_text(f"An invitation is on its way to {email} (viewer).")
    contacts = page.get_by_role("table", name="Contacts of the partner organisations")
    expect(contacts.get_by_text("Invited, not accepted yet")).to_have_count(2)
    shot("applicant-people-invited", page)
    assert_accessible(page)


def partner_signs_off(partner: Page, live_server, shot, *, organisation: str, email: str) -> None:
    invitation = [mail for mail in live_server.outbox(recipient=email, kind="application_invitation")
                  if PROJECT_TITLE in mail.subject]
    assert len(invitation) == 1, invitation
    partner.goto(invitation[0].link("/invitations/"))
    expect(heading(partner)).to_have_text("Invitation to work on an application")
    expect(partner.get_by_role("main")).to_contain_text(PROJECT_TITLE)
    shot(f"partner-invitation-{organisation.split()[0].lower()}", partner)
    partner.get_by_role("button", name="Accept the invitation").click()
    expect(flash(partner)).to_contain_text("You have joined the application.")
    # The application's page asks them for what is theirs to do.
    expect(partner.get_by_role("main")).to_contain_text("Your sign-off is needed.")
    shot(f"partner-joined-{organisation.split()[0].lower()}", partner)
    assert_accessible(partner)
    partner.get_by_role("link", name=f"Review and sign off for {organisation}").click()
    expect(heading(partner)).to_have_text(f"Sign-off: {organisation}")
    shot(f"partner-sign-off-{organisation.split()[0].lower()}", partner)
    assert_accessible(partner)
    partner.get_by_role("button", name="Confirm the partnership and budget share").click()
    expect(flash(partner)).to_contain_text(f"Thank you. {organisation}'s partnership and budget share are confirmed.")
    expect(partner.get_by_role("main")).to_contain_text("Signed off")


def submit(page: Page, live_server, shot) -> str:
    section_tab(page, "Task list").click()
    tasks = page.locator(".task-list > li")
    expect(page.locator(".task-list .task-status").filter(has_text="Completed")).to_have_count(tasks.count() - 1)
    expect(page.get_by_role("main")).to_contain_text("ready to submit")
    shot("applicant-task-list-complete", page)
    assert_accessible(page)
    task(page, "Check your answers and submit").get_by_role("link").click()
    expect(heading(page)).to_have_text("Check your answers")
    expect(page.get_by_role("main")).to_contain_text("A steering group of barbers")
    shot("applicant-check-answers", page)
    assert_accessible(page)
    # A change made from here comes back here.
    page.get_by_role("link", name="Change the summary").click()
    page.get_by_label("Summary", exact=True).fill(page.get_by_label("Summary", exact=True).input_value() + " Residents lead.")
    page.get_by_role("button", name="Save").click()
    expect(heading(page)).to_have_text("Check your answers")
    expect(page.get_by_role("main")).to_contain_text("Residents lead.")
    page.get_by_role("button", name="Submit the application").click()
    expect(heading(page)).to_have_text("Application submitted")
    reference = re.search(r"PG-\d{4}-\d{3}-\d{4}", page.get_by_role("main").inner_text()).group(0)
    expect(page.get_by_role("main")).to_contain_text("What happens next")
    shot("applicant-confirmation", page)
    assert_accessible(page)
    # The record of what was sent, with the time of submission in the call's zone.
    page.get_by_role("link", name="View and print the whole application as submitted").click()
    expect(heading(page)).to_have_text(f"Application {reference}")
    expect(page.get_by_role("main")).to_contain_text("A steering group of barbers")
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"(CST|CDT)"))
    shot("applicant-record", page)
    assert_accessible(page)
    page.emulate_media(media="print")
    shot("applicant-record-print", page)
    page.emulate_media(media="screen")
    # What was submitted stays readable on the application's page, the answers included.
    page.get_by_role("link", name=PROJECT_TITLE).click()
    expect(heading(page)).to_have_text(f"Application {reference}")
    expect(page.get_by_role("region", name="Answers")).to_contain_text("A steering group of barbers")
    shot("applicant-submitted", page)
    for email in (APPLICANT, EASTSIDE[3], LAKE_COUNTY[3]):
        confirmations = [mail for mail in live_server.outbox(recipient=email, kind="application_submitted")
                         if reference in mail.subject]
        assert len(confirmations) == 1, f"no confirmation of {reference} for {email}"
        assert reference in confirmations[0].body
    return reference


# --- 3. the officer finds, exports and screens it ---------------------------------------------

def read_csv(download) -> list[dict]:
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def export_and_screen(page: Page, shot, *, call_id: int, reference: str) -> None:
    main_nav(page).get_by_role("link", name="Manage calls").click()
    page.get_by_role("link", name=CALL_TITLE).click()
    page.get_by_role("link", name="Applications (1)").click()
    expect(page).to_have_url(re.compile(rf"/manage/calls/{call_id}/applications$"))
    expect(heading(page)).to_have_text(f"Applications to {CALL_TITLE}")
    counts = page.get_by_role("region", name="Applications by status")
    expect(counts).to_contain_text("All received: 1")
    expect(counts).to_contain_text("Submitted: 1")
    expect(counts).to_contain_text("0 drafts in progress")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text(reference)
    expect(rows.nth(1)).to_contain_text("57.1%")
    shot("officer-intake-list", page)
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download applications (CSV)").click()
    applications = read_csv(download_info.value)
    assert [row["Reference"] for row in applications] == [reference]
    assert applications[0]["Requested (USD)"] == "140000.00"
    assert applications[0]["Partners"] == "2"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download partners (CSV)").click()
    partners = read_csv(download_info.value)
    assert [(row["Reference"], row["Partner organisation"]) for row in partners] == [
        (reference, EASTSIDE[0]), (reference, LAKE_COUNTY[0])]
    assert all(row["Signed off at (UTC)"] for row in partners)

    page.get_by_role("link", name=PROJECT_TITLE).click()
    expect(heading(page)).to_have_text(PROJECT_TITLE)
    for section in ("Overview", "Screening", "Answers", "Partners", "Budget", "Documents", "People",
                    "Checklist at submission", "History"):
        expect(page.get_by_role("heading", name=section, exact=True)).to_be_visible()
    documents = page.get_by_role("region", name="Documents")
    for filename in ("budget-justification.pdf", "letter-eastside.pdf", "letter-lake.pdf"):
        with page.expect_download() as download_info:
            documents.get_by_role("link", name=filename).click()
        with open(download_info.value.path(), "rb") as handle:
            assert handle.read(5) == b"%PDF-", filename
    shot("officer-intake-application", page)
    assert_accessible(page)

    screening = page.get_by_role("region", name="Screening")
    screening.get_by_label("Eligible: send it to review").check()
    screening.get_by_role("button", name="Record the decision").click()
    expect(flash(page)).to_contain_text(f"{reference} is eligible and now in review.")
    expect(page.get_by_role("region", name="Screening")).to_contain_text("Eligible: in review since")
    shot("officer-screened-in", page)


# --- the journey ------------------------------------------------------------------------------

def test_a_call_from_writing_to_screening(page: Page, open_page, live_server, shot):
    officer = page
    call_id = write_and_publish_the_call(officer, open_page, shot)

    applicant = open_page()
    application_id = start_and_fill_the_application(applicant, shot)

    # Before being invited, a partner organisation's staff do not even learn that it exists.
    lake_county = open_page()
    log_in(lake_county, LAKE_COUNTY[3])
    response = lake_county.goto(f"/applications/{application_id}")
    assert response.status == 404
    expect(heading(lake_county)).to_have_text("Page not found")
    expect(lake_county.get_by_role("main")).not_to_contain_text(PROJECT_TITLE)
    shot("other-organisation-404", lake_county)

    invite_the_partner_contacts(applicant, shot)
    eastside = open_page()
    log_in(eastside, EASTSIDE[3])
    partner_signs_off(eastside, live_server, shot, organisation=EASTSIDE[0], email=EASTSIDE[3])
    partner_signs_off(lake_county, live_server, shot, organisation=LAKE_COUNTY[0], email=LAKE_COUNTY[3])

    applicant.reload()
    reference = submit(applicant, live_server, shot)

    export_and_screen(officer, shot, call_id=call_id, reference=reference)

    applicant.reload()
    expect(applicant.get_by_role("main")).to_contain_text("In review")
    main_nav(applicant).get_by_role("link", name="My applications").click()
    row = applicant.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("In review")
    shot("applicant-in-review", applicant)
