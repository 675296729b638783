"""Hostile input on the main forms (Hypothesis): never a server error, never markup stored
and shown unescaped, and a refused form comes back with a message and what was typed.

Each form is read from its page (every input, textarea and select it really has), then
posted with values drawn from hostile text (HTML and script, NUL, right-to-left marks,
100 000 characters), huge, negative and non-numeric amounts, impossible dates and, now and
then, a valid choice. Every example runs in a savepoint of its own. Marked `fuzz`:
`pytest -m "not fuzz"` leaves these out; FUZZ_EXAMPLES=20 runs fewer examples (200 by default).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.accounts.enums import OrganisationKind, Role
from grants.extensions import db

pytestmark = pytest.mark.fuzz

MARKUP = ("<script>fuzz()</script>", "<img src=x onerror=fuzz()>", "\"><svg onload=fuzz()>")
# What would run if any of MARKUP reached a page unescaped.
UNESCAPED = re.compile(r"<script>fuzz|<img src=x onerror|<svg onload")

HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(MARKUP),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "\r\n\t",
                     "=1+2", "'; DROP TABLE application; --", "%s%n", "{{ 7*7 }}", "../../etc/passwd"]),
    st.builds(lambda char: char * 255, st.sampled_from(["x", "é", "\u202e", "<"])),
    st.tuples(st.text(max_size=10), st.sampled_from(MARKUP)).map("".join),
)
AMOUNTS = st.one_of(
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "-1", "0", "1e400", "NaN", "-0", "1,000,000.999", "$-5", "\u0661\u0662", "9" * 400]),
)
# One field of an example may get 100 000 characters (more would only slow the suite down).
HUGE = st.sampled_from(["x", "é", "\u202e", "<", "\x00"]).map(lambda char: char * 100_000)
DATES = st.sampled_from(["0000-00-00", "9999-12-31T23:59", "2026-02-30", "1-1-1", "2026-13-01T25:61", "yesterday",
                         "", "10000-01-01", "1969-12-31T23:59"])


@dataclass
class Form:
    action: str
    fields: dict = field(default_factory=dict)  # name -> ("text" | "password" | "hidden" | ..., default, options)


class _FormParser(HTMLParser):
    """The POST forms of a page: their action and fields (hidden ones with their values)."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("method", "get").lower() == "post":
            self.forms.append(Form(action=attributes.get("action") or ""))
        elif not self.forms:
            return
        elif tag in ("input", "textarea") and attributes.get("name"):
            kind = attributes.get("type", "text") if tag == "input" else "textarea"
            if kind in ("submit", "button", "file"):
                if kind == "submit" and attributes.get("value"):
                    self.forms[-1].fields.setdefault(attributes["name"], ("submit", attributes["value"], []))
                return
            self.forms[-1].fields[attributes["name"]] = (kind, attributes.get("value", ""), [])
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self.forms[-1].fields[self._select] = ("select", "", [])
        elif tag == "option" and self._select:
            self.forms[-1].fields[self._select][2].append(attributes.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def read_form(client, url: str) -> Form:
    """The biggest POST form of the page at ``url``."""
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    parser = _FormParser()
    parser.feed(response.get_data(as_text=True))
    return max(parser.forms, key=lambda form: len(form.fields))


def values_for(form: Form, data) -> dict:
    """A value for every field: hidden ones (CSRF, version) as the page gave them."""
    values = {}
    huge = data.draw(st.sampled_from([None, *form.fields]), label="field with 100 000 characters")
    for name, (kind, default, options) in form.fields.items():
        if name == huge and kind not in ("hidden", "submit"):
            values[name] = data.draw(HUGE, label=name)
            continue
        if kind in ("hidden", "submit"):
            values[name] = default
            continue
        pick = [HOSTILE_TEXT, AMOUNTS, DATES]
        if options or kind in ("radio", "checkbox"):
            pick.append(st.sampled_from(options or [default]))
            pick.append(st.sampled_from(options or [default]))  # a valid choice half the time
        values[name] = data.draw(st.one_of(*pick), label=name)
    return values


def _kept(value: str) -> bool:
    # Text a form shows again as typed: short, printable, not trimmed away.
    return 0 < len(value) <= 40 and value.isprintable() and value == value.strip() and "\x00" not in value


@contextmanager
def own_savepoint():
    """One example's changes vanish before the next example starts."""
    connection = db.session.connection()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        db.session.expire_all()


def post_hostile(client, url: str, data) -> None:
    """Read the form at ``url``, post hostile values, check the answer; all in a savepoint."""
    with own_savepoint():
        form = read_form(client, url)
        values = values_for(form, data)
        response = client.post(form.action or url, data=values)
        page = response.get_data(as_text=True)
        assert response.status_code < 500
        assert not UNESCAPED.search(page), "markup from the form reached the page unescaped"
        if response.status_code in (400, 409, 422):
            assert "alert-danger" in page or "invalid-feedback" in page, "a refusal without a message"
            for name, value in values.items():
                kind = form.fields[name][0]
                if kind in ("text", "textarea", "email", "url", "tel", "search") and _kept(value):
                    assert str(escape(value)) in page, f"{name}: {value!r} was not kept"
        elif response.status_code in (302, 303) and not response.location.startswith("/login"):
            # Whatever was saved is shown escaped on the page the form leads to.
            shown = client.get(response.location)
            assert shown.status_code < 500
            assert not UNESCAPED.search(shown.get_data(as_text=True)), "stored markup shown unescaped"


FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")), deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


# --- the forms: each fixture gives a client (signed in where the form needs it) and the URL --

@pytest.fixture
def officer(make_user, make_organisation):
    return make_user(Role.PROGRAM_OFFICER, organisation=make_organisation("Funder"))


@pytest.fixture
def draft_application(make_user, make_organisation):
    from tests.applications.fixtures import make_application, make_call

    owner = make_user(Role.APPLICANT, organisation=make_organisation("Riverside Medical"))
    make_organisation("Eastside Alliance", kind=OrganisationKind.COMMUNITY_NONPROFIT)
    return make_application(make_call(), owner)


@pytest.fixture
def call_form(client, login, officer):
    from tests.calls.factories import build_call

    call = build_call(officer, title="Fuzzed call")
    login(officer)
    return client, f"/manage/calls/{call.id}/edit"


@pytest.fixture
def review_form(client, login, make_user, make_organisation):
    from tests.applications.fixtures import make_call
    from tests.reviews.fixtures import assign
    from tests.reviews.scoring_factories import light_application

    owner = make_user(Role.APPLICANT, organisation=make_organisation())
    reviewer = make_user(Role.REVIEWER, organisation=make_organisation())
    assignment = assign(light_application(make_call(), owner), reviewer)
    login(reviewer)
    return client, f"/reviews/assignments/{assignment.id}/review"


@pytest.fixture
def report_form(client, login, officer, make_user, make_organisation):
    from tests.applications.fixtures import make_call
    from tests.awards.fixtures import make_active_award
    from tests.reviews.scoring_factories import light_application

    owner = make_user(Role.APPLICANT, organisation=make_organisation())
    award = make_active_award(None, None, officer=officer, milestones=None,
                              application=light_application(make_call(), owner))
    login(owner)
    return client, f"/awards/{award.id}/milestones/{award.milestones[0].id}/report"


@pytest.fixture
def application_form(client, login, draft_application):
    login(draft_application.owner)
    return lambda section: (client, f"/applications/{draft_application.id}/{section}")


@FUZZ
@given(data=st.data())
def test_registration_form(client, data):
    post_hostile(client, "/register", data)


@FUZZ
@given(data=st.data())
def test_login_form(client, data):
    post_hostile(client, "/login", data)


@FUZZ
@given(data=st.data())
def test_call_editing_form(call_form, data):
    post_hostile(*call_form, data)


@FUZZ
@given(data=st.data())
def test_application_answers_form(application_form, data):
    post_hostile(*application_form("answers"), data)


@FUZZ
@given(data=st.data())
def test_partner_form(application_form, data):
    post_hostile(*application_form("partners"), data)


@FUZZ
@given(data=st.data())
def test_budget_line_form(application_form, data):
    post_hostile(*application_form("budget"), data)


@FUZZ
@given(data=st.data())
def test_review_scoring_form(review_form, data):
    post_hostile(*review_form, data)


@FUZZ
@given(data=st.data())
def test_milestone_report_form(report_form, data):
    post_hostile(*report_form, data)
