"""Issue #5 end to end, as the people do it in the browser: the program officer decides to award
the demo's reviewed application and releases the decision; the grantee accepts the award; the
first milestone's report is filed with a document, signed off by the partners, returned for
revision, resubmitted, signed off again and accepted; its payment is released (not before) and
marked paid; the portfolio and the grantee's dashboard show the new figures.

Payments tied to outcomes (issue #11): the officer sets the milestone's targets, the resubmitted
report falls short of one, so accepting it asks what to do with the payment; the officer holds
it, the grantee reads why and sends a revised plan, the officer accepts the plan and releases the
payment by bank transfer, confirming, then marks it paid with the transfer's reference.

The call is the demo's "Community Trust Partnerships 2027"; the application is "Trusted
Messengers for Heart Health" (in review, two submitted reviews), led by Riverside with Eastside
and Lake County as partners, whose contacts sign off reports (the call requires it). It requests
$210,000, of which $120,000 goes to the two community partners.

Awarding it ends its review, which the review journey (tests/browser/test_review_journey.py)
starts from: this module is marked ``changes_the_demo_call`` and runs after the others.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from grants.core.dates import format_date
from tests.browser.helpers import (  # skips this module where playwright is missing
    OFFICER,
    Page,
    assert_accessible,
    expect,
    expect_field_error,
    log_in,
    main_nav,
)
from tests.browser.test_call_to_screening import pdf_bytes

pytestmark = pytest.mark.changes_the_demo_call

CALL_TITLE = "Community Trust Partnerships 2027"
ZONE = "America/Chicago"
TITLE = "Trusted Messengers for Heart Health"
GRANTEE = "applicant@riverside.example"
# (e-mail, organisation): the partners' contacts, collaborators on the application.
PARTNERS = (("applicant@eastside.example", "Eastside Community Health Alliance"),
            ("applicant@lakecounty.example", "Lake County Health Department"))
OUTSIDER = "applicant@northgate.example"  # another organisation, nothing to do with the application
DEMO_REVIEWERS = ("Dr. Mei Chen", "Rosa Delgado", "reviewer@lakeside.example", "reviewer@westside.example")
DEMO_STRENGTHS = ("Community partners hold real decision power and half the budget.",
                  "Trusted messengers are paid, trained and supported.")
DEMO_WEAKNESSES = ("The evaluation plan needs a baseline survey before the first sessions.",
                   "Little on how findings reach residents who do not attend church or barbershops.")

AMOUNT = 200_000  # dollars, between the call's floor ($50,000) and ceiling ($250,000)
TERMS = "Quarterly check-ins with the program officer. Community partners are paid within 30 days of each invoice."
RATIONALE = "Strongest partnership of the round; trimmed from $210,000 to fit the remaining funds."
FIRST = "Partnership launch and workplan"  # the call's first milestone template: 40% of the award
FIRST_PAYMENT = AMOUNT * 40 // 100
NARRATIVE = "The steering group met four times and approved the workplan; twelve barbers and pastors started training."
REVISED_NARRATIVE = NARRATIVE + "\nBaseline survey: 410 residents answered before the first session."
REVISION_COMMENTS = "Please add the baseline survey the reviewers asked for, and how many residents answered it."
# The figures of the first version, and the one the revision changes.
METRICS = {"Community members reached (people)": 350, "Trusted messengers trained (people)": 12,
           "Listening sessions held (sessions)": 4, "Research findings reported back to the community (reports)": 1}
REVISED_METRICS = {**METRICS, "Community members reached (people)": 410}
SPENDING = {"Personnel": "30000", "Contractual / subaward": "24000", "Supplies": "1500.50"}
PDF_NAME = "workplan-signed.pdf"
# The milestone's target that version 2's 410 residents fall short of, and what follows.
TARGET_REACHED = 500
HOLD_REASON = "410 of the 500 residents: tell us how the partnership reaches the rest before the next payment."
REVISED_PLAN = "Two extra evening sessions a month at the barbershops; the pastors invite their congregations."
PAYMENT_REFERENCE = "ACH 2027-0042"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.get_by_role("status").first


def dollars(amount: float) -> str:
    cents = round(amount * 100)
    whole, rest = divmod(cents, 100)
    return f"${whole:,}" + (f".{rest:02d}" if rest else "")


def money(text: str) -> float:
    return float(text.strip().replace("$", "").replace(",", "") or 0)


def definition(scope, term: str) -> str:
    """The text of the <dd> that follows the <dt> reading ``term``."""
    dt = scope.locator("dt").filter(has_text=re.compile(rf"^\s*{re.escape(term)}\s*$"))
    return dt.locator("xpath=following-sibling::dd[1]").inner_text().strip()


def cells_of(row) -> list[str]:
    return [text.strip() for text in row.locator("th, td").all_inner_texts()]


def today_in_the_call() -> datetime:
    return datetime.now(ZoneInfo(ZONE))


# --- what the portfolio of the call shows ------------------------------------------------------

SUMMARY = ("Awarded", "Released", "Paid", "Remaining")


def open_call_page(officer: Page) -> None:
    main_nav(officer).get_by_role("link", name="Manage calls").click()
    officer.get_by_role("link", name=CALL_TITLE).click()
    expect(heading(officer)).to_contain_text(CALL_TITLE)


def portfolio_figures(officer: Page) -> tuple[dict[str, float], dict[str, tuple[int, int]]]:
    """The summary's money figures, and per metric (total to date, awards reporting)."""
    expect(heading(officer)).to_have_text(f"Portfolio of {CALL_TITLE}")
    summary = officer.get_by_role("region", name="Summary")
    funds = {term: money(definition(summary, term)) for term in SUMMARY}
    table = officer.get_by_role("region", name="Outcome metrics across grantees").get_by_role("table", name=CALL_TITLE)
    metrics = {}
    for name in METRICS:
        metric = name.split(" (")[0]
        cells = cells_of(table.get_by_role("row").filter(has_text=metric))
        metrics[name] = (int(cells[1].replace(",", "")), int(cells[2].split(" of ")[0]))
    return funds, metrics


