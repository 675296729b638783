"""Hostile input on every form of the app: every POST route of the URL map, by an actor who
may use it, gets 100 000-character strings, NUL and right-to-left characters, HTML and
script, huge, negative and non-numeric amounts, dates of year 0 and 9999, missing and
duplicated fields and ids no table holds.

For every case: never a server error (5xx); no markup from the input shown unescaped, on the
answer or on the page a redirect leads to; a refused form (400, 409, 422) says why and shows
again what was typed; a refusal (400, 403, 404, 409, 422) changes nothing in the database
(the audit log's security events aside).

The forms and their fields are read from the pages themselves (every page of the route
matrix each actor may open), so a new field is fuzzed without a change here, and a new POST
route without an entry in TARGETS fails test_every_post_route_has_hostile_input.

The cases are generated, deterministically: the default run posts core_cases (about 15 per
form: each kind of hostile value the issue names once, in every field at once; a missing, a
duplicated and an unknown field; a huge id in the URL); `pytest -m fuzz` posts cases_for
(at least FULL_CASES = 200 per form: every value in each field alone too). tests/test_fuzz_forms.py adds Hypothesis' random search on the main forms.
"""

from __future__ import annotations

import random
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from markupsafe import escape
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from grants.extensions import db
from tests.test_fuzz_forms import UNESCAPED, _FormParser, _kept
from tests.test_route_matrix import MATRIX, OK, ROUTES, built_world, database  # noqa: F401 - a fixture

FULL_CASES = 200

HUGE_ID = str(2**63)
MARKUP = ("<script>fuzz()</script>", "<img src=x onerror=fuzz()>", "\"><svg onload=fuzz()>")
# label -> value; every kind the issue names, each a case of its own.
HOSTILE_VALUES: dict[str, str] = {
    "100k": "x" * 100_000,
    "100k-accents": "é" * 100_000,
    "nul": "a\x00b",
    "only-nul": "\x00",
    "rtl-override": "\u202eevil\u202c.pdf",
    "rtl-hebrew": "\u200f\u05e9\u05dc\u05d5\u05dd",
    "script": MARKUP[0],
    "img-onerror": MARKUP[1],
    "svg-attribute-break": MARKUP[2],
    "markup-after-text": "Community " + MARKUP[0],
    "negative": "-1",
    "negative-huge": "-" + "9" * 30,
    "huge-amount": "9" * 400,
    "exponent": "1e400",
    "nan": "NaN",
    "infinity": "Infinity",
    "money-typo": "1,000,000.999",
    "negative-money": "$-5",
    "arabic-digits": "\u0661\u0662",
    "not-a-number": "twelve",
    "year-9999": "9999-12-31",
    "year-9999-time": "9999-12-31T23:59",
    "year-0": "0000-01-01",
    "year-0-time": "0000-00-00T00:00",
    "year-10000": "10000-01-01",
    "feb-30": "2026-02-30",
    "huge-id": HUGE_ID,
    "huge-id-digits": "9" * 30,
    "zero": "0",
    "empty": "",
    "blank": "   ",
    "control": "\r\n\t\x07",
    "template": "{{ 7*7 }}",
    "sql": "'; DROP TABLE application; --",
    "format": "%s%n%x",
    "traversal": "../../etc/passwd",
    "formula": "=HYPERLINK(\"http://evil.example\")",
    "email-like": "a@b@c.example",
}
# The default run's cases: one of each kind the issue names, in every field at once.
CORE_LABELS = ("100k", "nul", "rtl-override", "markup-after-text", "svg-attribute-break", "negative-huge",
               "huge-amount", "not-a-number", "year-9999-time", "year-0", "huge-id")
# Hostile field names posted to every form beside its own (forms with no field but a button).
EXTRA_FIELDS = ("id", "user_id", "organisation_id", "amount", "status", "role", "version", "next")
# Refusals: the form, a rule or a stale version said no; or the object is not there.
REFUSED_FORM = (400, 401, 409, 422)
REFUSED = (*REFUSED_FORM, 403, 404, 405, 413)


@dataclass(frozen=True)
class Target:
    actor: str
    url: object = None  # world -> URL; None: the route matrix's URL
    page: object = None  # world -> URL of the page with the form; None: found on the actor's pages


def _matrix_actor(endpoint: str) -> str:
    expect = MATRIX[endpoint].expect
    return next(actor for actor in ("anonymous", "applicant", "program_officer", "admin", "reviewer",
                                    "partner_collaborator") if expect[actor] == OK)


def _draft(suffix):
    return lambda w: f"/applications/{w.draft_application.id}{suffix}"


