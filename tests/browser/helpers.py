"""What a person does in the browser again and again, and the page checks that go with it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.availability import require_playwright_module

require_playwright_module()

from playwright.sync_api import Page, expect  # noqa: E402 - only once it is known to be there

from grants.demo import DEMO_PASSWORD  # noqa: E402

__all__ = ["Page", "expect"]  # test modules take them from here, after the check above

ADMIN = "admin@grants.example"
OFFICER = "officer@grants.example"


def log_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form and land on a page showing the user's name in the header."""
    fill_login_form(page, email, password)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def fill_login_form(page: Page, email: str, password: str) -> None:
    if "/login" not in page.url:
        page.goto("/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()


def expect_field_error(page: Page, label: str, message: str) -> None:
    """The field is marked invalid and the message is read out with it (its description)."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(message)))


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def nav_labels(page: Page) -> list[str]:
    return [text.strip() for text in main_nav(page).get_by_role("listitem").all_inner_texts()]


# --- accessibility ----------------------------------------------------------------------

_ACCESSIBILITY_PROBLEMS_JS = Path(__file__).with_name("accessibility.js").read_text()


def accessibility_problems(page: Page) -> list[str]:
    """WCAG smoke checks of the rendered page: landmarks, one h1, labels, alt texts, lang,
    contrast of visible text. Returns what is wrong, in words.

    Call it once the page shown is the one meant (e.g. after expecting its heading): right
    after a click the old page may still be there, or the new one not yet styled."""
    page.wait_for_load_state("load")
    return page.evaluate(_ACCESSIBILITY_PROBLEMS_JS)


def assert_accessible(page: Page) -> None:
    problems = accessibility_problems(page)
    assert not problems, f"{page.url}:\n  " + "\n  ".join(problems)


def assert_skip_link_moves_focus_to_main(page: Page) -> None:
    """The first Tab reaches a visible skip link; following it puts focus on <main>."""
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.tagName") == "MAIN", "the skip link did not move focus"
