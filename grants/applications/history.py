"""An application's history as a person reads it: names instead of ids, no hashes.

The audit log keeps what each event recorded (ids, digests) for investigators; the officer's
history names the partner, the budget line, the question and the file instead. Everything is
resolved from the application's own loaded parts and from the events themselves, so a page of
history costs no query per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from grants.applications.enums import BudgetCategory, CollaboratorRole

# Recorded for investigators; a person reading the history has no use for them.
_HIDDEN = {"sha256", "call_id", "application_id", "endpoint", "method", "path", "from", "to"}
_LABELS = {"slot": "Document", "filename": "File", "contact": "Contact", "organisation": "Partner",
           "share": "Budget share", "amount": "Amount", "reason": "Reason", "email": "E-mail", "role": "Access",
           "version": "Version", "questions": "Questions", "category": "Category", "title": "Title",
           "summary": "Summary", "reference": "Reference", "outcome": "Outcome", "description": "Line"}


@dataclass(frozen=True)
class HistoryEntry:
    occurred_at: datetime
    who: str
    what: str
    details: str


def _label(action: str) -> str:
    return action.split(".", 1)[-1].replace("_", " ").capitalize()


def _line_text(category: str | None, description: str | None) -> str:
    try:
        label = BudgetCategory(category).label if category else ""
    except ValueError:
        label = category or ""
    return " – ".join(part for part in (label, description) if part) or "a budget line"


class _Names:
    """What the ids in an application's events refer to, from its parts and its events."""

    def __init__(self, application, events):
        self.partners = {p.id: p.organisation.name for p in application.partners}
        self.lines = {line.id: _line_text(line.category.value, line.description) for line in application.budget_lines}
        self.questions = {q.id: f"question {q.position + 1}" for q in application.call.questions}
        for event in events:
            details = event.details or {}
            if "partner_id" in details and details.get("organisation"):
                self.partners.setdefault(details["partner_id"], details["organisation"])
            if "line_id" in details and details.get("category"):
                self.lines.setdefault(details["line_id"], _line_text(details["category"], details.get("description")))

    def partner(self, partner_id) -> str:
        return self.partners.get(partner_id, "a partner since removed")

    def line(self, line_id) -> str:
        return self.lines.get(line_id, "a budget line since removed")


def _describe(details: dict, names: _Names) -> str:
    shown = []
    if "from" in details and "to" in details:
        shown.append(f"{details['from']} → {details['to']}".replace("_", " "))
    if "line_id" in details:
        shown.append(f"Line: {names.line(details['line_id'])}")
    if details.get("partner_id") is not None and "organisation" not in details:
        shown.append(f"Partner: {names.partner(details['partner_id'])}")
    for key, value in details.items():
        if key in _HIDDEN or key.endswith("_id") or key in ("category", "description") and "line_id" in details:
            continue
        label = _LABELS.get(key, key.replace("_", " ").capitalize())
        if key == "questions":
            value = [names.questions.get(q, "a question since removed") for q in value] or ["none changed"]
        elif key == "role":
            value = CollaboratorRole(value).label if value in {r.value for r in CollaboratorRole} else value
        elif key == "category":
            value = _line_text(value, None)
        if isinstance(value, dict) and "from" in value and "to" in value:
            shown.append(f"{label}: {value['from']} → {value['to']}")
        elif isinstance(value, (list, tuple)):
            shown.append(f"{label}: {', '.join(str(v) for v in value) if value else 'none'}")
        elif value is not None and value != "":
            shown.append(f"{label}: {value}")
    return "; ".join(shown) if shown else "—"


def describe_history(application, events) -> list[HistoryEntry]:
    """Each event of ``application`` (oldest first) as When / Who / What / Details."""
    names = _Names(application, events)
    return [HistoryEntry(occurred_at=event.occurred_at, who=event.actor_email or "—", what=_label(event.action),
                         details=_describe(event.details or {}, names)) for event in events]
