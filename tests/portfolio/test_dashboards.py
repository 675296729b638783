"""The portfolio figures and dashboards on hand-computed cases: money, community share,
milestones on time and late, outcome metrics across grantees; the charts, the CSV, the
grantee's dashboard; a constant number of queries whatever the number of awards."""

from __future__ import annotations

import re

import csv
import io
from datetime import date, timedelta

import pytest

from grants.accounts.enums import OrganisationKind
from grants.awards.enums import AwardStatus, MilestoneStatus, PaymentStatus
from grants.portfolio.queries import build_portfolio, metric_totals, timeliness_by_award
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_call
from tests.reports.factories import add_metrics, award_rows, counted_statements, officer_for

TODAY = date.today()


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.fixture
def officer(make_user, make_organisation):
    return officer_for(make_user, make_organisation)


@pytest.fixture
def owner(make_user, make_organisation):
    return make_applicant(make_user, make_organisation)


@pytest.fixture
def case(owner):
    """Two calls. Under A (metrics Reached, Trained):
    a1 $100,000, 40% of its budget to a nonprofit: m1 on time, accepted (Reached 100,
       Trained 5), $20,000 paid; m2 reported late, accepted (Reached 250, Trained 9),
       $30,000 released; m3 overdue, $50,000 scheduled.
    a2 $50,000, no community partner: m1 not yet due; m2 submitted on time, not accepted.
    a4 $30,000: m1 on time, accepted (Reached 40; no Trained).
    a3 $90,000, declined: counts nowhere.
    Under B (metric Visits): b1 $20,000, completed, half to a health agency: m1 on time,
       accepted (Visits 7), $20,000 paid.
    """
    call_a, call_b = make_call(title="Call A"), make_call(title="Call B")
    reached, trained = add_metrics(call_a, ("Reached", "people"), ("Trained", ""))
    (visits,) = add_metrics(call_b, ("Visits", ""))
    a1 = award_rows(call_a, owner, amount_cents=10_000_000, title="Heart health messengers",
                    lines=[(6_000_000, None), (4_000_000, OrganisationKind.COMMUNITY_NONPROFIT)], milestones=[
        dict(due_on=ago(100), status=MilestoneStatus.ACCEPTED, first_submitted_on=ago(102), payment_cents=2_000_000,
             payment_status=PaymentStatus.PAID, metrics={reached.id: 100, trained.id: 5}),
        dict(due_on=ago(50), status=MilestoneStatus.ACCEPTED, first_submitted_on=ago(45), payment_cents=3_000_000,
             payment_status=PaymentStatus.RELEASED, metrics={reached.id: 250, trained.id: 9}),
        dict(due_on=ago(10), payment_cents=5_000_000, is_final=True)])
    a2 = award_rows(call_a, owner, amount_cents=5_000_000, title="Clinic listening sessions", milestones=[
        dict(due_on=TODAY + timedelta(days=20)),
        dict(due_on=ago(5), status=MilestoneStatus.SUBMITTED, first_submitted_on=ago(6))])
    a4 = award_rows(call_a, owner, amount_cents=3_000_000, title="=HYPERLINK(\"x\")", milestones=[
        dict(due_on=ago(20), status=MilestoneStatus.ACCEPTED, first_submitted_on=ago(20),
             metrics={reached.id: 40})])
    a3 = award_rows(call_a, owner, amount_cents=9_000_000, status=AwardStatus.DECLINED)
    b1 = award_rows(call_b, owner, amount_cents=2_000_000, status=AwardStatus.COMPLETED,
                    lines=[(1_000_000, None), (1_000_000, OrganisationKind.PUBLIC_HEALTH_AGENCY)], milestones=[
        dict(due_on=ago(30), status=MilestoneStatus.ACCEPTED, first_submitted_on=ago(31), payment_cents=2_000_000,
             payment_status=PaymentStatus.PAID, metrics={visits.id: 7})])
    db.session.commit()
    return dict(call_a=call_a, call_b=call_b, a1=a1, a2=a2, a3=a3, a4=a4, b1=b1, reached=reached, trained=trained,
                visits=visits)


def _funds(f):
    return (f.awarded_cents, f.released_cents, f.paid_cents, f.remaining_cents, f.community_cents,
            f.community_paid_cents)


def _timing(t):
    return (t.on_time, t.late, t.overdue, t.not_due)


