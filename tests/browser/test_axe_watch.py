"""The harness's axe-core watch (axe_watch.py) checks what the live server served, unasked."""

from __future__ import annotations

from tests.browser.axe_watch import AxeWatch, ServedPage

BROKEN_LIST = b"""<!doctype html><html lang="en"><head><title>Figures</title></head><body><main>
<h1>Figures</h1><dl><div><div><dt>Awarded</dt><dd>$1</dd></div></div></dl></main></body></html>"""


def test_a_served_page_with_a_serious_violation_is_reported(browser, live_server):
    watch = AxeWatch()
    watch.record(("/figures", ("program_officer",), 200), f"{live_server.url}/figures", BROKEN_LIST)

    problems = watch.check_new_pages(browser)

    assert any("definition-list" in problem and "program_officer" in problem for problem in problems), problems
    assert watch.check_new_pages(browser) == []  # each page once


def test_the_live_server_keeps_each_page_it_serves_once_per_viewer(page, live_server):
    page.goto("/calls")
    page.goto("/calls")

    kept = [key for key in live_server.axe.served if key[0] == "/calls" and key[1] == ()]
    assert kept == [("/calls", (), 200)]
    assert b"<main" in live_server.axe.served[kept[0]].body
