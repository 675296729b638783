"""Application rules: starting, editing, partners and budget, the checklist, submission,
withdrawal, discarding a draft and screening.

Every function changes objects and records audit events; none commits. Editing functions
take the ``expected_version`` the editor's form was built from and refuse (StaleEdit) when
someone saved the application since, so nobody overwrites anyone else silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import contains_eager, joinedload, lazyload

from grants.accounts.enums import OrganisationKind, OrganisationStatus
from grants.accounts.models import Organisation
from grants.accounts.services import find_user_by_email, normalise_email, propose_organisation
from grants.applications.enums import (
    APPLICATION_TRANSITIONS,
    LOI_TRANSITIONS,
    ApplicationStage,
    ApplicationStatus,
    BudgetCategory,
    TaskStatus,
)
from grants.applications.models import Answer, Application, BudgetLine, Partner, ReferenceCounter, count_words
from grants.audit.services import record_event
from grants.calls.enums import DocumentScope
from grants.core.errors import DomainError, PermissionDenied, StaleEdit
from grants.core.lifecycle import apply_transition
from grants.core.money import format_money
from grants.core.dates import format_instant
from grants.core.types import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email

STALE_MESSAGE = ("Someone else saved this application after you opened this page, so your change was not "
                 "saved. What you typed is kept below: reload the section to see their version, then apply "
                 "your change again.")


def transitions_of(application: Application):
    """The lifecycle table of a letter of intent or of a full proposal."""
    return LOI_TRANSITIONS if application.is_loi else APPLICATION_TRANSITIONS


def check_version(application: Application, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != application.version:
        raise StaleEdit(STALE_MESSAGE)


def _require_draft(application: Application) -> None:
    if not application.is_draft:
        raise DomainError(f"This application is {application.status.label.lower()}; its content can no longer "
                          "change.")


def _touch(application: Application) -> None:
    # Any change to a part counts as a change of the application (its version goes up).
    application.updated_at = utcnow()


def _begin_edit(application: Application, expected_version: int | None) -> None:
    _require_draft(application)
    check_version(application, expected_version)
    _touch(application)


# --- starting and the overview ----------------------------------------------------------

def start_application(call, *, owner, title: str, now: datetime | None = None) -> Application:
    """A DRAFT application to ``call`` led by the owner's organisation."""
    from grants.applications.permissions import can_start_application

    title = " ".join((title or "").split())
    if not title:
        raise DomainError("Give the project a working title; you can change it later.")
    if call.is_two_stage:
        if not call.is_published or not call.is_loi_open(now):
            raise DomainError(_("Letters of intent to this call closed on %(when)s; only invited applicants "
                                "may now submit a full proposal.",
                                when=format_instant(call.loi_closes_at, call.time_zone)))
    elif not call.is_published or not call.is_open(now):
        raise DomainError("This call is not open for applications.")
    if not can_start_application(owner, call, now):
        kinds = ", ".join(kind.label.lower() for kind in call.allowed_lead_kinds) or "an eligible organisation"
        raise PermissionDenied(f"Applications to this call are led by a {kinds}; "
                               f"{owner.organisation.name} cannot lead one.")
    stage = ApplicationStage.LOI if call.is_two_stage else ApplicationStage.FULL
    application = Application(call=call, lead_organisation=owner.organisation, owner=owner, title=title[:250],
                              stage=stage)
    db.session.add(application)
    db.session.flush()
    record_event("application.started", actor=owner, target=application,
                 details={"call_id": call.id, "stage": stage.value})
    return application


def update_overview(application: Application, *, editor, expected_version: int | None, title: str,
                    summary: str) -> None:
    _begin_edit(application, expected_version)
    title = " ".join((title or "").split())
    if not title:
        raise DomainError("Give the project a title.")
    changes = {}
    if title != application.title:
        changes["title"] = {"from": application.title, "to": title}
    if summary != application.summary:
        changes["summary"] = "changed"
    application.title, application.summary = title[:250], summary or ""
    record_event("application.overview_saved", actor=editor, target=application, details=changes)


def word_limit_problems(application: Application, texts: dict[int, str]) -> dict[int, str]:
    """Per question id, the refusal for an answer over its word limit."""
    problems = {}
    for question in application.questions:
        words = count_words(texts.get(question.id, ""))
        if question.word_limit and words > question.word_limit:
            problems[question.id] = (f"This answer has {words} words; the limit is {question.word_limit}. "
                                     f"Shorten it by {words - question.word_limit}.")
    return problems


def save_answers(application: Application, *, editor, expected_version: int | None, texts: dict[int, str]) -> None:
    """Save the narrative answers. Refuses the whole save (nothing changes) when any answer is
    over its question's word limit: the limit is enforced here, not only in the browser."""
    _begin_edit(application, expected_version)
    problems = word_limit_problems(application, texts)
    if problems:
        raise AnswersTooLong(problems)
    changed = []
    for question in application.questions:
        if question.id not in texts:
            continue
        text = texts[question.id].strip()
        answer = application.answer_to(question.id)
        if answer is None:
            answer = Answer(question=question, text="")
            application.answers.append(answer)
        if answer.text != text:
            answer.text = text
            changed.append(question.id)
    record_event("application.answers_saved", actor=editor, target=application, details={"questions": changed})


