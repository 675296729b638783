"""Pagination (grants.core.pagination) and streamed CSVs (grants.core.csv_export)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grants.accounts.models import Organisation
from grants.bench.seed import PASSWORD, Scale, seed_portfolio
from grants.calls.models import Call
from grants.core.csv_export import csv_download
from grants.core.pagination import Page, paginate, paginate_list
from grants.extensions import db


def test_links_show_the_ends_and_the_neighbours_with_gaps_between():
    page = Page(items=[1], number=7, size=10, total=200)
    assert list(page.links()) == [1, None, 5, 6, 7, 8, 9, None, 20]
    assert list(Page(items=[1], number=1, size=10, total=30).links()) == [1, 2, 3]


def test_first_and_last_positions_count_from_one():
    page = Page(items=list(range(5)), number=3, size=10, total=25)
    assert (page.first, page.last, page.pages, page.has_previous, page.has_next) == (21, 25, 3, True, False)
    assert Page(items=[], number=1, size=10, total=0).first == 0


def test_a_page_past_the_end_shows_the_last_page(app):
    with app.test_request_context("/anything?page=99"):
        page = paginate_list(list(range(120)), size=50)
    assert (page.number, page.items[0], len(page.items)) == (3, 100, 20)


def test_paginate_counts_and_slices_in_sql(app, make_organisation):
    for number in range(7):
        make_organisation(name=f"Paged organisation {number}")
    query = select(Organisation).where(Organisation.name.like("Paged organisation %")).order_by(Organisation.name)
    with app.test_request_context("/?page=2&per_page=25"):
        page = paginate(query, size=3)
    assert page.total == 7
    assert [o.name for o in page.items] == [f"Paged organisation {n}" for n in (3, 4, 5)]


@pytest.fixture
def portfolio():
    """130 applications over two calls: the closed call has 65 received ones."""
    seed_portfolio(Scale(applications=130, calls=2, reviews=150, awards=4, reviewers=6, rush_drafts=5))
    db.session.commit()
    return db.session.scalars(select(Call).order_by(Call.id)).first()


def _officer(client):
    response = client.post("/login", data={"email": "officer@bench.example", "password": PASSWORD})
    assert response.status_code == 302


def _references(html: str) -> list[str]:
    return re.findall(r'<td class="text-nowrap">(PG-[\d-]+)</td>', html)


def test_intake_list_shows_fifty_then_the_rest_with_filters_kept(client, portfolio):
    _officer(client)
    first = client.get(f"/manage/calls/{portfolio.id}/applications?sort=-requested").get_data(as_text=True)
    total = int(re.search(r"<caption>(\d+) applications", first).group(1))
    assert total > 50
    assert len(_references(first)) == 50
    assert f"Showing 1–50 of {total} applications" in first
    # The link to page 2 keeps the sort.
    assert re.search(r'href="[^"]*sort=-requested[^"]*page=2"|href="[^"]*page=2[^"]*sort=-requested"', first)
    second = client.get(f"/manage/calls/{portfolio.id}/applications?sort=-requested&page=2").get_data(as_text=True)
    assert len(_references(second)) == total - 50
    assert not set(_references(first)) & set(_references(second))
    assert 'aria-current="page">2</a>' in second


# A rank cell, with the "tied" badge where another application has the same figure.
RANK_CELL = r'<td class="text-end">(\d+)(?:<br><span[^>]*>tied</span>)?</td>\s*<td class="text-nowrap">PG'


def test_ranking_and_decisions_paginate_in_rank_order(client, portfolio):
    _officer(client)
    first = client.get(f"/manage/calls/{portfolio.id}/ranking").get_data(as_text=True)
    second = client.get(f"/manage/calls/{portfolio.id}/ranking?page=2").get_data(as_text=True)
    ranks = [int(n) for n in re.findall(RANK_CELL, first)]
    assert ranks[:3] == [1, 2, 3] and len(ranks) == 50
    later = [int(n) for n in re.findall(RANK_CELL, second)]
    assert later and later[0] == 51
    decisions = client.get(f"/manage/calls/{portfolio.id}/decisions").get_data(as_text=True)
    assert decisions.count('class="form-check-input" type="checkbox" form="bulk"') <= 50
    assert "Pages of the decisions" in decisions


def test_assignments_page_lists_one_page_of_applications(client, portfolio):
    _officer(client)
    html = client.get(f"/manage/calls/{portfolio.id}/assignments").get_data(as_text=True)
    assert html.count('class="card mb-3" id="application-') == 50
    assert "Pages of the applications in review" in html


def test_csv_rows_are_read_while_the_file_is_sent(app):
    read = []

    def rows():
        for number in range(1200):
            read.append(number)
            yield [number, "=SUM(A1)"]

    with app.test_request_context("/export.csv"):
        response = csv_download("export.csv", ["n", "formula"], rows())
        assert read == []  # nothing read before the body is sent
        chunks = list(response.response)
    assert len(chunks) >= 3  # sent in pieces, not built whole
    body = b"".join(chunks).decode("utf-8-sig")
    assert body.splitlines()[1] == "0,'=SUM(A1)"
    assert len(body.splitlines()) == 1201


@pytest.mark.parametrize("export", ["applications.csv", "partners.csv", "ranking.csv", "portfolio.csv"])
def test_exports_stream_their_rows_after_the_request_has_committed(app, portfolio, export):
    """As a server sends it: the body is read after the view returned (and its session
    committed and closed), not inside the request as the suite's usual client does."""
    from flask.testing import FlaskClient

    client = FlaskClient(app, use_cookies=True)
    _officer(client)
    path = "/manage/portfolio.csv" if export == "portfolio.csv" else f"/manage/calls/{portfolio.id}/{export}"
    response = client.get(path, buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    lines = b"".join(response.response).decode("utf-8-sig").splitlines()
    response.close()
    assert len(lines) > 2
