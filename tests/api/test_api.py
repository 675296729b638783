"""The JSON API: tokens (missing, bad, expired, revoked, out of scope), what each kind of user
sees through it (never more than on the pages), pagination at the edges, every response
against its schema, every use audited, and the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind, Role, UserStatus
from grants.api import schemas, services
from grants.audit.models import AuditEvent
from grants.awards import payments, targets
from grants.reports import services as reporting
from grants.awards.enums import PaymentMethod, ShortfallChoice
from grants.calls.enums import CallStatus
from grants.core.types import utcnow
from grants.extensions import db, limiter
from tests.applications.fixtures import make_applicant, make_application, make_call
from tests.reports.factories import officer_for, partner_users, reporting_award, submit

ALL = list(services.SCOPES)


@pytest.fixture
def world(make_user, make_organisation):
    """An active award (lead + two partners) with a submitted first report, a draft of the lead's,
    an officer, and an applicant of an unrelated organisation."""
    officer = officer_for(make_user, make_organisation)
    award = reporting_award(make_user, make_organisation, signoff=False)
    lead = award.application.owner
    submit(award.milestones[0], lead)
    draft = make_application(award.call, lead, title="A draft of the lead's") if award.call.is_open() else None
    outsider = make_applicant(make_user, make_organisation, name="Unrelated Clinic")
    hidden_call = make_call(title="A draft call", status=CallStatus.DRAFT)
    db.session.commit()
    return dict(officer=officer, award=award, lead=lead, partner=partner_users(award)[0], draft=draft,
                outsider=outsider, hidden_call=hidden_call)


def token_for(user, scopes=ALL, days=30) -> str:
    _token, secret = services.create_token(user, name="Test tool", scopes=scopes, lifetime_days=days)
    db.session.commit()
    return secret


SCHEMA_OF = {"/api/v1/calls": schemas.Page[schemas.Call], "/api/v1/applications": schemas.Page[schemas.Application],
             "/api/v1/awards": schemas.Page[schemas.Award], "/api/v1/milestones": schemas.Page[schemas.Milestone],
             "/api/v1/payments": schemas.Page[schemas.Payment], "/api/v1/outcomes": schemas.Page[schemas.Outcome],
             "/api/v1/portfolio": schemas.Portfolio}


def api(client, path, secret=None, *, expect=200, schema=None):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    response = client.get(path, headers=headers)
    assert response.status_code == expect, (path, response.get_json())
    body = response.get_json()
    if expect == 200:
        model = schema or SCHEMA_OF.get(path.split("?")[0])
        if model is not None:
            model.model_validate(body)  # the response is exactly what the OpenAPI document says
    else:
        schemas.Error.model_validate(body)
    return body


# --- tokens ------------------------------------------------------------------------------------

def test_no_token_or_a_bad_one_is_refused_with_a_reason(client, world):
    assert "Authorization: Bearer" in api(client, "/api/v1/calls", expect=401)["error"]
    assert "not valid" in api(client, "/api/v1/calls", "pgt_guessed", expect=401)["error"]
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.refused")).all()


def test_an_expired_or_revoked_token_stops_working(client, world):
    secret = token_for(world["lead"])
    api(client, "/api/v1/calls", secret)
    token = services.tokens_of(world["lead"])[0]
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "expired" in api(client, "/api/v1/calls", secret, expect=401)["error"]
    second = token_for(world["lead"])
    services.revoke_token(services.tokens_of(world["lead"])[0], user=world["lead"])
    db.session.commit()
    assert "revoked" in api(client, "/api/v1/calls", second, expect=401)["error"]


def test_a_deactivated_users_token_stops_working(client, world):
    secret = token_for(world["lead"])
    world["lead"].status = UserStatus.DEACTIVATED
    db.session.commit()
    assert "cannot log in" in api(client, "/api/v1/calls", secret, expect=401)["error"]


def test_a_token_reads_only_its_scopes(client, world):
    secret = token_for(world["officer"], scopes=["calls"])
    api(client, "/api/v1/calls", secret)
    assert "“awards” scope" in api(client, "/api/v1/awards", secret, expect=403)["error"]


def test_a_token_is_made_with_a_name_scope_and_lifetime():
    with pytest.raises(Exception, match="Name the token"):
        services.create_token(_user(), name=" ", scopes=["calls"], lifetime_days=30)


def _user():
    from tests.conftest import create_user

    return create_user(Role.APPLICANT)


# --- what each user sees -------------------------------------------------------------------------

def test_calls_published_for_everyone_and_drafts_for_staff(client, world):
    hidden = world["hidden_call"].id
    applicant = [call["id"] for call in api(client, "/api/v1/calls", token_for(world["outsider"]))["data"]]
    staff = [call["id"] for call in api(client, "/api/v1/calls", token_for(world["officer"]))["data"]]
    assert hidden not in applicant and hidden in staff
    api(client, f"/api/v1/calls/{hidden}", token_for(world["outsider"]), expect=404)
    api(client, f"/api/v1/calls/{hidden}", token_for(world["officer"]), schema=schemas.Call)


def test_applications_as_on_the_pages(client, world):
    application = world["award"].application
    ids = lambda user: {a["id"] for a in api(client, "/api/v1/applications", token_for(user))["data"]}  # noqa: E731
    assert application.id in ids(world["lead"]) and application.id in ids(world["partner"])
    assert ids(world["outsider"]) == set()
    staff = ids(world["officer"])
    assert application.id in staff
    if world["draft"] is not None:
        # A draft is its team's alone: funder staff do not see it, through the API either.
        assert world["draft"].id in ids(world["lead"]) and world["draft"].id not in staff
    api(client, f"/api/v1/applications/{application.id}", token_for(world["outsider"]), expect=404)
    body = api(client, f"/api/v1/applications/{application.id}", token_for(world["partner"]),
               schema=schemas.Application)
    assert body["lead_organisation"] == application.lead_organisation.name and len(body["partners"]) == 2


def test_review_figures_are_staff_only(client, world):
    call_id = world["award"].call_id
    api(client, f"/api/v1/calls/{call_id}/review-figures", token_for(world["officer"]),
        schema=schemas.Page[schemas.ReviewFigures])
    api(client, f"/api/v1/calls/{call_id}/review-figures", token_for(world["lead"]), expect=404)


def test_awards_milestones_payments_and_outcomes_of_ones_own_awards(client, world):
    award = world["award"]
    for user in (world["lead"], world["partner"], world["officer"]):
        secret = token_for(user)
        assert [a["id"] for a in api(client, "/api/v1/awards", secret)["data"]] == [award.id]
        milestones = api(client, f"/api/v1/milestones?award_id={award.id}", secret)["data"]
        assert [m["status"] for m in milestones][:1] == ["submitted"]
        assert len(api(client, "/api/v1/payments", secret)["data"]) == len(award.payments)
        api(client, "/api/v1/outcomes", secret)
    outsider = token_for(world["outsider"])
    for path in ("/api/v1/awards", "/api/v1/milestones", "/api/v1/payments", "/api/v1/outcomes"):
        assert api(client, path, outsider)["data"] == [], path
    api(client, f"/api/v1/awards/{award.id}", outsider, expect=404)
    body = api(client, f"/api/v1/awards/{award.id}", token_for(world["lead"]), schema=schemas.Award)
    assert body["amount_cents"] == award.amount_cents and body["remaining_cents"] == award.amount_cents


def test_a_held_payment_and_a_paid_ones_method_and_reference_show_in_the_api(client, world):
    award, officer = world["award"], world["officer"]
    first, second = award.milestones[0], award.milestones[1]
    targets.set_milestone_targets(first, officer=officer, targets={award.call.metrics[0].id: 5_000})
    reporting.accept_report(first, officer=officer, shortfall_choice=ShortfallChoice.HOLD, shortfall_reason="Plan.")
    submit(second, award.application.owner)
    reporting.accept_report(second, officer=officer)
    payments.release_payment(second.payment, officer=officer, method=PaymentMethod.CHECK, confirmed=True)
    payments.mark_paid(second.payment, officer=officer, paid_on=reporting.local_today(award.call),
                        reference="Check 2044", confirmed=True)
    db.session.commit()
    rows = {row["milestone_id"]: row for row in api(client, f"/api/v1/payments?award_id={award.id}",
                                                     token_for(world["lead"]), schema=schemas.Page[schemas.Payment])["data"]}
    assert (rows[first.id]["hold"], rows[first.id]["status"], rows[first.id]["payment_method"]) == (
        "held", "scheduled", None)
    assert (rows[second.id]["payment_method"], rows[second.id]["payment_reference"], rows[second.id]["status"]) == (
        "check", "Check 2044", "paid")


def test_the_portfolio_is_staff_only(client, world):
    body = api(client, "/api/v1/portfolio", token_for(world["officer"]))
    assert body["awards"] >= 1 and body["awarded_cents"] >= world["award"].amount_cents
    api(client, f"/api/v1/portfolio?call_id={world['award'].call_id}", token_for(world["officer"]))
    api(client, "/api/v1/portfolio", token_for(world["lead"]), expect=404)


# --- pagination ------------------------------------------------------------------------------------

def test_pagination_at_the_edges(client, world):
    secret = token_for(world["officer"])
    total = api(client, "/api/v1/calls", secret)["total"]
    assert total >= 2
    first = api(client, "/api/v1/calls?per_page=1", secret)
    assert len(first["data"]) == 1 and "page=2" in first["next"] and "per_page=1" in first["next"]
    assert api(client, first["next"].split("localhost", 1)[-1], secret)["page"] == 2
    last = api(client, f"/api/v1/calls?per_page=1&page={total}", secret)
    assert len(last["data"]) == 1 and last["next"] is None
    assert api(client, f"/api/v1/calls?per_page=1&page={total + 1}", secret)["data"] == []
    for bad in ("per_page=0", "per_page=201", "page=0", "page=abc", "per_page=-1", "status=sideways"):
        api(client, f"/api/v1/calls?{bad}", secret, expect=400)
    for bad in ("call_id=１", "call_id=1.5", "status=drafty"):
        api(client, f"/api/v1/applications?{bad}", secret, expect=400)


# --- audit and rate limit ------------------------------------------------------------------------------

def test_every_use_is_audited_and_marks_the_token_used(client, world):
    secret = token_for(world["lead"])
    api(client, "/api/v1/awards?status=active", secret)
    api(client, "/api/v1/awards/999999", secret, expect=404)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api.request")
                                .order_by(AuditEvent.id)).all()
    assert [(e.details["path"], e.details["status"]) for e in events] == [
        ("/api/v1/awards", 200), ("/api/v1/awards/999999", 404)]
    assert events[0].details["query"] == "status=active"
    db.session.expire_all()
    assert services.tokens_of(world["lead"])[0].last_used_at is not None


def test_requests_are_rate_limited_per_token(app, client, world, monkeypatch):
    limiter.reset()
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    first, second = token_for(world["lead"]), token_for(world["officer"])
    statuses = [client.get("/api/v1/calls", headers={"Authorization": f"Bearer {first}"}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v1/calls", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    limiter.reset()