# --- 1. the officer decides; nothing shows before the release ---------------------------------

def decide(officer: Page, shot) -> str:
    open_call_page(officer)
    officer.get_by_role("main").get_by_role("link", name="Decisions", exact=True).click()
    expect(heading(officer)).to_have_text(f"Decisions: {CALL_TITLE}")
    assert_accessible(officer)
    row = officer.get_by_role("row").filter(has=officer.get_by_role("link", name=TITLE))
    reference = re.search(r"PG-\d{4}-\d{3}-\d{4}", row.inner_text()).group(0)
    row.get_by_role("link", name=f"Decide on {reference}").click()
    expect(heading(officer)).to_have_text(f"Decision on {reference}")
    expect(officer.get_by_role("region", name="Where it stands")).to_contain_text("Above it")
    form = officer.locator("form.decision-form")
    form.get_by_label("Award", exact=True).check()
    form.get_by_label("Award amount (USD)").fill(str(AMOUNT))
    starts = today_in_the_call().date()
    form.get_by_label("Award starts").fill(starts.isoformat())
    form.get_by_label("Award ends").fill((starts + timedelta(days=730)).isoformat())
    form.get_by_label("Terms of the award").fill(TERMS)
    form.get_by_label("Rationale").fill(RATIONALE)
    form.get_by_label(re.compile("Quote the reviewers' strengths and weaknesses")).check()
    shot("officer-decision-form", officer)
    assert_accessible(officer)
    form.get_by_role("button", name="Record the decision").click()
    expect(flash(officer)).to_contain_text(
        f"Decision on {reference} recorded: award of {dollars(AMOUNT)}. It stays internal until you release it.")
    row = officer.get_by_role("row").filter(has=officer.get_by_role("link", name=TITLE))
    expect(row).to_contain_text(f"Award of {dollars(AMOUNT)}")
    expect(row).to_contain_text("Not released")
    shot("officer-decided-not-released", officer)
    return reference


def nothing_shows_before_the_release(grantee: Page, shot) -> None:
    log_in(grantee, GRANTEE)
    main_nav(grantee).get_by_role("link", name="My applications").click()
    expect(grantee.get_by_role("row").filter(has_text=TITLE)).to_contain_text("In review")
    main_nav(grantee).get_by_role("link", name="My awards").click()
    expect(heading(grantee)).to_have_text("My awards")
    expect(grantee.get_by_role("main")).not_to_contain_text(TITLE)
    shot("grantee-before-release", grantee)