def test_portfolio_figures_across_calls(case):
    portfolio = build_portfolio()
    assert [row.award.id for row in portfolio.awards] == [case[k].id for k in ("a1", "a2", "a4", "b1")]
    rows = {row.call.id: row for row in portfolio.calls}
    a, b = rows[case["call_a"].id], rows[case["call_b"].id]
    assert a.award_count == 3 and b.award_count == 1
    # Community paid: 40% of a1's $20,000 paid; half of b1's.
    assert _funds(a.funds) == (18_000_000, 5_000_000, 2_000_000, 16_000_000, 4_000_000, 800_000)
    assert _funds(b.funds) == (2_000_000, 2_000_000, 2_000_000, 0, 1_000_000, 1_000_000)
    assert _funds(portfolio.funds) == (20_000_000, 7_000_000, 4_000_000, 16_000_000, 5_000_000, 1_800_000)
    assert portfolio.funds.community_percent == pytest.approx(25.0)
    assert _timing(a.timeliness) == (3, 2, 1, 1)
    assert _timing(b.timeliness) == (1, 0, 0, 0)
    assert _timing(portfolio.timeliness) == (4, 2, 1, 1)


def test_timeliness_per_award(case):
    figures = timeliness_by_award()
    assert _timing(figures[case["a1"].id]) == (1, 2, 1, 0)
    assert _timing(figures[case["a2"].id]) == (1, 0, 0, 1)
    assert case["a3"].id not in figures


def test_outcome_metrics_count_each_awards_latest_accepted_report(case):
    totals = metric_totals([case["call_a"].id, case["call_b"].id])
    by_name = {t.metric.name: (t.total, t.awards_reporting) for ts in totals.values() for t in ts}
    # Reached: a1's latest accepted 250 (not 100 + 250) + a4's 40; a2's unaccepted report is ignored.
    assert by_name == {"Reached": (290, 2), "Trained": (9, 1), "Visits": (7, 1)}


def test_the_call_dashboard_shows_the_figures_charts_and_tables(client, login, officer, case):
    login(officer)
    response = client.get(f"/manage/calls/{case['call_a'].id}/portfolio")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for figure in ("$180,000", "$50,000", "$20,000", "$160,000", "$40,000", "22.2%"):
        assert figure in page, figure
    assert "Heart health messengers" in page and "Clinic listening sessions" in page
    assert "Call B" not in page
    assert page.count('role="img"') == 3 and "<desc" in page
    assert ("Awarded: $180,000; Accepted: $180,000; Offered, not accepted: $0; Released: $50,000; Paid: $20,000; "
            "Remaining: $160,000") in page
    # The content security policy allows neither inline styles nor inline scripts (scripts
    # served from /static are allowed).
    assert " style=" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert ">290<" in page.replace(" ", "")


def test_the_dashboard_across_calls_lists_each_call(client, login, officer, case):
    login(officer)
    page = client.get("/manage/portfolio").get_data(as_text=True)
    assert "Call A" in page and "Call B" in page and "$200,000" in page and "25.0%" in page
    assert "Awarded and paid, by call" in page


def test_portfolio_shows_offers_not_yet_accepted_apart_from_accepted_awards(client, login, officer, owner):
    call = make_call(title="Call C")
    award_rows(call, owner, amount_cents=6_000_000, status=AwardStatus.OFFERED, title="Offer waiting")
    award_rows(call, owner, amount_cents=4_000_000, status=AwardStatus.ACCEPTED, title="Offer accepted")
    award_rows(call, owner, amount_cents=1_000_000, status=AwardStatus.ACTIVE, title="Under way")
    db.session.commit()

    funds = build_portfolio().funds
    assert (funds.awarded_cents, funds.accepted_cents, funds.offered_cents) == (11_000_000, 5_000_000, 6_000_000)
    [row] = build_portfolio().calls
    assert (row.funds.accepted_cents, row.funds.offered_cents) == (5_000_000, 6_000_000)

    login(officer)
    text = " ".join(re.sub(r"<[^>]+>", " ", client.get("/manage/portfolio").get_data(as_text=True)).split())
    assert "Accepted $50,000 by the grantees" in text
    assert "Offered, not yet accepted $60,000 waiting for the grantees' answer" in text
    page = client.get(f"/manage/calls/{call.id}/portfolio").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Awarded: $110,000; Accepted: $50,000; Offered, not accepted: $60,000" in text