class AnswersTooLong(DomainError):
    def __init__(self, problems: dict[int, str]):
        super().__init__("Some answers are over their word limit; nothing was saved.")
        self.problems = problems


# --- partners ---------------------------------------------------------------------------

def _partner_organisation(application: Application, organisation: Organisation | None,
                          new_organisation: dict | None) -> Organisation:
    if organisation is None:
        if not new_organisation or not (new_organisation.get("name") or "").strip():
            raise DomainError("Choose the partner organisation, or give the name of a new one.")
        # A partner new to the system is recorded as proposed; an admin approves it later.
        organisation = propose_organisation(**new_organisation)
    elif organisation.status is OrganisationStatus.REJECTED:
        raise DomainError(f"{organisation.name} cannot be a partner.")
    if organisation.id == application.lead_organisation_id:
        raise DomainError(f"{organisation.name} leads this application; add other organisations as partners.")
    if any(p.organisation_id == organisation.id for p in application.partners):
        raise DomainError(f"{organisation.name} is already a partner on this application.")
    return organisation


def _contact(contact_name: str, contact_email: str) -> tuple[str, str]:
    name, email = " ".join((contact_name or "").split()), normalise_email(contact_email or "")
    if not name or "@" not in email:
        raise DomainError("Give the partner's contact person and their e-mail address.")
    return name, email


def people_of(organisation_ids) -> dict[int, list]:
    """Organisation id → its active people by name, in one query: whom a partner's contact can
    be picked from (their account is what signs off)."""
    from grants.accounts.enums import UserStatus
    from grants.accounts.models import User

    ids = list(organisation_ids)
    people: dict[int, list] = {organisation_id: [] for organisation_id in ids}
    if ids:
        for user in db.session.scalars(select(User).where(User.organisation_id.in_(ids),
                                                          User.status == UserStatus.ACTIVE)
                                       .order_by(func.lower(User.full_name), User.id)):
            people[user.organisation_id].append(user)
    return people


def _resolve_contact(contact_user, organisation: Organisation, contact_name: str,
                     contact_email: str) -> tuple[str, str]:
    """The contact's name and address: those of ``contact_user``, one of the organisation's
    people, or the typed ones when nobody was picked. Picking one and typing another is refused."""
    from grants.accounts.enums import UserStatus

    if contact_user is None:
        return _contact(contact_name, contact_email)
    if contact_user.organisation_id != organisation.id or contact_user.status is not UserStatus.ACTIVE:
        raise DomainError(f"{contact_user.full_name} is not among the people of {organisation.name}: choose one "
                          "of them, or type the contact's name and e-mail address.")
    typed = normalise_email(contact_email or "")
    if typed and typed != contact_user.email:
        raise DomainError(f"You chose {contact_user.full_name} from the list and typed {typed}: keep one of the "
                          "two (choose “not in the list” to use the typed contact).")
    return contact_user.full_name, contact_user.email


def add_partner(application: Application, *, editor, expected_version: int | None,
                organisation: Organisation | None = None, new_organisation: dict | None = None,
                contact_name: str = "", contact_email: str = "", role_in_project: str, contact_user=None) -> Partner:
    """Add a partner organisation (a registered one, or a new one proposed for approval) with
    its contact: one of its people (``contact_user``, whose account then signs off) or a name
    and address typed for an organisation whose contact has no account yet."""
    _begin_edit(application, expected_version)
    if contact_user is None:
        _contact(contact_name, contact_email)  # refused before a new organisation is proposed
    organisation = _partner_organisation(application, organisation, new_organisation)
    name, email = _resolve_contact(contact_user, organisation, contact_name, contact_email)
    partner = Partner(organisation=organisation, contact_name=name, contact_email=email,
                      role_in_project=(role_in_project or "").strip())
    application.partners.append(partner)
    db.session.flush()
    record_event("application.partner_added", actor=editor, target=application,
                 details={"partner_id": partner.id, "organisation": organisation.name, "contact": email})
    return partner


def update_partner(partner: Partner, *, editor, expected_version: int | None, contact_name: str = "",
                   contact_email: str = "", role_in_project: str, contact_user=None) -> None:
    """Change the partner's section (its contact picked from its people, or typed); a change
    clears the partner's sign-off."""
    application = partner.application
    _begin_edit(application, expected_version)
    name, email = _resolve_contact(contact_user, partner.organisation, contact_name, contact_email)
    role = (role_in_project or "").strip()
    if (name, email, role) == (partner.contact_name, partner.contact_email, partner.role_in_project):
        return
    partner.contact_name, partner.contact_email, partner.role_in_project = name, email, role
    record_event("application.partner_updated", actor=editor, target=application,
                 details={"partner_id": partner.id, "contact": email})
    _clear_sign_off(partner, reason="partner section changed", actor=editor)


