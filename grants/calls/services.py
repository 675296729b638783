"""Call rules: writing a call, what may change once it is published, publishing, archiving.

Every function changes objects and records audit events; none commits. ``now`` defaults to
the server clock; tests and the demo data pass their own.

What a published call may still change (issue #3: nothing that could hurt applicants who
already started): a published call may be clarified and relaxed, never tightened.

- Wording: title, summary, description, eligibility, and the wording of questions,
  documents, rubric criteria, metrics and milestones (every change is in the audit log).
- Dates: the closing instant may move later (an extension; applicants in progress are
  e-mailed); the opening instant may change only while the call has not opened yet.
- Money: the award ceiling, total funds and expected number of awards may go up, the award
  floor may go down.
- Partnership rules: kinds may be added, minimums lowered, partner sign-off dropped.
- Application form: optional questions and optional documents may be added; a word limit
  may be raised; a required question or document may become optional.
- Fixed: the time zone, rubric weights and scales, milestone offsets and payment shares,
  document scopes; nothing may be removed (only a draft loses items).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants.accounts.enums import OrganisationKind
from grants.audit.services import record_event
from grants.calls.enums import CALL_TRANSITIONS, CallStatus, DocumentScope, QuestionStage
from grants.calls.models import (
    Call,
    CallDocument,
    CallQuestion,
    CheckInStatement,
    MilestoneTemplate,
    OutcomeMetric,
    RubricCriterion,
)
from grants.core.errors import DomainError, StaleEdit
from grants.core.lifecycle import apply_transition
from grants.core.money import format_money
from grants.core.dates import format_instant
from grants.core.timezones import is_valid_zone
from grants.core.types import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email


Problems = list[tuple[str | None, str]]  # (field, reason); None: no single field


class ChangesRefused(DomainError):
    """A change refused for one or more reasons; ``problems`` pairs each reason with the field
    it concerns, so forms can show it at that field."""

    def __init__(self, problems: Problems):
        super().__init__(" ".join(message for _field, message in problems))
        self.problems = problems


class CallNotReady(DomainError):
    """Publication refused; ``problems`` lists, in words, what is still missing."""

    def __init__(self, problems: list[str]):
        super().__init__("This call cannot be published yet. " + " ".join(problems))
        self.problems = problems


# --- what may change once published -----------------------------------------------------

@dataclass(frozen=True)
class ChangeRule:
    allows: Callable[[Any, Any], bool]
    refusal: str  # "{label}" is the changed field's name in words


def _at_least(old, new) -> bool:
    return new is not None and (old is None or new >= old)


def _at_most(old, new) -> bool:
    return new is not None and (old is None or new <= old)


FREE = ChangeRule(lambda old, new: True, "")
FIXED = ChangeRule(lambda old, new: old == new, "{label} cannot change once the call is published.")
LATER_ONLY = ChangeRule(_at_least, "{label} can only move later once the call is published (an extension; it "
                                   "is {was}): applicants who already started have planned to it.")
MAY_RISE = ChangeRule(_at_least, "{label} can only go up once the call is published (it is {was}): applicants "
                                 "who already started may have planned to it.")
MAY_FALL = ChangeRule(_at_most, "{label} can only go down once the call is published (it is {was}): applicants "
                                "who already started may have planned to it.")
MAY_WIDEN = ChangeRule(lambda old, new: set(old or []) <= set(new or []),
                       "{label} can gain kinds but not lose any once the call is published: applicants may "
                       "already have chosen their organisations.")
MAY_TURN_OFF = ChangeRule(lambda old, new: not new or bool(old),
                          "{label} can be dropped but not added once the call is published: applicants who "
                          "already started would face a new requirement.")
# None is "no limit", the most generous of all.
LIMIT_MAY_RISE = ChangeRule(lambda old, new: new is None or (old is not None and new >= old),
                            "{label} can only go up once the call is published (it is {was}): answers already "
                            "written could no longer fit.")

PUBLISHED_CALL_RULES: dict[str, ChangeRule] = {
    "title": FREE, "summary": FREE, "description": FREE, "eligibility": FREE,
    "title_es": FREE, "summary_es": FREE, "description_es": FREE, "eligibility_es": FREE,
    "time_zone": FIXED,
    "closes_at": LATER_ONLY,
    "loi_closes_at": ChangeRule(lambda old, new: old is None and new is None or _at_least(old, new),
                                "{label} can only move later once the call is published (it is {was}); a "
                                "published call cannot become, or stop being, two-stage."),
    "loi_min_partners": MAY_FALL,
    # opens_at: while the call has not opened yet, see _published_call_refusals.
    "award_floor_cents": MAY_FALL, "award_ceiling_cents": MAY_RISE, "total_funds_cents": MAY_RISE,
    "expected_awards": MAY_RISE,
    "lead_kinds": MAY_WIDEN, "partner_kinds": MAY_WIDEN,
    "min_partners": MAY_FALL, "min_community_share_percent": MAY_FALL,
    "requires_partner_signoff": MAY_TURN_OFF,
}

CALL_FIELD_LABELS = {
    "title": "The title", "summary": "The summary", "description": "The description",
    "eligibility": "The eligibility text", "title_es": "The title in Spanish", "summary_es": "The summary in Spanish",
    "description_es": "The description in Spanish", "eligibility_es": "The eligibility text in Spanish",
    "time_zone": "The time zone", "opens_at": "The opening date",
    "closes_at": "The closing date", "award_floor_cents": "The award floor",
    "award_ceiling_cents": "The award ceiling", "total_funds_cents": "The total funds",
    "expected_awards": "The expected number of awards", "lead_kinds": "The kinds of lead organisation",
    "partner_kinds": "The kinds of partner organisation", "min_partners": "The minimum number of partners",
    "min_community_share_percent": "The minimum community share", "requires_partner_signoff": "Partner sign-off",
    "loi_closes_at": "The letter-of-intent deadline",
    "loi_min_partners": "The number of partners a letter of intent names",
}
CALL_FIELDS = frozenset(CALL_FIELD_LABELS)


@dataclass(frozen=True)
class ItemKind:
    """How the services treat one kind of item a call defines."""

    noun: str                 # in messages and audit actions: "call.<noun>_added"
    collection: str           # the Call relationship holding them
    fields: dict[str, str]    # field → its name in words
    published_rules: dict[str, ChangeRule]
    # Why it cannot be added to or removed from a published call.
    published_add_refusal: str
    published_remove_refusal: str
    addable_when_published: Callable[[dict], bool] = lambda fields: False


ITEM_KINDS: dict[type, ItemKind] = {
    CallQuestion: ItemKind(
        "question", "questions",
        {"prompt": "The question", "help_text": "The help text", "word_limit": "The word limit",
         "is_required": "“Required”", "stage": "The stage that asks it"},
        {"prompt": FREE, "help_text": FREE, "word_limit": LIMIT_MAY_RISE, "is_required": MAY_TURN_OFF,
         "stage": FIXED},
        "Only optional questions can be added once the call is published: applicants who already "
        "submitted could not answer a new required one.",
        "Questions cannot be removed once the call is published: applicants may already have answered them. "
        "You can reword the question, raise its word limit or make it optional.",
        addable_when_published=lambda fields: not fields.get("is_required", True),
    ),
    CallDocument: ItemKind(
        "document", "documents",
        {"name": "The document name", "help_text": "The help text", "is_required": "“Required”",
         "scope": "Whether it is one per application or one from each partner"},
        {"name": FREE, "help_text": FREE, "is_required": MAY_TURN_OFF, "scope": FIXED},
        "Only optional documents can be added once the call is published: applicants who already "
        "submitted could not attach a new required one.",
        "Documents cannot be removed once the call is published: applicants may already have attached them. "
        "You can make the document optional instead.",
        addable_when_published=lambda fields: not fields.get("is_required", True),
    ),
    RubricCriterion: ItemKind(
        "criterion", "criteria",
        {"name": "The criterion", "description": "The description", "weight": "The weight",
         "scale_min": "The lowest score", "scale_max": "The highest score", "anchors": "The scale anchors"},
        {"name": FREE, "description": FREE, "anchors": FREE, "weight": FIXED, "scale_min": FIXED,
         "scale_max": FIXED},
        "Rubric criteria cannot be added once the call is published: applicants wrote to the published rubric.",
        "Rubric criteria cannot be removed once the call is published: applicants wrote to the published rubric.",
    ),
    OutcomeMetric: ItemKind(
        "metric", "metrics",
        {"name": "The metric", "unit": "The unit"},
        {"name": FREE, "unit": FREE},
        "Outcome metrics cannot be added once the call is published: applicants planned what they will report.",
        "Outcome metrics cannot be removed once the call is published: applicants planned what they will report.",
    ),
    CheckInStatement: ItemKind(
        "check_in_statement", "check_in_statements",
        {"text": "The statement"},
        {"text": FREE},
        "",
        "Check-in statements cannot be removed once the call is published: partnerships may already have rated "
        "them. You can reword one instead.",
        addable_when_published=lambda fields: True,
    ),
    MilestoneTemplate: ItemKind(
        "milestone", "milestones",
        {"name": "The milestone", "offset_days": "The due day", "payment_share_percent": "The payment share"},
        {"name": FREE, "offset_days": FIXED, "payment_share_percent": FIXED},
        "Milestones cannot be added once the call is published: applicants planned their budgets to the "
        "published payment schedule.",
        "Milestones cannot be removed once the call is published: applicants planned their budgets to the "
        "published payment schedule.",
    ),
}


def _plain(value):
    """A value as the audit log's JSON keeps it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def _changes(obj, fields: dict) -> dict[str, tuple[Any, Any]]:
    return {name: (getattr(obj, name), new) for name, new in fields.items() if getattr(obj, name) != new}