def test_chart_labels_of_calls_named_alike_stay_distinct(client, login, officer, owner):
    for year in (2026, 2027):
        award_rows(make_call(title=f"Community Trust Partnerships {year}"), owner, amount_cents=5_000_000)
    db.session.commit()
    login(officer)

    page = client.get("/manage/portfolio").get_data(as_text=True)

    labels = re.findall(r'text-anchor="end" fill="#212529">([^<]+)<title>Community Trust Partnerships (\d+)', page)
    assert sorted(labels) == [("Community Trust…2026", "2026"), ("Community Trust…2027", "2027")]


def _csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_csv_has_one_row_per_award_with_its_figures(client, login, officer, case):
    login(officer)
    rows = _csv(client.get(f"/manage/portfolio.csv?call_id={case['call_a'].id}"))
    header, body = rows[0], rows[1:]
    assert header[-2:] == ["Reached (people)", "Trained"]
    assert len(body) == 3
    a1 = dict(zip(header, body[0]))
    assert (a1["Awarded (cents)"], a1["Released (cents)"], a1["Paid (cents)"], a1["Remaining (cents)"]) == (
        "10000000", "5000000", "2000000", "8000000")
    assert (a1["To community partners (cents)"], a1["To community partners (%)"]) == ("4000000", "40.0")
    assert (a1["Milestones"], a1["On time"], a1["Late"], a1["Overdue now"], a1["Not yet due"]) == (
        "3", "1", "2", "1", "0")
    assert (a1["Reached (people)"], a1["Trained"]) == ("250", "9")
    a4 = dict(zip(header, body[2]))
    assert a4["Project title"].startswith("'=")  # a spreadsheet would run it as a formula
    assert a4["Trained"] == ""
    everything = _csv(client.get("/manage/portfolio.csv"))
    assert len(everything) == 1 + 4 and "Reached (people)" not in everything[0]


def test_the_portfolio_is_staff_only(client, login, owner, case):
    login(owner)
    for url in ("/manage/portfolio", f"/manage/calls/{case['call_a'].id}/portfolio", "/manage/portfolio.csv"):
        assert client.get(url).status_code == 403, url


def test_the_grantee_dashboard_shows_their_awards_milestones_and_payments(client, login, owner, make_user,
                                                                          make_organisation, case):
    stranger_owner = make_applicant(make_user, make_organisation)
    award_rows(case["call_a"], stranger_owner, amount_cents=1_000_000, title="Someone else's project")
    db.session.commit()
    login(owner)
    page = client.get("/my/awards").get_data(as_text=True)
    assert "Heart health messengers" in page and "Someone else&#39;s project" not in page
    assert "Overdue" in page and "overdue</strong>" in page
    assert "$20,000" in page and "Paid" in page and "Released" in page


# --- a constant number of queries ---------------------------------------------------------------

def _add_awards(call, owner, count: int, metric):
    for number in range(count):
        award_rows(call, owner, amount_cents=1_000_000 + number, lines=[
            (600_000, None), (400_000, OrganisationKind.SOCIAL_SERVICE_AGENCY)], milestones=[
            dict(due_on=ago(40), status=MilestoneStatus.ACCEPTED, first_submitted_on=ago(41), payment_cents=300_000,
                 payment_status=PaymentStatus.PAID, metrics={metric.id: 10}),
            dict(due_on=ago(3), payment_cents=700_000)])
    db.session.commit()


def test_dashboards_run_as_many_queries_for_8_awards_as_for_2(client, login, officer, owner, make_user,
                                                             make_organisation):
    call = make_call(title="Counted call")
    (metric,) = add_metrics(call, ("Reached", "people"))
    _add_awards(call, owner, 2, metric)
    urls = ["/manage/portfolio", f"/manage/calls/{call.id}/portfolio", f"/manage/portfolio.csv?call_id={call.id}",
            "/manage/portfolio.csv"]
    staff = client
    login(officer)
    grantee = client.application.test_client()
    login(owner, the_client=grantee)

    def count_all():
        counts = []
        for who, url in [(staff, url) for url in urls] + [(grantee, "/my/awards")]:
            with counted_statements() as statements:
                response = who.get(url)
            assert response.status_code == 200, url
            counts.append(len(statements))
        return counts

    count_all()  # warm up what is cached once per process
    with_two = count_all()
    _add_awards(call, owner, 6, metric)
    with_eight = count_all()
    assert with_two == with_eight, f"queries for 2 awards: {with_two}; for 8: {with_eight}"