def release(officer: Page, live_server, shot, *, reference: str) -> None:
    officer.get_by_label(f"Tick {reference}").check()
    officer.get_by_role("button", name="Release the decisions of the ticked").click()
    # The demo's call is still open and its review still runs: the officer is warned and confirms.
    expect(heading(officer)).to_have_text("Release the decisions before the call and its review are over?")
    expect(officer.get_by_role("alert")).to_contain_text("The call is still open")
    expect(officer.get_by_role("alert")).to_contain_text("The review phase has not ended")
    assert_accessible(officer)
    officer.get_by_role("button", name="Release now anyway").click()
    expect(flash(officer)).to_contain_text("1 decision released (1 award, 0 declines). The letters are on their way.")
    row = officer.get_by_role("row").filter(has=officer.get_by_role("link", name=TITLE))
    expect(row).to_contain_text("Released")
    expect(row.get_by_role("link", name=f"Award of {dollars(AMOUNT)}")).to_be_visible()
    shot("officer-released", officer)

    letter = live_server.last_mail(recipient=GRANTEE, kind="decision_award")
    assert TITLE in letter.subject and reference in letter.subject, letter.subject
    for text in (*DEMO_STRENGTHS, *DEMO_WEAKNESSES, "Reviewer 1", "Reviewer 2", dollars(AMOUNT)):
        assert text in letter.body, (text, letter.body)
    for name in DEMO_REVIEWERS:
        assert name not in letter.body, (name, letter.body)
    assert RATIONALE not in letter.body, letter.body  # internal


# --- 2. the grantee accepts --------------------------------------------------------------------

def accept(grantee: Page, shot) -> int:
    main_nav(grantee).get_by_role("link", name="My applications").click()
    expect(grantee.get_by_role("row").filter(has_text=TITLE)).to_contain_text("Awarded")
    main_nav(grantee).get_by_role("link", name="My awards").click()
    row = grantee.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("Offered")
    expect(row).to_contain_text("waiting for your answer")
    expect(row).to_contain_text(dollars(AMOUNT))
    row.get_by_role("link", name=TITLE).click()
    expect(heading(grantee)).to_contain_text(f"Award: {TITLE}")
    offer = grantee.get_by_role("region", name="The offer")
    expect(offer).to_contain_text(dollars(AMOUNT))
    expect(offer).to_contain_text(TERMS)
    expect(grantee.get_by_role("main")).not_to_contain_text(RATIONALE)
    shot("grantee-offer", grantee)
    assert_accessible(grantee)
    award_id = int(re.search(r"/awards/(\d+)", grantee.url).group(1))

    # Accepting without confirming the terms is refused, with the reason at the box.
    confirm = "I have read the award's terms and accept them on behalf of the applicants"
    grantee.get_by_role("button", name="Accept the award").click()
    expect_field_error(grantee, confirm, "Tick the box to confirm the terms.")
    grantee.get_by_label(confirm, exact=True).check()
    grantee.get_by_role("button", name="Accept the award").click()
    expect(flash(grantee)).to_contain_text("You accepted the award. It is active: its milestones and payments are below.")
    milestones = grantee.get_by_role("region", name="Milestones and payments").get_by_role("table")
    expect(milestones).to_contain_text(f"3 milestones; payments {dollars(AMOUNT)} of {dollars(AMOUNT)}")
    first = milestones.get_by_role("row").filter(has_text=FIRST)
    expect(first).to_contain_text(dollars(FIRST_PAYMENT))
    expect(first).to_contain_text("Scheduled")
    shot("grantee-accepted", grantee)
    assert_accessible(grantee)
    return award_id


# --- 3. the report, its sign-off, its revision -------------------------------------------------