def remove_partner(partner: Partner, *, editor, expected_version: int | None) -> None:
    application = partner.application
    _begin_edit(application, expected_version)
    for line in application.budget_lines:
        if line.partner_id == partner.id:
            raise DomainError(f"Budget lines go to {partner.organisation.name}; move or remove them first.")
    record_event("application.partner_removed", actor=editor, target=application,
                 details={"partner_id": partner.id, "organisation": partner.organisation.name})
    application.partners.remove(partner)


def _clear_sign_off(partner: Partner, *, reason: str, actor) -> None:
    if partner.signed_off_at is None:
        return
    partner.signed_off_at = None
    partner.signed_off_by_id = None
    partner.signed_off_share_cents = None
    record_event("application.partner_sign_off_cleared", actor=actor, target=partner.application,
                 details={"partner_id": partner.id, "reason": reason})


def _clear_sign_offs_whose_share_changed(application: Application, *, actor) -> None:
    for partner in application.partners:
        if partner.is_signed_off and application.partner_share_cents(partner) != partner.signed_off_share_cents:
            _clear_sign_off(partner, reason="budget share changed", actor=actor)


def sign_off_partner(partner: Partner, *, user, expected_version: int | None = None) -> None:
    """The partner's contact confirms the partnership and the budget share shown to them.

    With ``expected_version`` (the application's version on the page they confirmed), refused
    when the application changed since: they would confirm a share they did not see."""
    from grants.applications.permissions import can_sign_off_partner

    application = partner.application
    _require_draft(application)
    if not can_sign_off_partner(user, partner):
        raise PermissionDenied("Only the partner's named contact, from the partner organisation, can sign off.")
    if expected_version is not None and int(expected_version) != application.version:
        raise StaleEdit("The application changed after you opened this page, so nothing was signed off. Check the "
                        "partnership and budget share below again, then confirm.")
    partner.signed_off_at = utcnow()
    partner.signed_off_by_id = user.id
    partner.signed_off_share_cents = application.partner_share_cents(partner)
    _touch(application)
    record_event("application.partner_signed_off", actor=user, target=application,
                 details={"partner_id": partner.id, "share": format_money(partner.signed_off_share_cents)})


# --- budget -----------------------------------------------------------------------------

def _budget_partner(application: Application, partner_id: int | None) -> Partner | None:
    if not partner_id:
        return None
    partner = next((p for p in application.partners if p.id == int(partner_id)), None)
    if partner is None:
        raise DomainError("Choose one of this application's partners for a subaward.")
    return partner


def add_budget_line(application: Application, *, editor, expected_version: int | None,
                    category: BudgetCategory, description: str, amount_cents: int,
                    partner_id: int | None = None) -> BudgetLine:
    _begin_edit(application, expected_version)
    description = " ".join((description or "").split())
    if not description:
        raise DomainError("Describe the budget line.")
    if amount_cents is None or amount_cents <= 0:
        raise DomainError("Enter an amount above zero.")
    line = BudgetLine(category=category, description=description[:300], amount_cents=amount_cents,
                      partner=_budget_partner(application, partner_id))
    application.budget_lines.append(line)
    db.session.flush()
    record_event("application.budget_line_added", actor=editor, target=application,
                 details={"line_id": line.id, "category": category.value, "description": line.description,
                          "amount": format_money(amount_cents)})
    _clear_sign_offs_whose_share_changed(application, actor=editor)
    return line


def update_budget_line(line: BudgetLine, *, editor, expected_version: int | None, category: BudgetCategory,
                       description: str, amount_cents: int, partner_id: int | None = None) -> None:
    application = line.application
    _begin_edit(application, expected_version)
    description = " ".join((description or "").split())
    if not description or amount_cents is None or amount_cents <= 0:
        raise DomainError("Describe the budget line and enter an amount above zero.")
    old = format_money(line.amount_cents)
    line.category, line.description, line.amount_cents = category, description[:300], amount_cents
    line.partner = _budget_partner(application, partner_id)
    record_event("application.budget_line_updated", actor=editor, target=application,
                 details={"line_id": line.id, "from": old, "to": format_money(amount_cents)})
    _clear_sign_offs_whose_share_changed(application, actor=editor)


def remove_budget_line(line: BudgetLine, *, editor, expected_version: int | None) -> None:
    application = line.application
    _begin_edit(application, expected_version)
    record_event("application.budget_line_removed", actor=editor, target=application,
                 details={"line_id": line.id, "amount": format_money(line.amount_cents)})
    application.budget_lines.remove(line)
    _clear_sign_offs_whose_share_changed(application, actor=editor)


def budget_by_category(application: Application) -> list[tuple[BudgetCategory, int]]:
    totals = {category: 0 for category in BudgetCategory}
    for line in application.budget_lines:
        totals[line.category] += line.amount_cents
    return [(category, cents) for category, cents in totals.items() if cents]


