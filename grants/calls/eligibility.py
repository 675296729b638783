"""Check before you start (GOV.UK "check a service is suitable"): whether an organisation can
lead an application to a call, from a few answers, before any account or draft exists.

The rules are the call's own, as the application's checklist applies them later
(grants.applications.services.checklist): the lead's kind, the number of partners of the
allowed kinds, the award's floor and ceiling, and whether the call is open. Nothing is
stored; a "yes" here is advice, the checklist decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from grants.accounts.enums import OrganisationKind
from grants.calls.enums import CallPhase
from grants.core.dates import format_instant
from grants.core.money import format_money


@dataclass
class Plan:
    """What the organisation answered."""

    lead_kind: OrganisationKind | None
    partners: dict[OrganisationKind, int] = field(default_factory=dict)  # kind → how many
    amount_cents: int | None = None


@dataclass
class Verdict:
    reasons: list[str]  # why it cannot apply; empty: it can
    reminders: list[str]  # what else the call asks, so nothing surprises them later

    @property
    def can_apply(self) -> bool:
        return not self.reasons


def _kinds(kinds: list[OrganisationKind]) -> str:
    return ", ".join(kind.label.lower() for kind in kinds)


def check(call, plan: Plan, now: datetime | None = None) -> Verdict:
    reasons, reminders = [], []
    phase = call.phase(now)
    if phase is CallPhase.UPCOMING:
        reasons.append(_("The call opens on %(date)s; applications can be started from then.",
                         date=format_instant(call.opens_at, call.time_zone)))
    elif phase is not CallPhase.OPEN:
        reasons.append(_("The call is closed: it no longer takes applications."))
    if plan.lead_kind is None:
        reasons.append(_("Say what kind of organisation would lead the application."))
    elif call.allowed_lead_kinds and plan.lead_kind not in call.allowed_lead_kinds:
        reasons.append(_("The lead organisation must be one of: %(kinds)s. A %(kind)s can join an application as a "
                         "partner instead, when its lead adds it.",
                         kinds=_kinds(call.allowed_lead_kinds), kind=plan.lead_kind.label.lower()))
    allowed = call.allowed_partner_kinds or list(OrganisationKind)
    counted = sum(count for kind, count in plan.partners.items() if kind in allowed and count > 0)
    if call.min_partners and counted < call.min_partners:
        reasons.append(ngettext(
            "The call needs at least %(num)d partner organisation of these kinds: %(kinds)s; you named %(named)d.",
            "The call needs at least %(num)d partner organisations of these kinds: %(kinds)s; you named %(named)d.",
            call.min_partners, kinds=_kinds(allowed), named=counted))
    if plan.amount_cents is not None and call.award_ceiling_cents is not None:
        floor = call.award_floor_cents or 0
        if not floor <= plan.amount_cents <= call.award_ceiling_cents:
            reasons.append(_("Awards run from %(floor)s to %(ceiling)s; you plan to ask for %(amount)s.",
                             floor=format_money(floor), ceiling=format_money(call.award_ceiling_cents),
                             amount=format_money(plan.amount_cents)))
    if call.min_community_share_percent:
        reminders.append(_("At least %(share)s%% of the budget must go to community partners.",
                           share=call.min_community_share_percent))
    if call.requires_partner_signoff:
        reminders.append(_("Each partner's named contact signs the application off before it is submitted, with "
                           "an account of their own."))
    if call.closes_at is not None and phase is CallPhase.OPEN:
        reminders.append(_("Applications must be submitted before %(date)s.",
                           date=format_instant(call.closes_at, call.time_zone)))
    return Verdict(reasons, reminders)
