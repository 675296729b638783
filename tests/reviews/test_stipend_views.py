"""Stipend pages: the officer's stipends table, marking paid and undoing, the CSV; the stipend
and eligibility settings; the reviewer's own stipends. Nobody but funder staff sees a call's
stipends (404), and a reviewer sees only their own."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from grants.accounts.enums import Role
from grants.audit.models import AuditEvent
from grants.core.dates import format_date
from grants.extensions import db
from grants.reviews import services
from grants.reviews.enums import StipendStatus
from grants.reviews.models import ReviewerStipend, ReviewSettings
from tests.conftest import fresh
from tests.reviews.stipend_factories import build_stipend_world, member_of


@pytest.fixture
def world(make_user, make_organisation):
    world = build_stipend_world(make_user, make_organisation)
    db.session.commit()
    return world


def text(response) -> str:
    return response.get_data(as_text=True)


def stipends_url(world) -> str:
    return f"/manage/calls/{world.call.id}/stipends"


def paid_url(world, user) -> str:
    return f"/manage/panel-members/{member_of(world.call, user).id}/stipend/paid"


def record_of(world, user) -> ReviewerStipend | None:
    db.session.expire_all()
    return db.session.scalar(select(ReviewerStipend).where(
        ReviewerStipend.panel_member_id == member_of(world.call, user).id))


def settings_of(world) -> ReviewSettings:
    db.session.expire_all()
    return db.session.get(ReviewSettings, world.call.id)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def mark_paid(client, world, user, **data):
    today = services.local_today(world.call).isoformat()
    return client.post(paid_url(world, user), data={"paid_on": today, "payment_reference": "CHQ 4471",
                                                    "version": "0", **data})


def test_officer_sees_each_reviewers_stipend_with_totals(client, login, world):
    login(world.officer)

    page = text(client.get(stipends_url(world)))

    assert "This call pays <strong>$150</strong> per completed review set" in page
    for name, status in (("Cody Community", "Owed"), ("Una Unfinished", "Not yet earned"),
                         ("Ada Academic", "Not eligible")):
        row = page[page.index(name):].split("</tr>")[0]
        assert status in row, (name, row)
    assert "1 of 2" in page  # Una's set
    assert "$150 <small class=\"text-body-secondary\">to 1 reviewer</small>" in page
    assert "Mark paid" in page


def test_officer_marks_a_stipend_paid_and_a_second_submit_is_refused(client, login, world):
    login(world.officer)

    response = mark_paid(client, world, world.community)

    assert response.status_code == 302 and response.location.endswith(
        f"#stipend-{member_of(world.call, world.community).id}")
    record = record_of(world, world.community)
    assert (record.status, record.amount_cents, record.payment_reference) == (StipendStatus.PAID, 15_000, "CHQ 4471")
    page = text(client.get(response.location))
    assert "is recorded as paid on" in page
    assert f"on {format_date(record.paid_on)}" in page and "(reference CHQ 4471)" in page

    # The double click: the same form again.
    again = mark_paid(client, world, world.community)

    assert again.status_code == 409
    assert "already recorded as paid" in text(again)
    assert len(events("stipend.paid")) == 1


def test_mark_paid_without_a_date_says_so_and_records_nothing(client, login, world):
    login(world.officer)

    response = mark_paid(client, world, world.community, paid_on="")

    assert response.status_code == 400
    assert "Paid on: Give the date the stipend was paid." in text(response)
    assert record_of(world, world.community) is None


def test_a_tampered_form_version_is_refused_with_a_message(client, login, world):
    login(world.officer)

    response = mark_paid(client, world, world.community, version="later")

    assert response.status_code == 400
    assert "This form was not understood; reload the page and try again." in text(response)
    assert record_of(world, world.community) is None


def test_mark_paid_of_a_set_not_complete_is_refused_with_the_reason(client, login, world):
    login(world.officer)

    response = mark_paid(client, world, world.unfinished)

    assert response.status_code == 400
    assert "Una Unfinished has submitted 1 of 2 reviews" in text(response)
    assert record_of(world, world.unfinished) is None


def test_officer_undoes_a_mistaken_payment_with_a_reason(client, login, world):
    login(world.officer)
    mark_paid(client, world, world.community)
    undo_url = f"/manage/panel-members/{member_of(world.call, world.community).id}/stipend/undo"

    without_reason = client.post(undo_url, data={"undo_reason": "", "version": "1"})
    assert without_reason.status_code == 400 and "Say why the payment is undone." in text(without_reason)
    assert record_of(world, world.community).status is StipendStatus.PAID

    response = client.post(undo_url, data={"undo_reason": "Cheque went to the wrong address", "version": "1"})

    assert response.status_code == 302
    assert record_of(world, world.community).status is StipendStatus.OWED
    assert events("stipend.payment_undone")[0].details["reason"] == "Cheque went to the wrong address"
    assert "Mark paid" in text(client.get(stipends_url(world)))


def test_stipends_csv_lists_every_reviewer_and_is_audited(client, login, world):
    login(world.officer)
    mark_paid(client, world, world.community)

    response = client.get(f"/manage/calls/{world.call.id}/stipends.csv")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    by_name = {row["Reviewer"]: row for row in rows}
    assert set(by_name) == {"Cody Community", "Una Unfinished", "Ada Academic"}
    paid = by_name["Cody Community"]
    assert (paid["Status"], paid["Amount (cents)"], paid["Amount (USD)"], paid["Payment reference"],
            paid["Reviews submitted"], paid["Reviews assigned"]) == ("Paid", "15000", "150.00", "CHQ 4471", "2", "2")
    assert paid["Paid on"] == services.local_today(world.call).isoformat()
    assert (by_name["Una Unfinished"]["Status"], by_name["Ada Academic"]["Eligible"]) == ("Not yet earned", "no")
    [event] = events("call.stipends_exported")
    assert event.details == {"rows": 3, "owed_cents": 0, "paid_cents": 15_000}


def test_officer_sets_the_stipend_and_ticks_a_reviewer_on_the_set_up_page(client, login, world):
    login(world.officer)
    settings = db.session.get(ReviewSettings, world.call.id)
    closes = world.call.local(settings.review_closes_at)

    response = client.post(f"/manage/calls/{world.call.id}/review", data={
        "review_closes_on": closes.date().isoformat(), "review_closes_time": closes.strftime("%H:%M"),
        "reviewers_per_application": "3", "default_workload_cap": "8", "disagreement_threshold": "25",
        "stipend": "$225.50"})
    assert response.status_code == 302
    assert settings_of(world).stipend_cents == 22_550

    academic = member_of(world.call, world.academic)
    response = client.post(f"/manage/panel-members/{academic.id}",
                           data={"sub_panel": "", "workload_cap": "8", "stipend_eligible": "y"})
    assert response.status_code == 302
    assert fresh(academic).stipend_eligible is True
    page = text(client.get(stipends_url(world)))
    assert "Ada Academic" in page and "Not eligible" not in page and "$225.50" in page


def test_a_bad_stipend_amount_is_refused_and_changes_nothing(client, login, world):
    login(world.officer)

    response = client.post(f"/manage/calls/{world.call.id}/review", data={
        "reviewers_per_application": "3", "default_workload_cap": "8", "disagreement_threshold": "25",
        "stipend": "a lot"})

    assert response.status_code == 400
    assert "Enter an amount in dollars" in text(response)
    assert settings_of(world).stipend_cents == 15_000


def test_reviewer_sees_their_own_stipend_and_no_one_elses(client, login, world):
    login(world.officer)
    mark_paid(client, world, world.community)
    client.post("/logout")

    login(world.community)
    page = text(client.get("/reviews"))

    assert "Your stipends" in page
    row = page[page.index(world.call.title, page.index("Your stipends")):].split("</tr>")[0]
    paid_on = record_of(world, world.community).paid_on
    assert f"on {format_date(paid_on)}" in row and "$150" in row and "2 of 2" in row
    for someone_else in ("Una Unfinished", "Ada Academic", "Olive Officer"):
        assert someone_else not in page

    client.post("/logout")
    login(world.unfinished)
    page = text(client.get("/reviews"))
    assert "Not yet earned" in page and "1 of 2 reviews submitted" in page and "Cody Community" not in page


def test_academic_reviewer_has_no_stipends_section(client, login, world):
    login(world.academic)

    assert "Your stipends" not in text(client.get("/reviews"))


@pytest.mark.parametrize("who", ["community", "applicant"])
def test_the_stipends_pages_do_not_exist_for_anyone_but_staff(client, login, world, make_user, who):
    user = world.community if who == "community" else make_user(Role.APPLICANT)
    login(user)

    for url in (stipends_url(world), f"/manage/calls/{world.call.id}/stipends.csv"):
        assert client.get(url).status_code == 404
    assert mark_paid(client, world, world.community).status_code == 404
    assert record_of(world, world.community) is None
    assert "Una Unfinished" not in text(client.get(stipends_url(world)))