# --- the checklist ----------------------------------------------------------------------

@dataclass(frozen=True)
class ChecklistItem:
    section: str  # the section of the application where it is fixed
    label: str
    done: bool
    detail: str = ""
    partner_id: int | None = None  # the partner it is for (its documents, its sign-off)


def _kinds_text(kinds: list[OrganisationKind]) -> str:
    return " or ".join(kind.label.lower() for kind in kinds)


def checklist(application: Application, now: datetime | None = None) -> list[ChecklistItem]:
    """Every rule of the call, checked against the application as it is now."""
    call = application.call
    items = [
        ChecklistItem("overview", _("Project title and summary"), bool(application.title and application.summary.strip()),
                      "" if application.summary.strip() else _("Write a summary of the project.")),
    ]
    if call.allowed_lead_kinds:
        items.append(ChecklistItem(
            "overview", f"Lead organisation is a {_kinds_text(call.allowed_lead_kinds)}",
            application.lead_organisation.kind in call.allowed_lead_kinds,
            f"{application.lead_organisation.name} is a {application.lead_organisation.kind.label.lower()}."))
    for question in application.questions:
        answer = application.answer_to(question.id)
        words = answer.word_count if answer else 0
        over = bool(question.word_limit and words > question.word_limit)
        missing = question.is_required and words == 0
        detail = (_("Not answered yet.") if missing else
                  _("%(words)s words; the limit is %(limit)s.", words=words, limit=question.word_limit) if over else "")
        items.append(ChecklistItem("answers", _("Answer: %(question)s", question=question.prompt[:80]),
                                   not missing and not over, detail))
    if application.is_loi:
        # A letter of intent names the lead and its partners; budget and documents come later.
        if call.loi_min_partners:
            count = len(application.partners)
            items.append(ChecklistItem("partners", ngettext("At least %(num)d named partner",
                                                            "At least %(num)d named partners",
                                                            call.loi_min_partners),
                                       count >= call.loi_min_partners,
                                       _("%(count)s so far.", count=count)))
        return items
    if call.min_partners:
        kinds = call.allowed_partner_kinds
        counted = [p for p in application.partners if not kinds or p.organisation.kind in kinds]
        label = f"At least {call.min_partners} partner{'s' if call.min_partners != 1 else ''}" + (
            f" ({_kinds_text(kinds)})" if kinds else "")
        items.append(ChecklistItem("partners", label, len(counted) >= call.min_partners,
                                   f"{len(counted)} so far."))
    requested = application.requested_cents
    items.append(ChecklistItem("budget", _("A budget"), requested > 0, "" if requested else _("Add budget lines.")))
    if requested and call.award_ceiling_cents is not None:
        within = (call.award_floor_cents or 0) <= requested <= call.award_ceiling_cents
        items.append(ChecklistItem(
            "budget", f"Total between {format_money(call.award_floor_cents or 0)} and "
                      f"{format_money(call.award_ceiling_cents)}",
            within, f"The budget totals {format_money(requested)}."))
    if call.min_community_share_percent:
        share = application.community_share_percent
        items.append(ChecklistItem(
            "budget", f"At least {call.min_community_share_percent}% of the budget to community partners",
            requested > 0 and share + 1e-9 >= call.min_community_share_percent,
            f"{share:.1f}% ({format_money(application.community_share_cents)}) goes to community partners now."))
    for document in call.documents:
        if not document.is_required:
            continue
        if document.scope is DocumentScope.PER_PARTNER:
            for partner in application.partners:
                items.append(ChecklistItem(
                    "documents", f"{document.name}: {partner.organisation.name}",
                    application.current_document(document.id, partner.id) is not None, partner_id=partner.id))
        else:
            items.append(ChecklistItem("documents", document.name,
                                       application.current_document(document.id, None) is not None))
    if call.requires_partner_signoff:
        for partner in application.partners:
            items.append(ChecklistItem(
                "sign_off", _("Sign-off by %(name)s", name=partner.organisation.name), partner.is_signed_off,
                "" if partner.is_signed_off else _("Waiting for %(name)s (%(email)s).", name=partner.contact_name,
                                                   email=partner.contact_email),
                partner_id=partner.id))
    return items


def missing_items(application: Application, now: datetime | None = None) -> list[ChecklistItem]:
    return [item for item in checklist(application, now) if not item.done]


