"""Query-count guards: every main page runs as many SQL statements with ten times the data.

Each page is requested on a portfolio seeded at 1× and at 10× (grants.bench.seed, the data the
benchmarks use), in one test, and the statement counts must be equal: a page that loads a
relationship per row (N+1) or renders every row grows with the data and fails here, naming
the page. The seeds are flushed, never committed, so the test rolls each one back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from grants.applications.models import Application
from grants.awards.models import Award, Milestone
from grants.bench.seed import PASSWORD, Scale, seed_portfolio
from grants.calls.models import Call
from grants.extensions import db

SMALL = Scale(applications=40, calls=2, reviews=60, awards=4, reviewers=6, rush_drafts=5)
LARGE = Scale(applications=400, calls=2, reviews=600, awards=40, reviewers=6, rush_drafts=50)

# page name → (who asks, path template); {call}, {application}, {award}, {milestone} are filled in.
PAGES = {
    "public call list": (None, "/calls"),
    "officer's home, with the to-do list": ("officer", "/"),
    "officer's call list": ("officer", "/manage/calls"),
    "intake list": ("officer", "/manage/calls/{call}/applications"),
    "intake list, sorted by amount": ("officer", "/manage/calls/{call}/applications?sort=-requested&page=2"),
    "one application": ("officer", "/manage/applications/{application}"),
    "assignments": ("officer", "/manage/calls/{call}/assignments"),
    "reviewer's queue": ("reviewer", "/reviews"),
    "ranking": ("officer", "/manage/calls/{call}/ranking"),
    "decisions": ("officer", "/manage/calls/{call}/decisions"),
    "an award": ("officer", "/manage/awards/{award}"),
    "milestone report": ("officer", "/manage/milestones/{milestone}"),
    "portfolio": ("officer", "/manage/portfolio"),
    "call portfolio": ("officer", "/manage/calls/{call}/portfolio"),
    "applications CSV": ("officer", "/manage/calls/{call}/applications.csv"),
    "partners CSV": ("officer", "/manage/calls/{call}/partners.csv"),
    "scores CSV": ("officer", "/manage/calls/{call}/ranking.csv"),
    "portfolio CSV": ("officer", "/manage/portfolio.csv"),
    "applicant's applications": ("applicant", "/applications"),
    "applicant's awards": ("applicant", "/my/awards"),
}

# Well above what any of these pages needs today (most run 10-26, an award 40), far below one per row.
MOST_STATEMENTS = 45


def _statements(client, path: str) -> tuple[int, list[str]]:
    """The statements one request runs, and the relationships it loaded lazily (one by one)."""
    count = 0
    lazy: list[str] = []

    def counter(*_args):
        nonlocal count
        count += 1

    def lazy_loads(state):
        if state.lazy_loaded_from is not None:
            lazy.append(f"{state.lazy_loaded_from.class_.__name__}.{state.loader_strategy_path[-1].key}"
                        if state.loader_strategy_path else state.lazy_loaded_from.class_.__name__)

    event.listen(db.engine, "before_cursor_execute", counter)
    event.listen(Session, "do_orm_execute", lazy_loads)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
        event.remove(Session, "do_orm_execute", lazy_loads)
    assert response.status_code == 200, (path, response.status_code)
    response.close()
    return count, lazy


def _measure(app, scale: Scale, who: str | None, template: str) -> tuple[int, list[str]]:
    seeded = seed_portfolio(scale)
    db.session.flush()
    call = db.session.scalars(select(Call).order_by(Call.id)).first()  # closed, reviewed and decided
    award = db.session.scalars(select(Award).where(Award.call_id == call.id).order_by(Award.id)).first()
    milestone = db.session.scalars(select(Milestone).where(Milestone.award_id == award.id)
                                   .order_by(Milestone.due_on)).first()
    application = db.session.get(Application, award.application_id)
    emails = {"officer": seeded.officer_email, "reviewer": "reviewer0000@bench.example",
              "applicant": application.owner.email}
    path = template.format(call=call.id, application=application.id, award=award.id, milestone=milestone.id)
    client = app.test_client()
    if who is not None:
        response = client.post("/login", data={"email": emails[who], "password": PASSWORD})
        assert response.status_code == 302
    client.get(path).close()  # the first request fills per-process caches (templates, metadata)
    return _statements(client, path)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_the_same_statements_at_ten_times_the_data(app, database, page):
    who, template = PAGES[page]
    small, small_lazy = _measure(app, SMALL, who, template)
    database.rollback()
    large, large_lazy = _measure(app, LARGE, who, template)
    database.rollback()
    # A lazy load per listed row shows here by name, before it shows in the counts.
    assert len(large_lazy) == len(small_lazy), f"{page}: lazy loads {small_lazy} at 1×, {large_lazy} at 10×"
    assert large == small, f"{page}: {small} statements at 1×, {large} at 10× — a query per row?"
    assert large <= MOST_STATEMENTS, f"{page}: {large} statements"