def _audit_changes(changes: dict[str, tuple[Any, Any]]) -> dict:
    return {name: {"from": _plain(old), "to": _plain(new)} for name, (old, new) in changes.items()}


def _refusals(rules: dict[str, ChangeRule], labels: dict[str, str], changes: dict,
              describe: Callable[[str, Any], str] = lambda name, value: str(value)) -> Problems:
    """Each change its rule refuses, as (field, reason); ``describe`` words a current value."""
    refused = []
    for name, (old, new) in changes.items():
        rule = rules.get(name, FIXED)
        if not rule.allows(old, new):
            refused.append((name, rule.refusal.format(label=labels[name], was=describe(name, old))))
    return refused


# --- the call itself --------------------------------------------------------------------

def _normalise_call_fields(fields: dict) -> dict:
    unknown = set(fields) - CALL_FIELDS
    if unknown:
        raise TypeError(f"not fields of a call: {', '.join(sorted(unknown))}")
    fields = dict(fields)
    for name in ("title", "summary", "description", "eligibility", "time_zone", "title_es", "summary_es",
                 "description_es", "eligibility_es"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
    for name in ("title", "title_es"):
        if name in fields:
            fields[name] = " ".join(fields[name].split())
    for name in ("lead_kinds", "partner_kinds"):
        if name in fields:
            values = {getattr(kind, "value", kind) for kind in fields[name] or []}
            unknown_kinds = values - {kind.value for kind in OrganisationKind}
            if unknown_kinds:
                raise DomainError(f"Unknown kinds of organisation: {', '.join(sorted(unknown_kinds))}.")
            # In the order the kinds are listed everywhere, so equal sets compare equal.
            fields[name] = [kind.value for kind in OrganisationKind if kind.value in values]
    for name in ("requires_partner_signoff",):
        if name in fields:
            fields[name] = bool(fields[name])
    return fields


def _value_problems(values: dict) -> Problems:
    """What is wrong with a call holding ``values``, whatever its state."""
    problems = []
    if not values.get("title"):
        problems.append(("title", "Give the call a title."))
    if not is_valid_zone(values.get("time_zone") or ""):
        problems.append(("time_zone", f"“{values.get('time_zone')}” is not a time zone; choose one from the list."))
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens is not None and closes is not None and closes <= opens:
        problems.append(("closes_at", "The closing date must come after the opening date."))
    floor, ceiling, total = (values.get(name) for name in
                             ("award_floor_cents", "award_ceiling_cents", "total_funds_cents"))
    if any(amount is not None and amount < 0 for amount in (floor, ceiling, total)):
        problems.append((None, "Amounts of money cannot be negative."))
    if floor is not None and ceiling is not None and floor > ceiling:
        problems.append(("award_floor_cents", f"The award floor ({format_money(floor)}) is above the award "
                                              f"ceiling ({format_money(ceiling)})."))
    if ceiling is not None and total is not None and ceiling > total:
        problems.append(("award_ceiling_cents", f"The award ceiling ({format_money(ceiling)}) is above the "
                                                f"total funds ({format_money(total)})."))
    if values.get("expected_awards") is not None and values["expected_awards"] < 1:
        problems.append(("expected_awards", "The expected number of awards must be at least 1."))
    loi_closes = values.get("loi_closes_at")
    if loi_closes is not None and ((opens is not None and loi_closes <= opens)
                                   or (closes is not None and loi_closes >= closes)):
        problems.append(("loi_closes_at", "Letters of intent must close after the call opens and before full "
                                          "proposals close."))
    if (values.get("loi_min_partners") or 0) < 0:
        problems.append(("loi_min_partners", "The number of partners a letter of intent names cannot be negative."))
    if (values.get("min_partners") or 0) < 0:
        problems.append(("min_partners", "The minimum number of partners cannot be negative."))
    if not 0 <= (values.get("min_community_share_percent") or 0) <= 100:
        problems.append(("min_community_share_percent", "The minimum community share is a percentage, from 0 to 100."))
    return problems


def _current_values(call: Call) -> dict:
    return {name: getattr(call, name) for name in CALL_FIELDS | {"opens_at"}}


def create_call(*, created_by, title: str, time_zone: str | None = None, **fields) -> Call:
    """A new DRAFT call. Only a title is needed; the rest may be filled in before publishing."""
    fields = _normalise_call_fields({"title": title,
                                     "time_zone": time_zone or current_app.config["CALL_DEFAULT_TIME_ZONE"],
                                     **fields})
    problems = _value_problems(fields)
    if problems:
        raise ChangesRefused(problems)
    call = Call(status=CallStatus.DRAFT, created_by=created_by, **fields)
    db.session.add(call)
    db.session.flush()
    record_event("call.created", actor=created_by, target=call, details={"title": call.title})
    return call


def _published_call_refusals(call: Call, changes: dict, now: datetime) -> Problems:
    def describe(name: str, value) -> str:
        if isinstance(value, datetime):
            return format_instant(value, call.time_zone)
        if name.endswith("_cents"):
            return format_money(value)
        return str(value)

    refused = _refusals(PUBLISHED_CALL_RULES, CALL_FIELD_LABELS,
                        {name: change for name, change in changes.items() if name != "opens_at"}, describe)
    if "opens_at" in changes:
        old, new = changes["opens_at"]
        if old is not None and old <= now:
            refused.append(("opens_at", "The opening date cannot change: the call has already opened."))
        elif new is None:
            refused.append(("opens_at", "A published call needs an opening date."))
        elif new < now:
            refused.append(("opens_at", "A published call cannot be given an opening date in the past."))
    for name, missing in (("summary", "a summary"), ("description", "a description"),
                          ("eligibility", "its eligibility text")):
        if name in changes and not changes[name][1]:
            refused.append((name, f"A published call needs {missing}; applicants read it."))
    return refused


def update_call(call: Call, *, changed_by, now: datetime | None = None, expected_version: int | None = None,
                **fields) -> dict[str, tuple[Any, Any]]:
    """Change the call's own fields (not its items); returns the changes made.

    On a published call only the changes listed in this module's docstring are allowed.
    A refused change raises ChangesRefused naming every refused field, and changes nothing.
    ``expected_version``: the version the editor's form was built from; StaleEdit if another
    save came in between. Side effects: audit event ``call.updated`` with every change; a later
    closing instant on a published call also records ``call.deadline_extended`` and e-mails
    everyone with an application in progress.
    """
    now = now or utcnow()
    if call.is_archived:
        raise DomainError("This call is archived; it can no longer be changed.")
    if expected_version is not None and expected_version != call.version:
        raise StaleEdit("Someone else saved changes to this call after you opened this form, so nothing was "
                        "saved. Your entries are kept below: check the call's current details, then save again.")
    changes = _changes(call, _normalise_call_fields(fields))
    if not changes:
        return {}
    problems = _value_problems({**_current_values(call), **{name: new for name, (_old, new) in changes.items()}})
    if call.is_published:
        problems += _published_call_refusals(call, changes, now)
    if problems:
        raise ChangesRefused(problems)
    for name, (_old, new) in changes.items():
        setattr(call, name, new)
    record_event("call.updated", actor=changed_by, target=call, details=_audit_changes(changes))
    if call.is_published and "closes_at" in changes:
        _announce_extension(call, *changes["closes_at"], changed_by=changed_by)
    return changes


def applicants_of(call: Call) -> list:
    """The people with an application to ``call`` in progress (owners and collaborators of
    drafts): they hear of deadline changes."""
    from grants.applications.services import applications_in_progress, people_to_tell

    people = {}
    for application in applications_in_progress(call):
        for person in people_to_tell(application):
            people[person.id] = person
    return list(people.values())


def _announce_extension(call: Call, old: datetime, new: datetime, *, changed_by) -> None:
    old_deadline, new_deadline = format_instant(old, call.time_zone), format_instant(new, call.time_zone)
    recipients = applicants_of(call)
    record_event("call.deadline_extended", actor=changed_by, target=call,
                 details={"from": old.isoformat(), "to": new.isoformat(), "notified": len(recipients)})
    for user in recipients:
        queue_email(recipient=user.email, recipient_user=user, kind="call_deadline_extended",
                    subject=_l("Deadline extended: %(title)s", title=call.title), template="call_deadline_extended",
                    user=user, call=call, old_deadline=old_deadline, new_deadline=new_deadline,
                    link=external_url("calls.call_detail", call_id=call.id))


# --- items: questions, documents, rubric criteria, metrics, check-in statements, milestones

def _normalise_item_fields(kind: ItemKind, fields: dict) -> dict:
    unknown = set(fields) - set(kind.fields)
    if unknown:
        raise TypeError(f"not fields of a {kind.noun}: {', '.join(sorted(unknown))}")
    fields = dict(fields)
    for name, value in fields.items():
        if isinstance(value, str):
            fields[name] = value.strip()
    if "scope" in fields and not isinstance(fields["scope"], DocumentScope):
        fields["scope"] = DocumentScope(fields["scope"])
    if "stage" in fields and not isinstance(fields["stage"], QuestionStage):
        try:
            fields["stage"] = QuestionStage(fields["stage"] or "full")
        except ValueError:
            raise DomainError("Choose the stage that asks the question.") from None
    return fields


def _item_problems(item_type: type, values: dict, call: Call, item=None) -> Problems:
    problems = []
    if item_type is CallQuestion:
        if not values.get("prompt"):
            problems.append(("prompt", "Write the question."))
        if values.get("word_limit") is not None and values["word_limit"] < 1:
            problems.append(("word_limit", "A word limit must be at least 1 word; leave it empty for no limit."))
    elif item_type is CheckInStatement:
        if not values.get("text"):
            problems.append(("text", "Write the statement."))
    elif not values.get("name"):
        problems.append(("name", f"Give the {ITEM_KINDS[item_type].noun} a name."))
    if item_type is RubricCriterion:
        if (values.get("weight") or 0) < 1:
            problems.append(("weight", "A criterion's weight must be at least 1."))
        low, high = values.get("scale_min"), values.get("scale_max")
        if low is None or high is None or low < 0 or high <= low:
            problems.append(("scale_max", "The scale runs from a lowest score of 0 or more to a higher highest score."))
    if item_type is MilestoneTemplate:
        if (values.get("offset_days") or 0) < 0:
            problems.append(("offset_days",
                             "A milestone is due on or after the day the award starts (0 days or more)."))
        share = values.get("payment_share_percent")
        if share is None or not 0 <= share <= 100:
            problems.append(("payment_share_percent", "The payment share is a percentage, from 0 to 100."))
        else:
            others = sum(m.payment_share_percent for m in call.milestones if m is not item)
            if others + share > 100:
                problems.append(("payment_share_percent",
                                 f"The payment shares would add up to {others + share}%; together they must come "
                                 f"to 100%. The other milestones already take {others}%."))
    return problems


def _refuse_if_archived(call: Call) -> None:
    if call.is_archived:
        raise DomainError("This call is archived; it can no longer be changed.")


def add_call_item(call: Call, item_type: type, *, changed_by, **fields):
    """Append a question, document, criterion, metric, check-in statement or milestone to ``call``.

    On a published call only optional questions and documents, and check-in statements (asked
    after the award), may be added. Audit event
    ``call.<noun>_added``.
    """
    kind = ITEM_KINDS[item_type]
    _refuse_if_archived(call)
    fields = _normalise_item_fields(kind, fields)
    if call.is_published and not kind.addable_when_published(fields):
        raise DomainError(kind.published_add_refusal)
    problems = _item_problems(item_type, fields, call)
    if problems:
        raise ChangesRefused(problems)
    siblings = getattr(call, kind.collection)
    item = item_type(position=max((s.position for s in siblings), default=-1) + 1, **fields)
    siblings.append(item)
    db.session.flush()
    record_event(f"call.{kind.noun}_added", actor=changed_by, target=call,
                 details={"item_id": item.id, **{name: _plain(value) for name, value in fields.items()}})
    return item


def update_call_item(item, *, changed_by, **fields) -> dict[str, tuple[Any, Any]]:
    """Change an item; on a published call within its kind's published rules. Audit event
    ``call.<noun>_updated`` with the changes; a refusal names every refused field."""
    kind = ITEM_KINDS[type(item)]
    call = item.call
    _refuse_if_archived(call)
    changes = _changes(item, _normalise_item_fields(kind, fields))
    if not changes:
        return {}
    values = {name: getattr(item, name) for name in kind.fields}
    values.update({name: new for name, (_old, new) in changes.items()})
    problems = _item_problems(type(item), values, call, item=item)
    if call.is_published:
        problems += _refusals(kind.published_rules, kind.fields, changes,
                              lambda name, value: "unlimited" if value is None else str(value))
    if problems:
        raise ChangesRefused(problems)
    for name, (_old, new) in changes.items():
        setattr(item, name, new)
    record_event(f"call.{kind.noun}_updated", actor=changed_by, target=call,
                 details={"item_id": item.id, **_audit_changes(changes)})
    return changes


def remove_call_item(item, *, changed_by) -> None:
    """Remove an item from a draft call (never from a published one). Audit ``call.<noun>_removed``."""
    kind = ITEM_KINDS[type(item)]
    call = item.call
    _refuse_if_archived(call)
    if not call.is_draft:
        raise DomainError(kind.published_remove_refusal)
    record_event(f"call.{kind.noun}_removed", actor=changed_by, target=call,
                 details={"item_id": item.id,
                          **{name: _plain(getattr(item, name)) for name in kind.fields}})
    getattr(call, kind.collection).remove(item)
    db.session.flush()


def move_call_item(item, *, up: bool, changed_by) -> None:
    """Swap ``item`` with its neighbour above (or below); the order applicants see changes,
    nothing else does. Audit event ``call.<noun>_moved``."""
    kind = ITEM_KINDS[type(item)]
    call = item.call
    _refuse_if_archived(call)
    siblings = sorted(getattr(call, kind.collection), key=lambda s: (s.position, s.id))
    index = siblings.index(item)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings):
        sibling.position = position
    db.session.flush()
    db.session.expire(call, [kind.collection])
    record_event(f"call.{kind.noun}_moved", actor=changed_by, target=call,
                 details={"item_id": item.id, "position": siblings.index(item) + 1})


