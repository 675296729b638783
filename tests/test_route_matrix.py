"""Every URL rule × every kind of user: the expected answer, so no route ships unguarded.

A new route without an entry in MATRIX fails test_every_route_is_in_the_matrix.
Answers: OK (the page or action is served: 2xx, a redirect that is not to the login page,
or 400 for the empty form this test posts), LOGIN (redirect to the login page), 403, 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

import pytest

from grants.accounts.enums import OrganisationKind, Role, UserStatus
from grants.accounts.services import add_organisation_document
from grants.extensions import db

OK, LOGIN = "ok", "login"
ACTORS = ("anonymous", "applicant", "other_organisation", "reviewer", "program_officer", "admin")


@dataclass
class Route:
    method: str
    url: callable  # world -> str
    expect: dict  # actor -> answer


def everyone(answer):
    return {actor: answer for actor in ACTORS}


def signed_in(answer, anonymous=LOGIN):
    return {**everyone(answer), "anonymous": anonymous}


def only(*actors, others=403):
    return {**signed_in(others), **{actor: OK for actor in actors}}


ADMIN_ONLY = only("admin")
STAFF_ONLY = only("program_officer", "admin")
# The applicant's own organisation: its members and funder staff see it; anyone else gets a 404.
OWN_ORGANISATION = {**signed_in(404), "applicant": OK, "program_officer": OK, "admin": OK}
EDIT_OWN_ORGANISATION = {**signed_in(404), "applicant": 403, "program_officer": 403, "admin": OK}

MATRIX: dict[str, Route] = {
    "static": Route("GET", lambda w: "/static/css/grants.css", everyone(OK)),
    "core.home": Route("GET", lambda w: "/", everyone(OK)),
    "core.healthz": Route("GET", lambda w: "/healthz", everyone(OK)),
    "accounts.login": Route("GET", lambda w: "/login", everyone(OK)),
    "accounts.logout": Route("POST", lambda w: "/logout", signed_in(OK)),
    "accounts.register": Route("GET", lambda w: "/register", everyone(OK)),
    "accounts.forgot_password": Route("GET", lambda w: "/password/forgot", everyone(OK)),
    "accounts.reset_password": Route("GET", lambda w: "/password/reset/not-a-token", everyone(404)),
    "accounts.account": Route("GET", lambda w: "/account", signed_in(OK)),
    "accounts.my_organisation": Route("GET", lambda w: "/my-organisation", signed_in(OK)),
    "accounts.users": Route("GET", lambda w: "/admin/users", ADMIN_ONLY),
    "accounts.new_user": Route("GET", lambda w: "/admin/users/new", ADMIN_ONLY),
    "accounts.user_detail": Route("GET", lambda w: f"/admin/users/{w.applicant.id}", ADMIN_ONLY),
    "accounts.deactivate_user": Route("POST", lambda w: f"/admin/users/{w.applicant.id}/deactivate", ADMIN_ONLY),
    "accounts.reactivate_user": Route("POST", lambda w: f"/admin/users/{w.applicant.id}/reactivate", ADMIN_ONLY),
    "accounts.pending_registrations": Route("GET", lambda w: "/admin/registrations", ADMIN_ONLY),
    "accounts.approve_registration": Route("POST", lambda w: f"/admin/registrations/{w.pending.id}/approve",
                                           ADMIN_ONLY),
    "accounts.reject_registration": Route("POST", lambda w: f"/admin/registrations/{w.pending.id}/reject",
                                          ADMIN_ONLY),
    "accounts.organisations": Route("GET", lambda w: "/organisations", STAFF_ONLY),
    "accounts.new_organisation": Route("GET", lambda w: "/organisations/new", ADMIN_ONLY),
    "accounts.organisation_detail": Route("GET", lambda w: f"/organisations/{w.organisation.id}",
                                          OWN_ORGANISATION),
    "accounts.edit_organisation": Route("GET", lambda w: f"/organisations/{w.organisation.id}/edit",
                                        EDIT_OWN_ORGANISATION),
    "accounts.approve_organisation": Route("POST", lambda w: f"/organisations/{w.organisation.id}/approve",
                                           EDIT_OWN_ORGANISATION),
    "accounts.add_organisation_document": Route(
        "POST", lambda w: f"/organisations/{w.organisation.id}/documents",
        {**signed_in(404), "applicant": OK, "program_officer": 403, "admin": OK}),
    "accounts.download_organisation_document": Route(
        "GET", lambda w: f"/organisations/{w.organisation.id}/documents/{w.document.id}", OWN_ORGANISATION),
    "audit.log": Route("GET", lambda w: "/audit/", STAFF_ONLY),
}


@dataclass
class World:
    applicant: object
    other_organisation: object
    reviewer: object
    program_officer: object
    admin: object
    pending: object
    organisation: object
    document: object


@pytest.fixture
def world(make_user, make_organisation):
    funder = make_organisation("Funder", kind=OrganisationKind.OTHER)
    organisation = make_organisation("Riverside Medical")
    applicant = make_user(Role.APPLICANT, organisation=organisation)
    document = add_organisation_document(organisation, title="Registration", stream=BytesIO(b"%PDF-1.7\n%%EOF\n"),
                                         filename="registration.pdf", uploaded_by=applicant)
    world = World(
        applicant=applicant,
        other_organisation=make_user(Role.APPLICANT, organisation=make_organisation("Eastside Alliance",
                                                                                    kind=OrganisationKind.COMMUNITY_NONPROFIT)),
        reviewer=make_user(Role.REVIEWER, organisation=make_organisation("Northgate University")),
        program_officer=make_user(Role.PROGRAM_OFFICER, organisation=funder),
        admin=make_user(Role.ADMIN, organisation=funder),
        pending=make_user(status=UserStatus.PENDING),
        organisation=organisation,
        document=document,
    )
    db.session.commit()
    return world


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - MATRIX.keys() == set(), "add these routes to MATRIX with the answer each user should get"
    assert MATRIX.keys() - endpoints == set(), "MATRIX names routes that no longer exist"


def _answer(response) -> str:
    status = response.status_code
    if status in (302, 303) and response.location.startswith("/login"):
        return LOGIN
    if status in (200, 302, 303, 400):
        return OK
    return str(status) if status not in (403, 404) else status


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_answers_each_kind_of_user(client, login, world, endpoint, actor):
    route = MATRIX[endpoint]
    if actor != "anonymous":
        login(getattr(world, actor))
    response = client.open(route.url(world), method=route.method)
    try:
        assert _answer(response) == route.expect[actor], (
            f"{route.method} {route.url(world)} as {actor}: got {response.status_code}")
        if route.expect[actor] in (403, 404):
            # A refusal never carries the object's content.
            assert world.organisation.name not in response.get_data(as_text=True)
    finally:
        response.close()