def file_the_report(grantee: Page, shot) -> None:
    grantee.get_by_role("region", name="Reports").get_by_role("link", name=FIRST).click()
    expect(heading(grantee)).to_have_text(f"Report: {FIRST}")
    assert_accessible(grantee)
    grantee.get_by_label("Narrative", exact=True).fill(NARRATIVE)
    for label, value in METRICS.items():
        grantee.get_by_label(label, exact=True).fill(str(value))
    for label, value in SPENDING.items():
        grantee.get_by_label(label, exact=True).fill(value)
    grantee.get_by_label("Add documents (you may choose several)").set_input_files(
        files=[{"name": PDF_NAME, "mimeType": "application/pdf", "buffer": pdf_bytes("Signed workplan")}])
    shot("grantee-report-form", grantee)
    grantee.get_by_role("button", name="Submit the report").click()
    expect(flash(grantee)).to_contain_text("Version 1 of the report is submitted.")
    expect(flash(grantee)).to_contain_text("Each partner's contact now signs it off; they have been e-mailed.")
    version = grantee.get_by_role("article").first
    expect(version).to_contain_text("Version 1")
    expect(version).to_contain_text(PDF_NAME)
    expect(version).to_contain_text("Waiting for a decision")
    shot("grantee-report-submitted", grantee)


def partners_sign_off(open_page, live_server, shot, *, version: int, pages: dict) -> None:
    for email, organisation in PARTNERS:
        partner = pages.get(email)
        if partner is None:
            partner = pages[email] = open_page()
            log_in(partner, email)
        mail = live_server.last_mail(recipient=email, kind="report_sign_off_requested")
        partner.goto(mail.link("/sign-off"))
        expect(heading(partner)).to_have_text(f"Sign off the report: {FIRST}")
        expect(partner.get_by_role("main")).to_contain_text(f"Version {version}")
        if version == 1:
            shot(f"partner-sign-off-{email.split('@')[1].split('.')[0]}", partner)
            assert_accessible(partner)
        partner.get_by_role("button", name=f"Sign off for {organisation}").click()
        expect(flash(partner)).to_contain_text(
            f"Thank you. {organisation} has signed off version {version} of the report for “{FIRST}”.")


def payment_id_of(live_server, award_id: int, milestone_name: str) -> int:
    from sqlalchemy import select

    from grants.awards.models import Milestone
    from grants.extensions import db

    with live_server.app.app_context():
        milestone = db.session.scalars(select(Milestone).where(Milestone.award_id == award_id,
                                                               Milestone.name == milestone_name)).one()
        return milestone.payment.id


def open_the_milestone(officer: Page, *, award_id: int) -> None:
    officer.goto(f"/manage/awards/{award_id}")
    expect(heading(officer)).to_contain_text(f"Award: {TITLE}")
    officer.get_by_role("link", name=f"{FIRST} report").click()
    expect(heading(officer)).to_have_text(FIRST)


def release_refused_before_acceptance(officer: Page, live_server, *, award_id: int) -> None:
    """No button offers it; a form posted anyway (an old page, a crafted request) is refused."""
    payment_id = payment_id_of(live_server, award_id, FIRST)
    expect(officer.get_by_role("button", name=re.compile(r"^Release \$"))).to_have_count(0)
    expect(officer.get_by_role("region", name="Payment of this milestone")).to_contain_text(
        f"Released once the report for “{FIRST}” is accepted.")
    token = officer.locator("input[name=csrf_token]").first.get_attribute("value")
    response = officer.request.post(f"/manage/payments/{payment_id}/release",
                                    form={"csrf_token": token, "back": "milestone", "method": "check", "confirm": "y"},
                                    max_redirects=0)
    assert response.status == 302, response.status
    officer.goto(response.headers["location"])
    expect(officer.get_by_role("alert").filter(has_text="This payment is released once the report")).to_contain_text(
        f"This payment is released once the report for “{FIRST}” is accepted")
    expect(officer.get_by_role("region", name="Payment of this milestone")).to_contain_text("Scheduled")


def ask_for_a_revision(officer: Page, shot) -> None:
    officer.reload()
    decide_region = officer.get_by_role("region", name="Decide on version 1")
    expect(decide_region).to_be_visible()
    version = officer.get_by_role("article").first
    expect(version).to_contain_text(NARRATIVE.split(";")[0])
    expect(version).to_contain_text(PDF_NAME)
    for organisation in (name for _email, name in PARTNERS):
        expect(version).to_contain_text(organisation)
    shot("officer-milestone-review", officer)
    assert_accessible(officer)
    officer.get_by_label("What needs to change").fill(REVISION_COMMENTS)
    officer.get_by_role("button", name="Ask for a revision").click()
    expect(flash(officer)).to_contain_text(f"The report for “{FIRST}” is returned to the grantee with your comments.")
    shot("officer-revision-requested", officer)


