"""Browser-test harness: the real app on a live server, driven by Debian's Chromium.

- Every test in this folder is marked ``browser``. Without Chromium (``/usr/bin/chromium``
  or ``GRANTS_CHROMIUM``) the tests are skipped with the reason; with
  ``GRANTS_REQUIRE_BROWSER=1`` (CI) a missing browser fails them instead.
- ``live_server`` runs ``grants.create_app`` with CSRF on, in a background thread, on its
  own database: a temporary SQLite file, or a fresh ``<name>_browser`` database when
  TEST_DATABASE_URL points at PostgreSQL. The schema is built by the real migrations and
  the demo data is loaded, so tests log in as the demo users.
- ``page`` is a fresh browser context per test; ``open_page()`` gives more, each in a context
  of its own (another person logged in elsewhere); ``shot`` saves numbered screenshots to
  test-artifacts/screenshots/<test>/, and a failing test leaves one of the last page of each.

The unit-test fixtures wrap *their* app's database in a rolled-back transaction by swapping
the shared ``db.session``; a live server must never see that session, so ``database`` is
overridden here with a no-op.
"""

from __future__ import annotations

import logging.config
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.availability import browser_is_required, browser_unavailable_reason, chromium_executable, refuse
from tests.browser.axe_watch import AxeWatch

BROWSER_TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BROWSER_TESTS_DIR.parent.parent
SCREENSHOTS_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
# Long enough for a loaded CI machine, short enough that a wrong locator fails fast.
ACTION_TIMEOUT_MS = 10_000


# --- marking and skipping ---------------------------------------------------------------

def _in_this_folder(item: pytest.Item) -> bool:
    return BROWSER_TESTS_DIR in Path(item.path).resolve().parents


def pytest_configure(config):
    config.addinivalue_line("markers", "changes_the_demo_call: moves the demo's open call past review "
                                       "(decisions, awards); runs after the browser tests that start from it")


def pytest_collection_modifyitems(config, items):
    reason = browser_unavailable_reason()
    for item in items:
        if not _in_this_folder(item):
            continue
        item.add_marker(pytest.mark.browser)
        if reason and not browser_is_required():
            item.add_marker(pytest.mark.skip(reason=f"browser test skipped: {reason}"))
    # The live server and its demo data are shared by the package: a journey that ends the demo
    # call's review (the award journey) goes last, whatever the order of the file names.
    items.sort(key=lambda item: item.get_closest_marker("changes_the_demo_call") is not None)


_phase_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Kept on the item so the `page` fixture can tell at teardown whether the test failed.
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


@pytest.fixture(autouse=True)
def database():
    """Overrides tests/conftest.py's transaction wrapper: it swaps the shared ``db.session``
    for one bound to the unit-test connection, which the live server's requests would use."""
    yield None


# --- the live server --------------------------------------------------------------------

@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str
    kind: str

    def link(self, path_prefix: str = "") -> str:
        """The first link in the body (that contains ``path_prefix``)."""
        for url in re.findall(r"https?://\S+", self.body):
            if path_prefix in url:
                return url
        raise AssertionError(f"no link containing {path_prefix!r} in this e-mail:\n{self.body}")


@dataclass
class LiveServer:
    app: object
    url: str
    # Exceptions raised inside requests; the `page` fixture fails a test that caused one.
    errors: list[str] = field(default_factory=list)
    # Every HTML page served, for axe-core (before the first request: Flask refuses hooks later).
    axe: AxeWatch = field(default_factory=AxeWatch)

    def outbox(self, *, recipient: str | None = None, kind: str | None = None) -> list[Mail]:
        """E-mails the live app queued so far, oldest first, read through its own context."""
        from sqlalchemy import select

        from grants.extensions import db
        from grants.notifications.models import OutboxMessage

        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if recipient is not None:
            query = query.where(OutboxMessage.recipient == recipient)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        with self.app.app_context():
            return [Mail(m.recipient, m.subject, m.body, m.kind) for m in db.session.scalars(query)]

    def last_mail(self, *, recipient: str, kind: str) -> Mail:
        mails = self.outbox(recipient=recipient, kind=kind)
        assert mails, f"no {kind!r} e-mail was queued for {recipient}"
        return mails[-1]

    def add_user(self, *, email: str, full_name: str, organisation: str, password: str) -> None:
        """An active applicant of a demo organisation, for a test that changes its user (a new
        password): the demo users stay as other tests expect them."""
        from sqlalchemy import select

        from grants.accounts.enums import Role
        from grants.accounts.models import Organisation
        from grants.accounts.services import create_user
        from grants.extensions import db

        with self.app.app_context():
            organisation_row = db.session.scalars(select(Organisation).where(Organisation.name == organisation)).one()
            create_user(email=email, full_name=full_name, password=password, organisation=organisation_row,
                        roles={Role.APPLICANT}, created_by=None)
            db.session.commit()