# Every POST route: who posts to it, where. The route matrix's URL and first allowed actor
# unless the object there refuses everyone (a submitted application is read-only), when a
# draft of the applicant's stands in. Token routes take hostile tokens (their URL is fuzzed).
OVERRIDES: dict[str, Target] = {
    "applications.edit_partner": Target("applicant", lambda w: _draft(f"/partners/{w.draft_partner.id}/edit")(w)),
    "applications.remove_partner": Target("applicant", lambda w: _draft(f"/partners/{w.draft_partner.id}/remove")(w),
                                          page=_draft("/partners")),
    "applications.edit_budget_line": Target("applicant", lambda w: _draft(f"/budget/{w.draft_line.id}/edit")(w)),
    "applications.remove_budget_line": Target("applicant", lambda w: _draft(f"/budget/{w.draft_line.id}/remove")(w),
                                              page=_draft("/budget")),
    "applications.upload_document": Target(
        "applicant", lambda w: _draft(f"/documents/{w.draft_application.call.documents[0].id}")(w),
        page=_draft("/documents")),
    "accounts.reset_password": Target("anonymous"),
    "applications.accept_invitation": Target("partner_collaborator"),
    "reviews.accept_panel_invitation": Target("reviewer"),
    # Invitations answered from the home page: the matrix's are addressed to these two.
    "reviews.open_panel_invitation": Target("pending_reviewer"),
    "applications.open_invitation": Target("other_organisation"),
    # The button is on the invited letter of intent's own page.
    "applications.start_full_proposal": Target("applicant", page=lambda w: f"/applications/{w.invited_loi.id}"),
}


def _post_endpoints(app) -> dict[str, bool]:
    """endpoint -> whether it answers GET too (its form is on its own page)."""
    return {rule.endpoint: "GET" in rule.methods for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def _all_post_endpoints():
    from grants import create_test_app

    return sorted(_post_endpoints(create_test_app()))


POST_ENDPOINTS = _all_post_endpoints()
# Routes whose form no page of the world shows: a link from an e-mail (a token: its URL is
# fuzzed), or a button shown only in a state the world's objects are not in (a pending
# organisation, a deactivated user, a complete draft, a submitted report, a released payment,
# a closed review...). They get the hostile fields of EXTRA_FIELDS, missing and duplicated.
WITHOUT_PAGE = {
    "accounts.reset_password", "applications.accept_invitation", "reviews.accept_panel_invitation",
    "accounts.approve_organisation", "accounts.reactivate_user", "applications.partner_sign_off",
    "applications.submit_application", "applications.withdraw_application", "awards.accept_milestone_report",
    "awards.mark_payment_paid", "awards.release", "awards.release_payment", "awards.report_sign_off",
    "awards.request_milestone_revision", "calls.archive_call", "calls.move_item", "checkins.check_in",
    "reviews.confirm_proposal", "reviews.mark_stipend_paid", "reviews.undo_stipend_paid", "reviews.waive_conflict",
    # The world's call has no outcome metrics and no report fell short of a target; its open
    # invitation is addressed to someone who may not accept it.
    "awards.set_milestone_targets", "awards.submit_revised_plan", "awards.accept_revised_plan",
    "awards.return_revised_plan", "applications.open_invitation",
}
TARGETS: dict[str, Target] = {endpoint: OVERRIDES.get(endpoint) or Target(_matrix_actor(endpoint))
                              for endpoint in POST_ENDPOINTS if endpoint in OVERRIDES or endpoint in MATRIX}


@dataclass
class FormUnderTest:
    endpoint: str
    actor: str
    url: str
    fields: dict = field(default_factory=dict)  # name -> (kind, default, options), as test_fuzz_forms reads them
    found: bool = False  # the form was found on a page (else only hostile extra fields are posted)


def test_every_post_route_has_hostile_input(app):
    missing = {endpoint for endpoint in _post_endpoints(app) if endpoint not in TARGETS}
    assert missing == set(), "give these POST routes a Target (who posts to them, where)"
    assert OVERRIDES.keys() - _post_endpoints(app).keys() == set(), "OVERRIDES name routes that no longer exist"


# --- the world: the route matrix's, plus a partner and a budget line on the applicant's draft --

def _extend(world):
    from grants.applications.enums import BudgetCategory
    from grants.applications.services import add_budget_line, add_partner

    owner = world.draft_application.owner
    world.draft_partner = add_partner(world.draft_application, editor=owner, expected_version=None,
                                      organisation=world.partner_collaborator.organisation, contact_name="Pat Partner",
                                      contact_email="pat@partner.example", role_in_project="Outreach")
    world.draft_line = add_budget_line(world.draft_application, editor=owner, expected_version=None,
                                       category=BudgetCategory.PERSONNEL, description="Coordinator",
                                       amount_cents=1_000_000)


@pytest.fixture(scope="module")
def matrix(app):
    """The route matrix's world (one per module), with a partner and a budget line on the draft."""
    urls = {f"url:{endpoint}": target.url for endpoint, target in TARGETS.items() if target.url}
    urls |= {f"page:{endpoint}": target.page for endpoint, target in TARGETS.items() if target.page}
    with built_world(app, extend=_extend, extra_urls=urls) as built:
        yield built


@pytest.fixture(scope="module")
def forms(app, matrix):
    """Every POST route's form, read from the pages each actor may open."""
    facts, _connection = matrix
    pages = {}  # (actor, action) -> fields
    has_page = _post_endpoints(app)
    for actor in {target.actor for target in TARGETS.values()}:
        client = _client(app, facts, actor)
        urls = [facts.urls[endpoint] for endpoint, route in ROUTES.items()
                if route.method == "GET" and route.expect[actor] == OK]
        urls += [facts.extra_urls[f"page:{endpoint}"] for endpoint, target in TARGETS.items()
                 if target.page and target.actor == actor]
        urls += [facts.extra_urls[f"url:{endpoint}"] if target.url else facts.urls[endpoint]
                 for endpoint, target in TARGETS.items() if target.actor == actor and has_page[endpoint]]
        for url in dict.fromkeys(urls):
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            parser = _FormParser()
            parser.feed(response.get_data(as_text=True))
            for form in parser.forms:
                action = form.action or url
                if len(form.fields) >= len(pages.get((actor, action), {})):
                    pages[(actor, action)] = form.fields
    found = {}
    for endpoint, target in TARGETS.items():
        url = facts.extra_urls[f"url:{endpoint}"] if target.url else facts.urls[endpoint]
        fields = pages.get((target.actor, url))
        found[endpoint] = FormUnderTest(endpoint, target.actor, url, dict(fields or {}), fields is not None)
    return found


def _client(app, facts, actor):
    client = app.test_client()
    if actor != "anonymous":
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], facts.cookies[actor])
    return client