def revise(grantee: Page, live_server, shot) -> None:
    mail = live_server.last_mail(recipient=GRANTEE, kind="report_revision_requested")
    assert REVISION_COMMENTS in mail.body, mail.body
    grantee.reload()
    request = grantee.get_by_role("alert").filter(has_text="asked for a revision")
    expect(request).to_contain_text("The program officer asked for a revision of version 1")
    expect(request).to_contain_text(REVISION_COMMENTS)
    expect(heading(grantee)).to_have_text(f"Report: {FIRST}")
    # The form starts from version 1, its document included.
    expect(grantee.get_by_label("Narrative", exact=True)).to_have_value(NARRATIVE)
    expect(grantee.get_by_label(f"Leave out {PDF_NAME}")).not_to_be_checked()
    shot("grantee-revision-requested", grantee)
    assert_accessible(grantee)
    grantee.get_by_label("Narrative", exact=True).fill(REVISED_NARRATIVE)
    for label, value in REVISED_METRICS.items():
        grantee.get_by_label(label, exact=True).fill(str(value))
    grantee.get_by_role("button", name="Submit the report").click()
    expect(flash(grantee)).to_contain_text("Version 2 of the report is submitted.")
    versions = grantee.get_by_role("region", name="Submitted versions")
    expect(versions.get_by_role("article")).to_have_count(2)
    latest, first = versions.get_by_role("article").nth(0), versions.get_by_role("article").nth(1)
    expect(latest).to_contain_text("Version 2")
    expect(latest).to_contain_text("410 residents")
    expect(latest).to_contain_text(PDF_NAME)
    expect(first).to_contain_text("Version 1")
    expect(first).to_contain_text("Revision requested")
    expect(first).to_contain_text(REVISION_COMMENTS)
    first.get_by_text("Show version 1").click()
    expect(first).to_contain_text("350")
    shot("grantee-resubmitted", grantee)


# --- 4. acceptance and the payment ---------------------------------------------------------------

def set_targets(officer: Page, shot) -> None:
    officer.reload()
    targets = officer.get_by_role("region", name="Outcome targets")
    expect(targets).to_contain_text("No targets are set for this milestone.")
    targets.get_by_label("Community members reached (people)", exact=True).fill(str(TARGET_REACHED))
    targets.get_by_label("Trusted messengers trained (people)", exact=True).fill("12")
    targets.get_by_role("button", name="Save the targets").click()
    expect(flash(officer)).to_contain_text(f"The targets of “{FIRST}” are saved.")
    table = officer.get_by_role("region", name="Outcome targets").get_by_role("table")
    expect(table.get_by_role("row").filter(has_text="Community members reached")).to_contain_text("Short by 90")
    expect(table.get_by_role("row").filter(has_text="Trusted messengers trained")).to_contain_text("Met")
    shot("officer-targets", officer)
    assert_accessible(officer)


def accept_and_hold(officer: Page, shot) -> None:
    decide_region = officer.get_by_role("region", name="Decide on version 2")
    expect(decide_region).to_contain_text("falls short of the targets: Community members reached")
    officer.get_by_label("Comments to the grantee (optional)").fill("Thank you: a clear baseline.")
    # Without a choice the report is not accepted, and the page says why.
    officer.get_by_role("button", name="Accept the report").click()
    expect(officer.get_by_role("alert").filter(has_text="falls short")).to_contain_text(
        "Choose whether to release the payment all the same or hold it pending a revised plan.")
    officer.get_by_label("Hold it pending a revised plan from the grantee").check()
    officer.get_by_label("Reason", exact=True).fill(HOLD_REASON)
    shot("officer-shortfall-choice", officer)
    assert_accessible(officer)
    officer.get_by_role("button", name="Accept the report").click()
    expect(flash(officer)).to_contain_text(
        f"The report for “{FIRST}” is accepted. Its payment is held until you accept the grantee's revised plan.")
    payment = officer.get_by_role("region", name="Payment of this milestone")
    expect(payment).to_contain_text("Held pending a revised plan")
    expect(payment).to_contain_text(HOLD_REASON)
    expect(payment.get_by_role("button", name=re.compile(r"^Release \$"))).to_have_count(0)