# --- publishing and archiving -----------------------------------------------------------

def publication_problems(call: Call, now: datetime | None = None) -> list[str]:
    """What the call still needs before applicants can see it, in words; empty when ready."""
    now = now or utcnow()
    problems = []
    for name, missing in (("summary", "Write a summary."), ("description", "Write a description."),
                          ("eligibility", "Write who is eligible.")):
        if not getattr(call, name).strip():
            problems.append(missing)
    if call.opens_at is None or call.closes_at is None:
        problems.append("Set the opening and closing dates.")
    elif call.closes_at <= now:
        problems.append("Set a closing date in the future: this one has passed.")
    for name, missing in (("award_floor_cents", "the award floor"), ("award_ceiling_cents", "the award ceiling"),
                          ("total_funds_cents", "the total funds"),
                          ("expected_awards", "the expected number of awards")):
        if getattr(call, name) is None:
            problems.append(f"Set {missing}.")
    if not call.lead_kinds:
        problems.append("Choose which kinds of organisation may lead an application.")
    if call.min_partners > 0 and not call.partner_kinds:
        problems.append(f"Choose which kinds of organisation count as partners (the call asks for at least "
                        f"{call.min_partners}).")
    if not call.questions:
        problems.append("Add at least one narrative question.")
    if not call.criteria:
        problems.append("Add the review rubric: at least one weighted criterion.")
    if not call.milestones:
        problems.append("Add the milestones, with payment shares that add up to 100%.")
    elif call.milestone_share_total != 100:
        problems.append(f"Make the milestones' payment shares add up to 100% (now {call.milestone_share_total}%).")
    return problems


