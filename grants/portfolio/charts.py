"""Bar charts drawn on the server: the geometry of inline SVG the portfolio templates render.

No script and no style attribute (the content security policy allows neither inline): only
SVG presentation attributes. Each chart carries its own text alternative (a title and a
description listing every figure); the pages show the same figures in tables beside them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from grants.core.money import format_money

# Colours with at least 3:1 contrast against white (WCAG 1.4.11, non-text contrast).
PALETTE = ("#0b5ed7", "#146c43", "#6f42c1", "#b02a37", "#495057")
LABEL_WIDTH = 170
PLOT_WIDTH = 270
VALUE_WIDTH = 100
BAR_HEIGHT = 16
BAR_GAP = 3
ROW_GAP = 12
LEGEND_HEIGHT = 26
LABEL_CHARS = 20

_ids = itertools.count(1)


@dataclass
class Bar:
    series: str
    value: int
    text: str
    x: int
    y: int
    width: int
    fill: str
    height: int = BAR_HEIGHT

    @property
    def text_x(self) -> int:
        return self.x + self.width + 6

    @property
    def text_y(self) -> int:
        return self.y + self.height - 4


@dataclass
class Row:
    label: str
    short_label: str
    label_y: int
    bars: list[Bar]


@dataclass
class LegendItem:
    series: str
    fill: str
    x: int


@dataclass
class Chart:
    id: str
    title: str
    rows: list[Row]
    legend: list[LegendItem]
    width: int
    height: int
    description: str
    series: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label_x(self) -> int:
        return LABEL_WIDTH - 8

    @property
    def axis_x(self) -> int:
        return LABEL_WIDTH

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


def _common_prefix(labels: list[str]) -> int:
    shortest = min(labels, key=len)
    for index, char in enumerate(shortest):
        if any(label[index] != char for label in labels):
            return index
    return len(shortest)


def short_labels(labels: list[str]) -> list[str]:
    """Each label cut to LABEL_CHARS, and labels that would read the same once cut (calls
    named alike, "… 2026" and "… 2027") cut in the middle instead, keeping the part where
    they differ: "Community Tr…ps 2027"."""
    shorts = [_shorten(label) for label in labels]
    groups: dict[str, list[int]] = {}
    for index, short in enumerate(shorts):
        groups.setdefault(short, []).append(index)
    for indexes in groups.values():
        distinct = {labels[i] for i in indexes}
        if len(distinct) < 2:
            continue
        # Start the kept tail at the word where the labels part ways.
        start = _common_prefix(list(distinct))
        for i in indexes:
            label = labels[i]
            cut = label.rfind(" ", 0, start) + 1
            tail = label[cut:]
            if len(tail) > LABEL_CHARS - 4:
                tail = label[start:]
            if len(tail) > LABEL_CHARS - 4:
                tail = tail[:LABEL_CHARS - 5].rstrip() + "…"
            head = label[:LABEL_CHARS - 1 - len(tail)].rstrip()
            shorts[i] = f"{head}…{tail}"
    return shorts


def bar_chart(rows: list[tuple[str, list[tuple[str, int]]]], *, title: str, series: tuple[str, ...] = ("Value",),
              money: bool = False, colours: dict[str, str] | None = None) -> Chart:
    """Horizontal bars: for each (label, [(series, value), ...]) a group of bars, one per
    series, on one scale (the largest value spans the plot)."""
    def text(value: int) -> str:
        return format_money(value) if money else f"{value:,}"

    fills = {name: (colours or {}).get(name, PALETTE[index % len(PALETTE)]) for index, name in enumerate(series)}
    largest = max((value for _, values in rows for _, value in values), default=0)
    legend_height = LEGEND_HEIGHT if len(series) > 1 else 0
    y = legend_height + 4
    chart_rows = []
    shorts = short_labels([label for label, _values in rows])
    for (label, values), short in zip(rows, shorts):
        bars = []
        top = y
        for name, value in values:
            width = round(PLOT_WIDTH * value / largest) if largest else 0
            bars.append(Bar(name, value, text(value), LABEL_WIDTH, y, max(width, 1) if value > 0 else 0, fills[name]))
            y += BAR_HEIGHT + BAR_GAP
        chart_rows.append(Row(label, short, (top + y - BAR_GAP) // 2 + 4, bars))
        y += ROW_GAP
    legend = [LegendItem(name, fills[name], LABEL_WIDTH + index * 120) for index, name in enumerate(series)] \
        if legend_height else []
    description = "; ".join(
        f"{label}: " + ", ".join((f"{name} {text(value)}" if len(series) > 1 else text(value))
                                 for name, value in values) for label, values in rows) or "No figures yet."
    return Chart(id=f"chart-{next(_ids)}", title=title, rows=chart_rows, legend=legend,
                 width=LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH, height=max(y, legend_height + 20),
                 description=description, series=series)


def funds_chart(funds) -> Chart:
    """Awarded (and of it accepted and offered), released, paid and remaining, one bar each."""
    return bar_chart([("Awarded", [("Amount", funds.awarded_cents)]), ("Accepted", [("Amount", funds.accepted_cents)]),
                      ("Offered, not accepted", [("Amount", funds.offered_cents)]),
                      ("Released", [("Amount", funds.released_cents)]),
                      ("Paid", [("Amount", funds.paid_cents)]), ("Remaining", [("Amount", funds.remaining_cents)])],
                     title="Funds", series=("Amount",), money=True)


def milestones_chart(timeliness) -> Chart:
    """Milestones on time, late (reported late; overdue now) and not yet due."""
    return bar_chart([("On time", [("Milestones", timeliness.on_time)]),
                      ("Reported late", [("Milestones", timeliness.late_reported)]),
                      ("Overdue now", [("Milestones", timeliness.overdue)]),
                      ("Not yet due", [("Milestones", timeliness.not_due)])],
                     title="Milestones", series=("Milestones",))