# --- the task list ------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """One task of the task list: a section of the application (or a partner's part of one)
    with its status, who does it, and what is still missing."""

    key: str  # "overview", "answers", "partners", "budget", "documents", "sign_off", "submit"
    label: str
    status: TaskStatus
    owner: str  # "The lead organisation" or the partner organisation's name
    partner_id: int | None = None
    missing: tuple[ChecklistItem, ...] = ()


LEAD = _l("The lead organisation")


def _status(items: list[ChecklistItem], started: bool) -> TaskStatus:
    if all(item.done for item in items) and (started or not items):
        return TaskStatus.COMPLETED
    return TaskStatus.IN_PROGRESS if started else TaskStatus.NOT_STARTED


def task_list(application: Application, now: datetime | None = None) -> list[Task]:
    """The application's tasks in the order applicants do them.

    A task is Completed when every rule of the call for it is met (a task with no rule is
    Completed); In progress once something is entered; Not yet started before. A partner's
    sign-off cannot start before the application has a budget (the sign-off confirms the
    partner's share of it); "Check your answers and submit" cannot start while any rule of
    the call is unmet (the checklist of services.checklist).
    """
    call = application.call
    items = checklist(application, now)

    def of(section: str, partner_id: int | None = None) -> list[ChecklistItem]:
        return [i for i in items if i.section == section and i.partner_id == partner_id]

    def task(key, label, section_items, started, owner=LEAD, partner=None, status=None) -> Task:
        return Task(key, label, status or _status(section_items, started), owner,
                    partner.id if partner is not None else None, tuple(i for i in section_items if not i.done))

    answered = any(answer.text.strip() for answer in application.answers)
    tasks = [task("overview", _("Project title and summary"), of("overview"), bool(application.summary.strip()))]
    if application.questions:
        tasks.append(task("answers", _("Answers to the call's questions"), of("answers"), answered))
    tasks.append(task("partners", _("Partners"), of("partners"), bool(application.partners)))
    if application.is_loi:
        missing = [item for item in items if not item.done]
        tasks.append(Task("submit", _("Check your answers and submit"), TaskStatus.CANNOT_START if missing
                          else TaskStatus.NOT_STARTED, LEAD, None, tuple(missing)))
        return tasks
    tasks.append(task("budget", _("Budget"), of("budget"), bool(application.budget_lines)))
    lead_documents = [d for d in call.documents if d.scope is not DocumentScope.PER_PARTNER]
    if lead_documents:
        uploaded = any(application.current_document(d.id, None) for d in lead_documents)
        tasks.append(task("documents", _("Documents"), of("documents"), uploaded))
    partner_documents = [d for d in call.documents if d.scope is DocumentScope.PER_PARTNER]
    for partner in application.partners:
        name = partner.organisation.name
        if partner_documents:
            uploaded = any(application.current_document(d.id, partner.id) for d in partner_documents)
            tasks.append(task("documents", _("Documents from %(name)s", name=name), of("documents", partner.id), uploaded,
                              owner=name, partner=partner))
        if call.requires_partner_signoff:
            tasks.append(task("sign_off", _("Sign-off by %(name)s", name=name), of("sign_off", partner.id), partner.is_signed_off,
                              owner=name, partner=partner,
                              status=None if application.budget_lines else TaskStatus.CANNOT_START))
    missing = [item for item in items if not item.done]
    tasks.append(Task("submit", _("Check your answers and submit"), TaskStatus.CANNOT_START if missing
                      else TaskStatus.NOT_STARTED, LEAD, None, tuple(missing)))
    return tasks


# --- submission, withdrawal, screening --------------------------------------------------

def _closed_message(call, application=None) -> str:
    if application is not None and application.is_loi:
        return _("Letters of intent to this call closed on %(when)s; this letter can no longer be submitted.",
                 when=format_instant(call.loi_closes_at, call.time_zone))
    return (f"The call closed on {format_instant(call.closes_at, call.time_zone)}; applications can no longer be "
            "submitted.")


def _next_reference(application: Application) -> str:
    # The counter row is locked (FOR UPDATE on PostgreSQL) so two submissions never share
    # a number; on SQLite the write lock serialises them. The call's first two submissions
    # at once would both create it: the one that loses waits, then takes the next number.
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(insert(ReferenceCounter).values(call_id=application.call_id, last_number=0)
                       .on_conflict_do_nothing(index_elements=["call_id"]))
    counter = db.session.scalars(select(ReferenceCounter).where(ReferenceCounter.call_id == application.call_id)
                                 .with_for_update().execution_options(populate_existing=True)).one()
    counter.last_number += 1
    opened = application.call.opens_at or utcnow()
    prefix = "LOI" if application.is_loi else "PG"
    return f"{prefix}-{opened:%Y}-{application.call_id:03d}-{counter.last_number:04d}"


def submitted_content(application: Application) -> dict:
    """The application as submitted: kept unchanged for reviewers and the applicant."""
    return {
        "title": application.title,
        "summary": application.summary,
        "lead_organisation": application.lead_organisation.name,
        "answers": [{"question_id": a.question_id, "text": a.text} for a in application.answers],
        "partners": [{"organisation": p.organisation.name, "kind": p.organisation.kind.value,
                      "contact_name": p.contact_name, "contact_email": p.contact_email,
                      "role_in_project": p.role_in_project, "share_cents": application.partner_share_cents(p),
                      "signed_off_at": p.signed_off_at.isoformat() if p.signed_off_at else None}
                     for p in application.partners],
        "budget": [{"category": line.category.value, "description": line.description,
                    "amount_cents": line.amount_cents,
                    "partner": line.partner.organisation.name if line.partner else None}
                   for line in application.budget_lines],
        "documents": [{"slot": d.call_document.name, "partner": d.partner.organisation.name if d.partner else None,
                       "version": d.version, "filename": d.stored_file.original_filename,
                       "sha256": d.stored_file.sha256}
                      for d in application.documents],
        "requested_cents": application.requested_cents,
    }


@dataclass(frozen=True)
class NextStep:
    what: str
    when: str


def what_happens_next(application: Application) -> list[NextStep]:
    """What the confirmation page tells an applicant happens after submission, with dates."""
    call = application.call
    zone = call.time_zone
    if application.is_loi:
        steps = [NextStep(_("The program team reads every letter of intent and invites some applicants to submit "
                            "a full proposal. All applicants are told at the same time, by e-mail and on this "
                            "site."), _("After letters of intent close on %(when)s",
                                        when=format_instant(call.loi_closes_at, zone))),
                 NextStep(_("If you are invited, you start the full proposal from this letter: its answers and "
                            "partners are carried over."),
                          _("Until %(when)s", when=format_instant(call.closes_at, zone)))]
        return steps
    settings = getattr(call, "review_settings", None)
    review_closes = getattr(settings, "review_closes_at", None)
    steps = [
        NextStep(_("The program team checks that the application meets the call's rules. If it does not, you are "
                   "told why by e-mail."),
                 _("After the call closes on %(when)s", when=format_instant(call.closes_at, zone))),
        NextStep(_("Reviewers, among them community members, score eligible applications against the call's "
                   "published rubric. They never see your contact details."),
                 _("Until %(when)s", when=format_instant(review_closes, zone)) if review_closes
                 else _("After the checks")),
        NextStep(_("Decisions are released to every applicant of the call at the same time, by e-mail and on "
                   "this site. An award comes with its terms for you to accept."), _("After the review")),
    ]
    if application.status is ApplicationStatus.SUBMITTED and call.is_open():
        steps.insert(0, NextStep(_("You may still withdraw the application from its page, for example to correct "
                                   "it and submit a new one."),
                                 _("Until %(when)s", when=format_instant(call.closes_at, zone))))
    return steps


def people_to_tell(application: Application) -> list:
    people = {application.owner.id: application.owner}
    for collaborator in application.collaborators:
        if collaborator.is_active and collaborator.user is not None:
            people[collaborator.user.id] = collaborator.user
    return list(people.values())


def submit_application(application: Application, *, submitted_by, expected_version: int | None,
                       now: datetime | None = None) -> None:
    """Submit: refused after the call closes (server clock) or while any rule is unmet.

    Side effects: a reference number, the frozen content, SUBMITTED status, an audit event,
    and a confirmation e-mail to the owner and every collaborator.
    """
    # Its row is locked first (PostgreSQL), so a second click waits for the first to finish
    # and then finds the application submitted.
    db.session.execute(select(Application.id).where(Application.id == application.id).with_for_update())
    db.session.refresh(application)
    _require_draft(application)
    check_version(application, expected_version)
    call = application.call
    if not application.is_open(now):
        raise DomainError(_closed_message(call, application))
    missing = missing_items(application, now)
    if missing:
        raise DomainError("The application cannot be submitted yet: " + "; ".join(
            item.label + (f" ({item.detail})" if item.detail else "") for item in missing) + ".")
    # The content is read and written before the call's reference counter is locked: every
    # submission to the call waits for that lock, so it is held for as little as possible
    # (on deadline day, hundreds queue on it).
    application.submitted_content = submitted_content(application)
    db.session.flush()
    application.reference_number = _next_reference(application)
    apply_transition(application, ApplicationStatus.SUBMITTED, transitions_of(application), actor=submitted_by,
                     action="application.submitted", details={"reference": application.reference_number})
    for person in people_to_tell(application):
        queue_email(recipient=person.email, recipient_user=person, kind="application_submitted",
                    subject=_l("Submitted: %(title)s (%(reference)s)", title=application.title,
                               reference=application.reference_number),
                    template="application_submitted", user=person, application=application,
                    link=external_url("applications.application_detail", application_id=application.id))


def withdraw_application(application: Application, *, withdrawn_by, now: datetime | None = None) -> None:
    """Withdraw a submitted application; possible until the call closes."""
    if application.status is ApplicationStatus.SUBMITTED and not application.is_open(now):
        raise DomainError("The call has closed; a submitted application can no longer be withdrawn. "
                          "Write to the program officer instead.")
    apply_transition(application, ApplicationStatus.WITHDRAWN, transitions_of(application), actor=withdrawn_by,
                     action="application.withdrawn")


def discard_application(application: Application, *, discarded_by) -> None:
    """Delete a draft for good: its answers, partners, budget lines, collaborators and
    documents go with it, and the documents' stored objects are deleted once the transaction
    commits (if the store is unreachable then, the orphan sweep deletes them later).

    Refuses anything no longer a draft: what was submitted is the funder's record. Records
    ``application.discarded`` (the row is gone, so the event names what it was).
    """
    from grants.attachments.services import discard_stored_files

    if not application.is_draft:
        raise DomainError(f"This application is {application.status.label.lower()}; only a draft can be "
                          "discarded. A submitted application can be withdrawn while the call is open.")
    files = [document.stored_file for document in application.documents]
    record_event("application.discarded", actor=discarded_by, target=application,
                 details={"title": application.title, "call": application.call.title,
                          "partners": [p.organisation.name for p in application.partners],
                          "budget_lines": len(application.budget_lines),
                          "documents": [f.original_filename for f in files]})
    db.session.delete(application)
    discard_stored_files(files)


def screen_application(application: Application, *, officer, eligible: bool, reason: str = "") -> None:
    """Screening: eligible → in review; otherwise screened out with a reason the applicant sees."""
    if application.is_loi:
        raise DomainError("A letter of intent is screened on the call's letters-of-intent page: invited or declined.")
    if eligible:
        apply_transition(application, ApplicationStatus.IN_REVIEW, APPLICATION_TRANSITIONS, actor=officer,
                         action="application.screened_in")
        return
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the reason for screening this application out; the applicant will see it.")
    application.screening_reason = reason
    apply_transition(application, ApplicationStatus.SCREENED_OUT, APPLICATION_TRANSITIONS, actor=officer,
                     action="application.screened_out", details={"reason": reason})
    for person in people_to_tell(application):
        queue_email(recipient=person.email, recipient_user=person, kind="application_screened_out",
                    subject=_l("Your application %(reference)s", reference=application.reference_number),
                    template="application_screened_out",
                    user=person, application=application, reason=reason,
                    link=external_url("applications.application_detail", application_id=application.id))


def applications_in_progress(call) -> list[Application]:
    return list(db.session.scalars(select(Application).where(Application.call_id == call.id,
                                                              Application.status == ApplicationStatus.DRAFT)))


# --- documents --------------------------------------------------------------------------

def upload_document(application: Application, *, editor, expected_version: int | None, call_document,
                    partner: Partner | None, stream, filename: str):
    """Store a file in a document slot; a file already there stays as an earlier version."""
    from grants.applications.models import ApplicationDocument
    from grants.attachments.services import store_upload

    _begin_edit(application, expected_version)
    if call_document.call_id != application.call_id:
        raise DomainError("That document is not part of this call.")
    if call_document.scope is DocumentScope.PER_PARTNER:
        if partner is None or partner.application_id != application.id:
            raise DomainError(f"“{call_document.name}” is given once for each partner: choose the partner.")
    else:
        partner = None
    stored = store_upload(stream, filename, uploaded_by=editor)
    previous = application.current_document(call_document.id, partner.id if partner else None)
    document = ApplicationDocument(call_document=call_document, partner=partner, stored_file=stored,
                                   version=(previous.version + 1) if previous else 1)
    application.documents.append(document)
    db.session.flush()
    record_event("application.document_uploaded", actor=editor, target=application,
                 details={"slot": call_document.name, "partner_id": partner.id if partner else None,
                          "version": document.version, "filename": stored.original_filename,
                          "sha256": stored.sha256})
    return document


# --- collaborators ----------------------------------------------------------------------

def _invitation_digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def invite_collaborator(application: Application, *, email: str, role, invited_by):
    """Invite someone by e-mail as editor or viewer; the e-mailed link works once.

    Who may accept is checked when they do: only people of the lead or a partner organisation.
    """
    import secrets

    from grants.applications.models import Collaborator

    email = normalise_email(email)
    if "@" not in email:
        raise DomainError("Give the e-mail address of the person to invite.")
    if email == application.owner.email:
        raise DomainError("You own this application already.")
    for existing in application.collaborators:
        if existing.email == email and existing.revoked_at is None:
            raise DomainError(f"{email} is already invited to this application.")
    invitee = find_user_by_email(email)
    if invitee is not None and invitee.organisation_id not in _working_organisation_ids(application):
        # They could never accept: say so now rather than send a link that fails for them.
        raise DomainError(f"{email} belongs to {invitee.organisation.name}, which is neither the lead nor a "
                          "partner of this application. Add their organisation as a partner first, or "
                          "invite someone from the lead or a partner organisation.")
    token = secrets.token_urlsafe(32)
    collaborator = Collaborator(email=email, role=role, token_hash=_invitation_digest(token),
                                invited_by_id=invited_by.id)
    application.collaborators.append(collaborator)
    db.session.flush()
    record_event("application.collaborator_invited", actor=invited_by, target=application,
                 details={"email": email, "role": role.value})
    queue_email(recipient=email, kind="application_invitation", template="application_invitation",
                subject=_l("Invitation to work on “%(title)s”", title=application.title), application=application,
                inviter=invited_by, role=role, link=external_url("applications.accept_invitation", token=token))
    return collaborator


def find_invitation(token: str):
    from grants.applications.models import Collaborator

    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.token_hash == _invitation_digest(token)))
    if collaborator is None or collaborator.accepted_at is not None or collaborator.revoked_at is not None:
        return None
    return collaborator


def _working_organisation_ids(application: Application) -> set[int]:
    """The organisations whose people may work on the application: the lead and its partners."""
    return {application.lead_organisation_id} | {p.organisation_id for p in application.partners}


def check_invitation_acceptable(collaborator, *, user) -> None:
    """Refuse (PermissionDenied) anyone but the invited address, or someone outside the lead
    and partner organisations. The invitation page asks this before it offers the button."""
    application = collaborator.application
    if user.email != collaborator.email:
        raise PermissionDenied(f"This invitation is for {collaborator.email}. Log in with that account to accept it.")
    if user.organisation_id not in _working_organisation_ids(application):
        raise PermissionDenied("Only people of the lead organisation or of a partner organisation can work on "
                               "this application.")


def open_invitations_for(user) -> list:
    """The invitations to work on an application addressed to ``user`` and not answered yet,
    newest first: listed on their home page, so the e-mailed link is not the only way in."""
    from grants.applications.models import Collaborator

    return list(db.session.scalars(
        select(Collaborator).join(Collaborator.application)
        .where(Collaborator.email == normalise_email(user.email), Collaborator.accepted_at.is_(None),
               Collaborator.revoked_at.is_(None),
               Application.status.in_((ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED,
                                       ApplicationStatus.IN_REVIEW, ApplicationStatus.AWARDED)))
        .options(joinedload(Collaborator.invited_by),
                 contains_eager(Collaborator.application).options(*headline_only()))
        .order_by(Collaborator.invited_at.desc(), Collaborator.id.desc())))


def headline_only() -> tuple:
    """Loader options for a list of applications by title, lead and call: none of their parts."""
    return (lazyload(Application.answers), lazyload(Application.partners), lazyload(Application.budget_lines),
            lazyload(Application.documents), lazyload(Application.collaborators))


def sign_offs_waiting_for(user) -> list[Partner]:
    """The partners of draft applications whose sign-off ``user`` is to give and has not given:
    they are the partner's named contact, of its organisation, with access to the application
    (the rule of permissions.can_sign_off_partner), and the call asks partners to sign off."""
    from grants.applications.models import Collaborator
    from grants.calls.models import Call

    return list(db.session.scalars(
        select(Partner).join(Partner.application).join(Call, Call.id == Application.call_id)
        .join(Collaborator, (Collaborator.application_id == Application.id) & (Collaborator.user_id == user.id)
              & Collaborator.accepted_at.is_not(None) & Collaborator.revoked_at.is_(None))
        .where(Application.status == ApplicationStatus.DRAFT, Call.requires_partner_signoff.is_(True),
               Partner.signed_off_at.is_(None), Partner.organisation_id == user.organisation_id,
               func.lower(Partner.contact_email) == normalise_email(user.email))
        .options(contains_eager(Partner.application).options(*headline_only()))
        .order_by(Application.title, Application.id)))


def find_open_invitation_of(collaborator_id: int, *, user):
    """The open invitation ``collaborator_id`` if it is addressed to ``user``; None otherwise
    (used, withdrawn, someone else's or never issued: the same answer)."""
    from grants.applications.models import Collaborator

    collaborator = db.session.get(Collaborator, collaborator_id)
    if (collaborator is None or collaborator.accepted_at is not None or collaborator.revoked_at is not None
            or collaborator.email != normalise_email(user.email)):
        return None
    return collaborator


def accept_invitation(token: str, *, user):
    """Accept the invitation of the e-mailed link ``token``."""
    return accept_collaborator_invitation(find_invitation(token), user=user)


def accept_collaborator_invitation(collaborator, *, user):
    """Join the application as the invitation says (editor or viewer); the link stops working.
    Refused when it is used or withdrawn, or ``user`` may not accept it (check_invitation_acceptable)."""
    if collaborator is None or collaborator.accepted_at is not None or collaborator.revoked_at is not None:
        raise DomainError("This invitation has expired, was already used, or was withdrawn. Ask for a new one.")
    application = collaborator.application
    check_invitation_acceptable(collaborator, user=user)
    collaborator.user_id = user.id
    collaborator.accepted_at = utcnow()
    record_event("application.collaborator_joined", actor=user, target=application,
                 details={"email": user.email, "role": collaborator.role.value})
    return collaborator


def revoke_collaborator(collaborator, *, revoked_by) -> None:
    if collaborator.revoked_at is not None:
        return
    collaborator.revoked_at = utcnow()
    record_event("application.collaborator_removed", actor=revoked_by, target=collaborator.application,
                 details={"email": collaborator.email})
