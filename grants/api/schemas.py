"""What each endpoint returns, as pydantic models: the OpenAPI document (openapi.py) is
generated from them, and the tests validate every response against them.

Money is in integer cents (``*_cents``), instants are ISO 8601 in UTC, dates ISO 8601 days.
Ids are the database's and stable.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Schema(BaseModel):
    # A field the code adds but the schema lacks fails the tests, not the clients.
    model_config = ConfigDict(extra="forbid")


class Page(Schema, Generic[T]):
    data: list[T]
    page: int = Field(description="This page's number, from 1.")
    per_page: int
    total: int = Field(description="How many rows match, over all pages.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


class Error(Schema):
    error: str


class Call(Schema):
    id: int
    title: str
    status: str = Field(description="draft, published or archived (drafts and archived calls: staff only)")
    phase: str | None = Field(description="upcoming, open or closed; null without dates")
    opens_at: datetime | None
    closes_at: datetime | None
    time_zone: str
    award_floor_cents: int | None
    award_ceiling_cents: int | None
    total_funds_cents: int | None
    expected_awards: int | None
    min_partners: int
    min_community_share_percent: int
    url: str


class Partner(Schema):
    organisation: str
    kind: str
    share_cents: int


class Application(Schema):
    id: int
    call_id: int
    reference_number: str | None
    title: str
    status: str
    lead_organisation: str
    partners: list[Partner]
    requested_cents: int
    community_share_percent: float
    submitted_at: datetime | None


class ReviewFigures(Schema):
    application_id: int
    reference_number: str | None
    rank: int | None = Field(description="null: no submitted review yet")
    reviews: int
    mean: float | None
    median: float | None
    spread: float | None
    mean_z: float | None
    confidence_weighted_mean: float | None
    percentile: float | None
    requested_cents: int
    cumulative_cents: int | None
    is_above_funding_line: bool


class Award(Schema):
    id: int
    application_id: int
    call_id: int
    reference_number: str | None
    title: str
    lead_organisation: str
    status: str
    amount_cents: int
    start_on: date
    end_on: date
    released_cents: int
    paid_cents: int
    remaining_cents: int


class Milestone(Schema):
    id: int
    award_id: int
    name: str
    due_on: date
    status: str
    is_final: bool
    submitted_at: datetime | None
    accepted_at: datetime | None


class Payment(Schema):
    id: int
    award_id: int
    milestone_id: int | None
    amount_cents: int
    status: str
    released_at: datetime | None
    paid_on: date | None
    # bank_transfer, check, card or other, once released; the transfer's or check's reference once paid.
    payment_method: str | None
    payment_reference: str
    # held, plan_submitted or plan_accepted when the report fell short of the milestone's targets.
    hold: str | None


class Outcome(Schema):
    award_id: int
    call_id: int
    metric_id: int
    metric: str
    unit: str
    value: int = Field(description="To date, from the award's latest accepted report.")


class Milestones(Schema):
    on_time: int
    late: int
    overdue: int
    not_due: int


class MetricTotal(Schema):
    call_id: int
    metric_id: int
    metric: str
    unit: str
    total: int
    awards_reporting: int


class Portfolio(Schema):
    call_id: int | None
    awards: int
    awarded_cents: int
    released_cents: int
    paid_cents: int
    remaining_cents: int
    community_cents: int
    milestones: Milestones
    metrics: list[MetricTotal]