def publish_call(call: Call, *, published_by, now: datetime | None = None) -> None:
    """DRAFT → PUBLISHED: the call appears on the public pages. Refused with CallNotReady
    (listing every gap) while anything applicants need is missing. Audit ``call.published``."""
    if call.is_draft:
        problems = publication_problems(call, now)
        if problems:
            raise CallNotReady(problems)
    apply_transition(call, CallStatus.PUBLISHED, CALL_TRANSITIONS, actor=published_by, action="call.published")


def archive_call(call: Call, *, archived_by, now: datetime | None = None) -> None:
    """→ ARCHIVED: gone from the public pages, kept for the record. Refused while the call is
    open (applicants are working on it). Audit ``call.archived``."""
    if call.is_published and call.is_open(now):
        raise DomainError(f"This call is open until {format_instant(call.closes_at, call.time_zone)}: applicants "
                          "are working on it. Archive it after it closes.")
    apply_transition(call, CallStatus.ARCHIVED, CALL_TRANSITIONS, actor=archived_by, action="call.archived")


# --- finding calls ----------------------------------------------------------------------

def open_and_upcoming_calls(now: datetime | None = None) -> list[Call]:
    """Published calls that have not closed yet, the soonest deadline first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Call).where(Call.status == CallStatus.PUBLISHED, Call.closes_at > now)
        .order_by(Call.closes_at, Call.id)))