def grantee_sends_a_revised_plan(grantee: Page, shot, *, milestone_url: str) -> None:
    grantee.goto(milestone_url)
    payment = grantee.get_by_role("region", name="The payment of this milestone")
    expect(payment).to_contain_text("the report fell short of the targets")
    expect(payment).to_contain_text(HOLD_REASON)
    expect(grantee.get_by_role("region", name="Outcome targets of this milestone")).to_contain_text("Short by 90")
    shot("grantee-payment-held", grantee)
    assert_accessible(grantee)
    payment.get_by_label("Your revised plan").fill(REVISED_PLAN)
    payment.get_by_role("button", name="Submit the revised plan").click()
    expect(flash(grantee)).to_contain_text("Your revised plan is submitted.")
    expect(grantee.get_by_role("region", name="The payment of this milestone")).to_contain_text(REVISED_PLAN)


def accept_the_plan_release_and_pay(officer: Page, shot) -> None:
    officer.reload()
    payment = officer.get_by_role("region", name="Payment of this milestone")
    expect(payment).to_contain_text(REVISED_PLAN)
    payment.get_by_role("button", name=re.compile("^Accept the revised plan")).click()
    expect(flash(officer)).to_contain_text("The revised plan is accepted. The payment can now be released.")
    payment = officer.get_by_role("region", name="Payment of this milestone")
    payment.get_by_label("Paid by").select_option(label="Bank transfer (ACH or wire)")
    payment.get_by_label(f"I confirm: release {dollars(FIRST_PAYMENT)} to the grantee").check()
    shot("officer-release-confirm", officer)
    assert_accessible(officer)
    payment.get_by_role("button", name=f"Release {dollars(FIRST_PAYMENT)}").click()
    expect(flash(officer)).to_contain_text(
        f"The payment of {dollars(FIRST_PAYMENT)} is released, to be paid by bank transfer (ACH or wire). "
        "Mark it paid once the money has gone out.")
    expect(payment).to_contain_text("Released")
    shot("officer-payment-released", officer)
    today = today_in_the_call().date()
    expect(payment.get_by_label("Paid on")).to_have_value(today.isoformat())
    payment.get_by_label("Reference").fill(PAYMENT_REFERENCE)
    payment.get_by_label("I confirm: the money has gone out").check()
    payment.get_by_role("button", name=re.compile("^Mark paid")).click()
    expect(flash(officer)).to_contain_text(
        f"The payment of {dollars(FIRST_PAYMENT)} is recorded as paid on {format_date(today)}, "
        f"reference {PAYMENT_REFERENCE}.")
    expect(payment).to_contain_text("Paid")
    expect(payment).to_contain_text(f"reference {PAYMENT_REFERENCE}")
    shot("officer-payment-paid", officer)
    assert_accessible(officer)


def award_history_shows_the_payment(officer: Page, *, award_id: int) -> None:
    officer.goto(f"/manage/awards/{award_id}")
    history = officer.get_by_role("region", name="History")
    for text in ("Held", HOLD_REASON, "Plan submitted", REVISED_PLAN, "Plan accepted", "by bank transfer (ACH or wire)",
                 f"reference {PAYMENT_REFERENCE}"):
        expect(history).to_contain_text(text)


def portfolio_shows_it(officer: Page, shot, *, before, reference: str) -> None:
    officer.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=f"Portfolio of {CALL_TITLE}").click()
    funds, metrics = portfolio_figures(officer)
    old_funds, old_metrics = before
    assert funds["Awarded"] == old_funds["Awarded"] + AMOUNT, funds
    assert funds["Released"] == old_funds["Released"] + FIRST_PAYMENT, funds
    assert funds["Paid"] == old_funds["Paid"] + FIRST_PAYMENT, funds
    assert funds["Remaining"] == old_funds["Remaining"] + AMOUNT - FIRST_PAYMENT, funds
    # The latest accepted report's figures (version 2), added to the other awards'.
    for name, value in REVISED_METRICS.items():
        total, reporting = old_metrics[name]
        assert metrics[name] == (total + value, reporting + 1), (name, metrics[name], old_metrics[name])
    # The award's own row: $120,000 of the $210,000 requested goes to the community partners.
    row = officer.get_by_role("region", name="By award").get_by_role("row").filter(has_text=reference)
    cells = cells_of(row)
    # Awarded, of it accepted and offered (not yet accepted), released, paid, remaining, community.
    assert cells[1:9] == ["Active", dollars(AMOUNT), dollars(AMOUNT), "$0", dollars(FIRST_PAYMENT),
                          dollars(FIRST_PAYMENT), dollars(AMOUNT - FIRST_PAYMENT),
                          f"{dollars(AMOUNT * 120 / 210)} (57.1%)"], cells
    shot("officer-portfolio", officer)
    assert_accessible(officer)