# --- the cases -----------------------------------------------------------------------------------

@dataclass
class Case:
    label: str
    url: str
    data: MultiDict
    typed: dict  # name -> value typed into a text field (what a refusal must show again)


def _editable(form: FormUnderTest) -> list[str]:
    return [name for name, (kind, _default, _options) in form.fields.items() if kind not in ("hidden", "submit")]


def _defaults(form: FormUnderTest) -> MultiDict:
    values = MultiDict()
    for name, (kind, default, options) in form.fields.items():
        if kind == "select" and options and not default:
            default = options[-1]
        values.add(name, default)
    return values


def _with(form: FormUnderTest, label: str, changes: dict, *, drop=(), duplicate=(), url=None) -> Case:
    data = _defaults(form)
    for name in drop:
        data.poplist(name)
    for name, value in changes.items():
        data.setlist(name, [value])
    for name in duplicate:
        data.add(name, HOSTILE_VALUES["script"])
    typed = {name: value for name, value in changes.items()
             if name in form.fields and form.fields[name][0] in ("text", "textarea", "email", "url", "tel", "search")
             and name not in duplicate}
    return Case(label, url or form.url, data, typed)


def _hostile_urls(url: str) -> list[str]:
    """``url`` with each id (or token) in its path replaced by hostile ones."""
    parts = url.split("/")
    urls = []
    for index, part in enumerate(parts):
        if part.isdigit() or (index == len(parts) - 1 and part == "not-a-token"):
            for value in (HUGE_ID, "9" * 30, "0"):
                urls.append("/".join([*parts[:index], value, *parts[index + 1:]]))
    if "not-a-token" in parts:
        for value in ("%00", "%E2%80%AE", "%3Cscript%3E", "x" * 5000):
            urls.append(url.replace("not-a-token", value))
    return urls


def core_cases(form: FormUnderTest) -> list[Case]:
    """Every kind of hostile value the issue names, in every field at once; a missing, a
    duplicated and an unknown field; a huge id in the URL."""
    editable = _editable(form) or list(EXTRA_FIELDS)
    cases = [_with(form, f"all fields {label}", {name: HOSTILE_VALUES[label] for name in editable})
             for label in CORE_LABELS]
    first = next(iter(form.fields), None)
    if first is not None:
        cases += [_with(form, f"without {first}", {}, drop=[first]), _with(form, f"{first} twice", {}, duplicate=[first])]
    cases.append(Case("no fields at all", form.url, MultiDict(), {}))
    cases.append(_with(form, "unknown fields", {name: HOSTILE_VALUES["huge-id"] for name in EXTRA_FIELDS}))
    cases += [_with(form, f"url {url}", {}, url=url) for url in _hostile_urls(form.url)[:1]]
    return cases


