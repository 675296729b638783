"""Pagination shared by every list page: one page of rows, the total, and links that keep the
page's filters and sort in the URL.

A list page never renders all its rows: at 10,000 applications that was seconds of work and
megabytes of HTML per request. The page number and size are read from the query string
(``?page=3&per_page=100``), so a filtered, sorted view can be bookmarked and shared.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from grants.extensions import db

DEFAULT_PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)


@dataclass
class Page:
    """One page of a list: ``items``, its 1-based ``number``, ``size`` and the list's ``total``.

    ``param`` is the query-string name of the page number: a page holding two lists gives
    each its own (``page`` and ``done_page``) so that paging one leaves the other alone.
    """

    items: list
    number: int
    size: int
    total: int
    param: str = "page"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position of the first row shown, from 1 (0 when there is none)."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def links(self, around: int = 2) -> Iterator[int | None]:
        """Page numbers to link: the first, the last, and ``around`` either side of this one;
        None where numbers are left out."""
        shown = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        previous = 0
        for number in sorted(n for n in shown if 1 <= n <= self.pages):
            if number > previous + 1:
                yield None
            yield number
            previous = number

    def url(self, number: int) -> str:
        """This page's URL with every other argument (filters, sort, size) kept."""
        args = request.args.to_dict(flat=False)
        args.pop(self.param, None)
        if number > 1:
            args[self.param] = [str(number)]
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def requested_page(param: str = "page", size: int | None = None) -> tuple[int, int]:
    """The page number (from 1) and page size asked for in the query string."""
    number = max(request.args.get(param, 1, type=int), 1)
    if size is None:
        size = request.args.get("per_page", DEFAULT_PAGE_SIZE, type=int)
        size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    return number, size


def count_rows(query: Select, *, scalars: bool = True) -> int:
    """How many rows ``query`` returns, counted in SQL."""
    counted = query.options(lazyload("*")).order_by(None).subquery() if scalars else query.order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(counted)) or 0


def paginate(query: Select, *, param: str = "page", size: int | None = None, scalars: bool = True) -> Page:
    """One page of ``query``'s rows (sorted by the query's own order) and their total.

    Two statements, whatever the size of the list: a count and a LIMIT/OFFSET select. A page
    past the end shows the last page, so a bookmark survives rows being removed.
    """
    number, size = requested_page(param, size)
    total = count_rows(query, scalars=scalars)
    number = min(number, max(1, -(-total // size)))
    window = query.limit(size).offset((number - 1) * size)
    result = db.session.execute(window)
    items = list(result.unique().scalars() if scalars else result.all())
    return Page(items, number, size, total, param)


def paginate_list(rows: Sequence, *, param: str = "page", size: int | None = None,
                  containing: int | None = None) -> Page:
    """One page of rows already computed (figures that need every row to be ranked); with
    ``containing`` (a row's index), the page that holds that row."""
    number, size = requested_page(param, size)
    if containing is not None:
        number = containing // size + 1
    number = min(number, max(1, -(-len(rows) // size)))
    return Page(list(rows[(number - 1) * size:number * size]), number, size, len(rows), param)