def grantee_dashboard_shows_it(grantee: Page, shot, *, award_id: int) -> None:
    grantee.goto(f"/awards/{award_id}")
    first = grantee.get_by_role("region", name="Milestones and payments").get_by_role("row").filter(has_text=FIRST)
    expect(first).to_contain_text("Accepted")
    expect(first).to_contain_text("Paid")
    expect(first).to_contain_text(f"by bank transfer (ACH or wire), reference {PAYMENT_REFERENCE}")
    grantee.get_by_role("link", name="Reports and payments across all your awards").click()
    expect(heading(grantee)).to_have_text("Reports and payments")
    card = grantee.get_by_role("region", name=re.compile(re.escape(TITLE)))
    assert definition(card, "Award") == dollars(AMOUNT)
    assert definition(card, "Released") == dollars(FIRST_PAYMENT)
    assert definition(card, "Paid") == dollars(FIRST_PAYMENT)
    assert definition(card, "Still to be paid") == dollars(AMOUNT - FIRST_PAYMENT)
    row = card.get_by_role("row").filter(has_text=FIRST)
    expect(row).to_contain_text(dollars(FIRST_PAYMENT))
    expect(row).to_contain_text(f"Paid released {format_date(today_in_the_call())}")
    expect(row).to_contain_text(f"paid on {format_date(today_in_the_call())}")
    shot("grantee-dashboard", grantee)
    assert_accessible(grantee)


def outsider_gets_404(outsider: Page, *, award_id: int, milestone_url: str) -> None:
    log_in(outsider, OUTSIDER)
    for url in (f"/awards/{award_id}", milestone_url):
        response = outsider.goto(url)
        assert response.status == 404, (url, response.status)
        expect(heading(outsider)).to_have_text("Page not found")
        expect(outsider.get_by_role("main")).not_to_contain_text(TITLE)


# --- the journey ------------------------------------------------------------------------------

def test_award_from_decision_to_paid_milestone(page: Page, open_page, live_server, shot):
    officer = page
    log_in(officer, OFFICER)
    open_call_page(officer)
    officer.get_by_role("main").get_by_role("link", name="Portfolio", exact=True).click()
    before = portfolio_figures(officer)

    reference = decide(officer, shot)
    grantee = open_page()
    nothing_shows_before_the_release(grantee, shot)
    release(officer, live_server, shot, reference=reference)

    award_id = accept(grantee, shot)
    officer.get_by_role("link", name=f"Award of {dollars(AMOUNT)}").click()
    expect(heading(officer)).to_contain_text(f"Award: {TITLE}")
    expect(officer.get_by_role("region", name="The award")).to_contain_text(RATIONALE)
    shot("officer-award", officer)
    assert_accessible(officer)

    file_the_report(grantee, shot)
    milestone_url = grantee.url
    open_the_milestone(officer, award_id=award_id)
    release_refused_before_acceptance(officer, live_server, award_id=award_id)
    partners = {}
    partners_sign_off(open_page, live_server, shot, version=1, pages=partners)
    ask_for_a_revision(officer, shot)
    revise(grantee, live_server, shot)
    partners_sign_off(open_page, live_server, shot, version=2, pages=partners)
    set_targets(officer, shot)
    accept_and_hold(officer, shot)
    grantee_sends_a_revised_plan(grantee, shot, milestone_url=milestone_url)
    accept_the_plan_release_and_pay(officer, shot)
    award_history_shows_the_payment(officer, award_id=award_id)
    open_the_milestone(officer, award_id=award_id)

    portfolio_shows_it(officer, shot, before=before, reference=reference)
    grantee_dashboard_shows_it(grantee, shot, award_id=award_id)
    outsider_gets_404(open_page(), award_id=award_id, milestone_url=milestone_url)
