"""axe-core on every page the browser tests are served, as whoever is logged in.

The live server keeps the first HTML page it serves for each (URL rule, viewer's roles,
status): every page a test visits, a form sent back with its errors included. After each
test the pages not checked yet are shown again, exactly as served, in a browser context of
their own (their stylesheets come from the live server) and axe-core runs on each. Serious
and critical violations fail the test that was served the page, so a page cannot regress
unseen because no test called the check on it.

(Checking in the test's own page would race the test: an event handler runs beside it,
and the test has often moved on, destroying the page, before axe is done.)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe

FAILING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class ServedPage:
    url: str
    body: bytes


@dataclass
class AxeWatch:
    axe: Axe = field(default_factory=Axe)
    # (URL rule, roles, status) -> the page as first served; filled by the server's threads.
    served: dict[tuple, ServedPage] = field(default_factory=dict)
    checked: set[tuple] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: tuple, url: str, body: bytes) -> None:
        with self._lock:
            self.served.setdefault(key, ServedPage(url, body))

    def install(self, app) -> None:
        """Keeps what ``app`` serves: HTML answers below 500, once per key."""
        from flask import request
        from flask_login import current_user

        @app.after_request
        def keep_served_page(response):
            # A page a person is shown: the browser asked for HTML (not an icon or a script).
            wanted = "text/html" in request.headers.get("Accept", "")
            if (wanted and response.mimetype == "text/html" and response.status_code < 500
                    and not response.direct_passthrough):
                roles = tuple(sorted(role.value for role in getattr(current_user, "roles", ()) or ()))
                rule = request.url_rule.rule if request.url_rule else request.path
                self.record((rule, roles, response.status_code), request.url, response.get_data())
            return response

    def check_new_pages(self, browser) -> list[str]:
        """Runs axe on each page served since the last call; returns what is wrong, in words."""
        with self._lock:
            pending = {key: page for key, page in self.served.items() if key not in self.checked}
            self.checked.update(pending)
        if not pending:
            return []
        problems = []
        context = browser.new_context()
        try:
            page = context.new_page()
            for key, served in pending.items():
                problems += self.check_page(page, served, key)
        finally:
            context.close()
        return problems

    def check_page(self, page, served: ServedPage, key: tuple = ()) -> list[str]:
        def show(route):
            route.fulfill(body=served.body, content_type="text/html; charset=utf-8")

        page.route(served.url, show)
        try:
            page.goto(served.url)
            results = self.axe.run(page)
        finally:
            page.unroute(served.url, show)
        problems = []
        for violation in results.response.get("violations", []):
            if violation.get("impact") in FAILING_IMPACTS:
                targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
                viewer = "/".join(key[1]) if len(key) > 1 and key[1] else "anonymous"
                problems.append(f"{served.url} as {viewer} [{violation['impact']}] {violation['id']}: "
                                f"{violation['help']} ({len(violation['nodes'])}× e.g. {targets})")
        return problems
