"""Every key page fits a phone: at 390 px wide (an iPhone 12-15) nothing makes the page
scroll sideways, for each role on the demo data. Wide tables scroll inside their own box
(.table-responsive) instead of widening the page.

Pages are found by following the links a person would (the first application on My
applications, the first call on Manage calls…), so the test does not depend on demo ids.
"""

from __future__ import annotations

import re

from tests.browser.helpers import ADMIN, OFFICER, Page, log_in, log_out

PHONE = {"width": 390, "height": 844}
APPLICANT = "applicant@riverside.example"
PARTNER = "applicant@eastside.example"
REVIEWER = "reviewer@westside.example"


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the phone (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth") - PHONE["width"]


def first_link(page: Page, pattern: str) -> str | None:
    """The first href on the page's main content that matches ``pattern`` (a regex on the path)."""
    hrefs = page.locator("main a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return next((href for href in hrefs if re.fullmatch(pattern, href.split("#")[0].split("?")[0])), None)


def visit_all(page: Page, paths: list[str]) -> dict[str, int]:
    """Each path opened at phone width: those wider than the phone, with the excess in px."""
    wide = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        excess = overflow(page)
        if excess > 0:
            wide[path] = excess
    return wide


def applicant_pages(page: Page) -> list[str]:
    page.goto("/applications")
    application = first_link(page, r"/applications/\d+")
    assert application, "the demo applicant has applications"
    page.goto("/calls")
    call = first_link(page, r"/calls/\d+")
    sections = [f"{application}/{name}" for name in ("partners", "budget", "documents", "collaborators")]
    return ["/", "/calls", call, "/applications", application, *sections, "/my/awards", "/account",
            "/my-organisation"]


def officer_pages(page: Page) -> list[str]:
    page.goto("/manage/calls")
    call = first_link(page, r"/manage/calls/\d+")
    assert call, "the demo has calls"
    page.goto(f"{call}/applications")
    application = first_link(page, r"/manage/applications/\d+")
    page.goto("/manage/portfolio")
    call_portfolio = first_link(page, r"/manage/calls/\d+/portfolio")
    page.goto(call_portfolio)
    award = first_link(page, r"/manage/awards/\d+")
    page.goto(award)
    milestone = first_link(page, r"/manage/milestones/\d+")
    return [p for p in ["/", "/manage/calls", call, f"{call}/applications", application, f"{call}/assignments",
                        f"{call}/ranking", f"{call}/decisions", "/manage/portfolio", call_portfolio, award, milestone,
                        "/organisations", "/audit/"] if p]


def test_key_pages_fit_a_phone_for_each_role(page: Page):
    page.set_viewport_size(PHONE)
    wide = {}
    for email, pages in ((APPLICANT, applicant_pages), (PARTNER, applicant_pages), (OFFICER, officer_pages),
                         (ADMIN, lambda _page: ["/", "/admin/users", "/admin/registrations", "/organisations"]),
                         (REVIEWER, lambda _page: ["/", "/reviews"])):
        page.goto("/login")
        log_in(page, email)
        wide.update({f"{email} {path}": px for path, px in visit_all(page, pages(page)).items()})
        log_out(page)
    anonymous = visit_all(page, ["/", "/calls", "/login", "/register"])
    wide.update({f"anonymous {path}": px for path, px in anonymous.items()})

    assert not wide, f"wider than a {PHONE['width']} px phone (px too wide): {wide}"
