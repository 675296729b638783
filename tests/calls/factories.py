"""Calls for tests: a complete draft (ready to publish) or a published one, with dates
around the real clock unless a test gives its own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from grants.accounts.enums import OrganisationKind
from grants.calls import services
from grants.calls.enums import DocumentScope
from grants.calls.models import CallDocument, CallQuestion, MilestoneTemplate, OutcomeMetric, RubricCriterion
from grants.core.types import utcnow
from grants.extensions import db

CHICAGO = "America/Chicago"
COMMUNITY = [OrganisationKind.COMMUNITY_NONPROFIT.value, OrganisationKind.PUBLIC_HEALTH_AGENCY.value]


def chicago(year, month, day, hour=0, minute=0) -> datetime:
    """The instant Chicago's clocks show this date and time, in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(CHICAGO)).astimezone(timezone.utc)


def whole_minute(instant: datetime) -> datetime:
    # Forms take minutes: a call's dates round-trip through its edit form only without seconds.
    return instant.replace(second=0, microsecond=0)


def call_fields(**overrides) -> dict:
    now = whole_minute(utcnow())
    return {
        "title": "Community Trust Partnerships", "summary": "Money for partnerships.",
        "description": "Build **trust** together.", "eligibility": "Member institutions with partners.",
        "time_zone": CHICAGO, "opens_at": now - timedelta(days=10), "closes_at": now + timedelta(days=30),
        "award_floor_cents": 5_000_000, "award_ceiling_cents": 25_000_000, "total_funds_cents": 100_000_000,
        "expected_awards": 4, "lead_kinds": [OrganisationKind.MEMBER_INSTITUTION.value],
        "partner_kinds": COMMUNITY, "min_partners": 2, "min_community_share_percent": 40,
        "requires_partner_signoff": True, **overrides,
    }


ITEMS = [
    (CallQuestion, dict(prompt="Describe the community.", help_text="Whose voices?", word_limit=500, is_required=True)),
    (CallQuestion, dict(prompt="How will partners share decisions?", help_text="", word_limit=750, is_required=True)),
    (CallDocument, dict(name="Letter of commitment", help_text="", scope=DocumentScope.PER_PARTNER, is_required=True)),
    (RubricCriterion, dict(name="Community need", description="", weight=60, scale_min=1, scale_max=5, anchors="")),
    (RubricCriterion, dict(name="Partnership", description="", weight=40, scale_min=1, scale_max=5, anchors="")),
    (OutcomeMetric, dict(name="Community members reached", unit="people")),
    (MilestoneTemplate, dict(name="Launch", offset_days=30, payment_share_percent=60)),
    (MilestoneTemplate, dict(name="Final report", offset_days=365, payment_share_percent=40)),
]




def build_call(officer, *, publish: bool = False, items: bool = True, **overrides):
    """A complete call (every item publication needs), a draft unless ``publish``.

    A published call is published as if a week before it opened, so its dates may be past.
    """
    call = services.create_call(created_by=officer, **call_fields(**overrides))
    if items:
        for item_type, fields in ITEMS:
            services.add_call_item(call, item_type, changed_by=officer, **fields)
    if publish:
        services.publish_call(call, published_by=officer, now=call.opens_at - timedelta(days=7))
    db.session.flush()
    return call