def cases_for(form: FormUnderTest, count: int) -> list[Case]:
    """At least ``count`` cases, the same on every run: every hostile value in every field at
    once and in each field alone, each field missing and duplicated, hostile ids in the URL,
    then random mixtures (seeded by the route) up to ``count``."""
    editable = _editable(form) or list(EXTRA_FIELDS)
    values = list(HOSTILE_VALUES.items())
    cases = [_with(form, f"all fields {label}", {name: value for name in editable}) for label, value in values]
    cases += [_with(form, f"{name} {label}", {name: value}) for label, value in values for name in editable]
    cases += [_with(form, f"without {name}", {}, drop=[name]) for name in form.fields]
    cases.append(Case("no fields at all", form.url, MultiDict(), {}))
    # Each field sent twice, the second time with markup.
    cases += [_with(form, f"{name} twice", {}, duplicate=[name]) for name in form.fields]
    cases.append(_with(form, "unknown fields", {name: HOSTILE_VALUES["huge-id"] for name in EXTRA_FIELDS}))
    cases += [_with(form, f"url {url}", {}, url=url) for url in _hostile_urls(form.url)]
    rng = random.Random(form.endpoint)
    while len(cases) < count:
        mixture = {name: rng.choice(values)[1] for name in editable if rng.random() < 0.7}
        cases.append(_with(form, f"mixture {len(cases)}", mixture))
    return cases


# --- posting them --------------------------------------------------------------------------------

@contextmanager
def writes_recorded(connection):
    """The statements run on ``connection`` meanwhile that insert, update or delete rows
    (security events in the audit log aside). The app's session is bound to it."""
    writes = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and "audit_event" not in statement.split("(")[0]:
            writes.append(statement.split("\n")[0][:120])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield writes
    finally:
        event.remove(connection, "before_cursor_execute", record)


def post_case(app, facts, connection, form: FormUnderTest, case: Case) -> int:
    """Post one case in a savepoint of its own and check the answer; returns its status."""
    where = f"{form.endpoint} as {form.actor}, case {case.label!r}: POST {case.url[:120]}"
    savepoint = connection.begin_nested()
    try:
        client = _client(app, facts, form.actor)
        with writes_recorded(connection) as writes:
            response = client.post(case.url, data=case.data)
        page = response.get_data(as_text=True)
        status = response.status_code
        assert status < 500, f"{where}: {status}"
        assert not UNESCAPED.search(page), f"{where}: markup from the form reached the page unescaped"
        if status in REFUSED:
            assert writes == [], f"{where}: refused ({status}) yet wrote {writes}"
        if status in REFUSED_FORM and form.found:
            # (A route whose form no page shows has no form to put the message on.)
            assert "alert-danger" in page or "invalid-feedback" in page, f"{where}: refused without a message"
            if response.mimetype == "text/html" and "<form" in page:
                for name, value in case.typed.items():
                    if _kept(value) and form.fields.get(name, ("",))[0] != "password":
                        assert str(escape(value)) in page, f"{where}: {name} = {value!r} was not kept"
        elif status in (302, 303) and response.location.startswith("/") and not response.location.startswith("/login"):
            shown = client.get(response.location)
            assert shown.status_code < 500, f"{where}: the page it leads to answered {shown.status_code}"
            assert not UNESCAPED.search(shown.get_data(as_text=True)), f"{where}: stored markup shown unescaped"
        return status
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()


def _run(app, forms, matrix, endpoint, count=None):
    facts, connection = matrix
    form = forms[endpoint]
    cases = cases_for(form, count) if count else core_cases(form)
    assert len(cases) >= (count or len(CORE_LABELS))
    statuses = [post_case(app, facts, connection, form, case) for case in cases]
    # Not one case may have been let through as if the route were not there or not theirs.
    assert set(statuses) - {200, 201, 302, 303, *REFUSED} == set(), f"{endpoint}: answers {sorted(set(statuses))}"


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_hostile_input_on_every_form(app, forms, matrix, endpoint):
    _run(app, forms, matrix, endpoint)


@pytest.mark.fuzz
@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_hostile_input_on_every_form_in_full(app, forms, matrix, endpoint):
    _run(app, forms, matrix, endpoint, FULL_CASES)


def test_a_change_through_a_form_is_seen_as_a_write(app, matrix):
    """The check that a refusal changed nothing sees the app's writes (else it proves nothing)."""
    facts, connection = matrix
    savepoint = connection.begin_nested()
    try:
        with writes_recorded(connection) as writes:
            response = _client(app, facts, "applicant").post(facts.urls["api_tokens.revoke"])
        assert response.status_code == 302
        assert any(statement.startswith("UPDATE api_token") for statement in writes), writes
    finally:
        db.session.remove()
        savepoint.rollback()


def test_forms_of_the_pages_are_found(forms):
    """Every route whose form is on a page the actor can open is fuzzed with its own fields."""
    lost = sorted(endpoint for endpoint, form in forms.items() if not form.found and endpoint not in WITHOUT_PAGE)
    assert lost == [], f"no page the actor can open has these forms: give their Target a page: {lost}"