@contextmanager
def _separate_database(tmp_dir: Path) -> Iterator[str]:
    """A database for the live server alone: never the one the unit tests roll back."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_dir / 'browser.sqlite3'}"
        return

    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database or 'grants'}_browser"

    def maintenance(statement: sql.Composable) -> None:
        with psycopg.connect(host=base.host, port=base.port, user=base.username, password=base.password,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    maintenance(drop)
    maintenance(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        maintenance(drop)


def _migrate_and_load_demo(app) -> None:
    import flask_migrate

    from grants.demo import load_demo_data
    from grants.extensions import db

    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        # migrations/env.py calls logging.config.fileConfig, which closes every logging
        # handler of this process (pytest's included) and resets the root logger; the schema
        # is what is under test here, not alembic's logging.
        patch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
        flask_migrate.upgrade()
        load_demo_data()
        db.session.commit()


@pytest.fixture(scope="package")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from flask import got_request_exception
    from werkzeug.serving import make_server

    from config.settings import TestConfig
    from grants import create_app
    from grants.extensions import db

    tmp_dir = tmp_path_factory.mktemp("live-server")
    with _separate_database(tmp_dir) as database_url:
        app = create_app(
            TestConfig,
            SQLALCHEMY_DATABASE_URI=database_url,
            # The browser must meet the real CSRF protection.
            WTF_CSRF_ENABLED=True,
            # No RATELIMIT_ENABLED=False: Flask-Limiter keeps `enabled` on its one shared
            # instance, so it would switch throttling off for the unit tests' app as well.
            # TestConfig's login limit is one no test reaches.
            STORAGE_LOCAL_PATH=str(tmp_dir / "attachments"),
            # Show the friendly 500 page, as production does; the error is still recorded.
            PROPAGATE_EXCEPTIONS=False,
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        live = LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
        live.axe.install(app)
        # E-mailed links must point at this server.
        app.config["BASE_URL"] = live.url

        def record_error(_sender, exception, **_extra):
            live.errors.append(f"{type(exception).__name__}: {exception}")

        got_request_exception.connect(record_error, app, weak=False)
        try:
            _migrate_and_load_demo(app)
            thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
            thread.start()
            try:
                yield live
            finally:
                server.shutdown()
                thread.join(timeout=10)
        finally:
            server.server_close()
            got_request_exception.disconnect(record_error, app)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# --- the browser ------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser():
    reason = browser_unavailable_reason()
    if reason:
        # Only reached when GRANTS_REQUIRE_BROWSER is set; otherwise the test was skipped.
        refuse(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_executable(), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="package", autouse=True)
def _fresh_screenshots():
    # Screenshots of an earlier run would be mistaken for this one's.
    shutil.rmtree(SCREENSHOTS_DIR, ignore_errors=True)
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)


def _file_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text)


def _screenshot_dir(request) -> Path:
    return SCREENSHOTS_DIR / _file_name(request.node.name)


def _screenshot_of_failure(the_page, target: Path, name: str = "FAILED.png") -> None:
    from playwright.sync_api import Error

    target.mkdir(parents=True, exist_ok=True)
    try:
        the_page.screenshot(path=target / name, full_page=True)
    except Error as exc:  # a crashed page must not hide the test's own failure
        print(f"no screenshot of the failure: {exc}", file=sys.stderr)


@pytest.fixture(scope="package")
def axe_watch(live_server):
    """axe-core on every page the live server serves to any browser test (axe_watch.py)."""

    watch = live_server.axe
    yield watch
    print(f"\naxe-core checked {len(watch.checked)} distinct pages × roles × answers", file=sys.stderr)


def _new_context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US",
                                  timezone_id="UTC")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser, live_server, axe_watch, request):
    """A fresh browser context (no cookies) with one page, at 1280 px wide."""
    live_server.errors.clear()
    context = _new_context(browser, live_server)
    the_page = context.new_page()
    try:
        yield the_page
        reports = request.node.stash.get(_phase_reports, {})
        if any(report.failed for report in reports.values()):
            _screenshot_of_failure(the_page, _screenshot_dir(request))
    finally:
        context.close()
    assert not live_server.errors, f"the server raised while serving this test: {live_server.errors}"
    problems = axe_watch.check_new_pages(browser)
    assert not problems, "axe-core found serious or critical violations:\n  " + "\n  ".join(problems)


@pytest.fixture
def open_page(browser, live_server, request):
    """``open_page()`` gives one more page in a browser context of its own (its own cookies):
    another person at another computer. A failing test leaves a screenshot of each."""
    contexts = []

    def open_one():
        context = _new_context(browser, live_server)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_one
        reports = request.node.stash.get(_phase_reports, {})
        if any(report.failed for report in reports.values()):
            target = _screenshot_dir(request)
            for number, context in enumerate(contexts, 1):
                for the_page in context.pages:
                    _screenshot_of_failure(the_page, target, f"FAILED-other-{number}.png")
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def shot(page, request):
    """``shot("name")`` saves a full-page screenshot as NN-name.png for this test."""
    target = _screenshot_dir(request)
    counter = iter(range(1, 1000))

    def take(name: str, the_page=None) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{next(counter):02d}-{_file_name(name)}.png"
        (the_page or page).screenshot(path=path, full_page=True)
        return path

    return take
