"""Milestone reports: drafts and versions, documents, partner sign-off, the officer's
decision, closeout, overdue milestones and their reminders (payments: grants.awards.payments).

Every function changes objects, records audit events and queues e-mails; none commits.
Each verb locks the row it moves (milestone, award) before it checks the state, so
two people acting at once cannot both pass a check (PostgreSQL; SQLite serialises writers).

Rules the portfolio and the pages rely on:
- A report is filed by the grantee's team (lead and partner collaborators) while the award
  is active, for a milestone that is upcoming or returned for revision.
- Every submission is a new version; submitted versions never change. A draft is the one
  version not yet submitted; a new draft starts with the files of the version before it.
- A milestone is overdue when its award is active, its due date (a day in the call's time
  zone) has passed, and no report is waiting for a decision or accepted. Never stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

from flask_babel import gettext as _
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from grants.applications.enums import BudgetCategory
from grants.attachments.services import store_upload
from grants.audit.services import record_event
from grants.awards.enums import (
    AWARD_TRANSITIONS,
    MILESTONE_TRANSITIONS,
    AwardStatus,
    MilestoneStatus,
    ReportOutcome,
    ShortfallChoice,
)
from grants.awards.models import (
    Award,
    Milestone,
    MilestoneReport,
    ReportDocument,
    ReportMetricValue,
    ReportSignOff,
    ReportSpending,
)
from grants.awards import targets
from grants.awards.payments import award_reference
from grants.awards.permissions import can_sign_off_report, is_grantee
from grants.checkins import services as checkins
from grants.core.dates import format_date
from grants.core.errors import DomainError, PermissionDenied, StaleEdit
from grants.core.lifecycle import apply_transition
from grants.core.timezones import local_today
from grants.core.types import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email

# A report can be (re)filed only from these states.
REPORTABLE = (MilestoneStatus.UPCOMING, MilestoneStatus.REVISION_REQUESTED)
# Metric values are counts; the cap keeps them in a BIGINT with room for sums.
MAX_METRIC_VALUE = 10 ** 12
NARRATIVE_LIMIT = 50_000

STALE_REPORT_MESSAGE = ("Someone else changed this report after you opened it, so your changes were not saved. "
                        "What you typed is kept below: compare it with the report's latest version on this page, "
                        "then save again. Files you chose were not stored; choose them again.")


def stale_report_message() -> str:
    """STALE_REPORT_MESSAGE in the reader's language."""
    return _("Someone else changed this report after you opened it, so your changes were not saved. "
             "What you typed is kept below: compare it with the report's latest version on this page, "
             "then save again. Files you chose were not stored; choose them again.")


# --- dates and overdue ------------------------------------------------------------------

def is_overdue(milestone: Milestone, today: date) -> bool:
    """Past due with no report waiting for a decision or accepted, on an active award."""
    return (milestone.award.status is AwardStatus.ACTIVE and milestone.status in REPORTABLE
            and milestone.due_on < today)


def days_until_due(milestone: Milestone, today: date) -> int:
    return (milestone.due_on - today).days


# --- versions -----------------------------------------------------------------------------

def current_draft(milestone: Milestone) -> MilestoneReport | None:
    latest = milestone.reports[-1] if milestone.reports else None
    return latest if latest is not None and latest.submitted_at is None else None


def submitted_versions(milestone: Milestone) -> list[MilestoneReport]:
    """Submitted versions, newest first: every one is kept as it was submitted."""
    return [report for report in reversed(milestone.reports) if report.submitted_at is not None]


def latest_submitted(milestone: Milestone) -> MilestoneReport | None:
    versions = submitted_versions(milestone)
    return versions[0] if versions else None


def working_version(milestone: Milestone) -> MilestoneReport | None:
    """What the grantee's form starts from: the draft, else the latest submitted version."""
    return milestone.reports[-1] if milestone.reports else None


def report_basis(milestone: Milestone) -> str:
    """A fingerprint of the report as a form was built from it; a save based on another is stale."""
    report = working_version(milestone)
    if report is None:
        return "new"
    content = {
        "id": report.id, "version": report.version, "submitted": report.submitted_at is not None,
        "narrative": report.narrative,
        "metrics": sorted((value.metric_id, value.value) for value in report.metric_values),
        "spending": sorted((row.category, row.amount_cents) for row in report.spending),
        "files": sorted(document.stored_file_id for document in report.documents),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


def metric_value(report: MilestoneReport, metric_id: int) -> int | None:
    return next((value.value for value in report.metric_values if value.metric_id == metric_id), None)


def spending_in(report: MilestoneReport, category: BudgetCategory) -> int | None:
    return next((row.amount_cents for row in report.spending if row.category == category.value), None)


def spending_total(report: MilestoneReport) -> int:
    return sum(row.amount_cents for row in report.spending)


# --- filing a report ------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str | None


@dataclass
class ReportContent:
    """What the grantee's form holds. None means left blank."""

    narrative: str = ""
    metric_values: Mapping[int, int | None] = field(default_factory=dict)
    spending: Mapping[BudgetCategory, int | None] = field(default_factory=dict)
    # Files of the version before, not to be carried into this one (StoredFile ids).
    remove_file_ids: Iterable[int] = ()
    uploads: Iterable[Upload] = ()


def submission_problems(milestone: Milestone, content: ReportContent) -> dict[str, str]:
    """What keeps ``content`` from being submitted, by form field name; empty when nothing does."""
    problems = {}
    if not (content.narrative or "").strip():
        problems["narrative"] = _("Write the narrative: what was done for this milestone and what came of it.")
    for metric in milestone.award.call.metrics:
        if content.metric_values.get(metric.id) is None:
            problems[f"metric_{metric.id}"] = _("Give the figure for %(metric)s to date (0 if none).",
                                                metric=metric.name)
    return problems


def _check_content(milestone: Milestone, content: ReportContent) -> None:
    call_metrics = {metric.id for metric in milestone.award.call.metrics}
    unknown = set(content.metric_values) - call_metrics
    if unknown:
        raise DomainError(_("The report gives figures for outcome metrics this call does not ask for."))
    for value in content.metric_values.values():
        if value is not None and not (isinstance(value, int) and 0 <= value <= MAX_METRIC_VALUE):
            raise DomainError(_("Outcome figures are whole numbers, 0 or more."))
    for category, cents in content.spending.items():
        if not isinstance(category, BudgetCategory):
            raise DomainError(_("Spending is reported by budget category."))
        if cents is not None and cents < 0:
            raise DomainError(_("Spending is an amount of zero or more."))
    if len(content.narrative or "") > NARRATIVE_LIMIT:
        raise DomainError(_("The narrative may be at most %(limit)s characters long.", limit=f"{NARRATIVE_LIMIT:,}"))


_lock = targets.lock_row


def _lock_milestone(milestone: Milestone) -> Milestone:
    return _lock(milestone, "status")


def _check_can_file(milestone: Milestone, author) -> None:
    award = milestone.award
    if award.status is not AwardStatus.ACTIVE:
        raise DomainError(_("This award is %(status)s: reports are filed only while an award is active. "
                            "Nothing was saved.", status=award.status.label.lower()))
    if not is_grantee(author, award):
        raise PermissionDenied("Only the grantee's team (the application's owner and its collaborators) files "
                               "reports on this award.")
    if milestone.status is MilestoneStatus.SUBMITTED:
        raise DomainError(_("The report for this milestone is with the program officer; it can be changed again "
                            "only if they ask for a revision. Nothing was saved."))
    if milestone.status is MilestoneStatus.ACCEPTED:
        raise DomainError(_("The report for this milestone is accepted; it cannot be changed. Nothing was saved."))


def _check_basis(milestone: Milestone, expected_basis: str | None) -> None:
    if expected_basis is not None and expected_basis != report_basis(milestone):
        raise StaleEdit(stale_report_message())


def _draft_for(milestone: Milestone, author) -> MilestoneReport:
    """The milestone's draft; a new one (the next version, with the files of the version
    before it) when there is none."""
    draft = current_draft(milestone)
    if draft is not None:
        return draft
    previous = latest_submitted(milestone)
    carried = [document.stored_file_id for document in previous.documents] if previous is not None else []
    draft = MilestoneReport(version=(previous.version + 1) if previous else 1, submitted_by_id=author.id,
                            documents=[ReportDocument(stored_file_id=file_id) for file_id in carried])
    milestone.reports.append(draft)
    db.session.add(draft)
    return draft


def _write(draft: MilestoneReport, milestone: Milestone, content: ReportContent, author) -> dict:
    """Put ``content`` into the draft (in place: the unique keys allow no delete-and-add in
    one flush). Returns what changed with the files, for the audit event."""
    draft.narrative = (content.narrative or "").strip()
    draft.submitted_by_id = author.id
    values = {value.metric_id: value for value in draft.metric_values}
    for metric in milestone.award.call.metrics:
        given = content.metric_values.get(metric.id)
        if given is None and metric.id in values:
            draft.metric_values.remove(values[metric.id])
        elif given is not None and metric.id in values:
            values[metric.id].value = given
        elif given is not None:
            draft.metric_values.append(ReportMetricValue(metric_id=metric.id, value=given))
    rows = {row.category: row for row in draft.spending}
    for category in BudgetCategory:
        given = content.spending.get(category)
        if given is None and category.value in rows:
            draft.spending.remove(rows[category.value])
        elif given is not None and category.value in rows:
            rows[category.value].amount_cents = given
        elif given is not None:
            draft.spending.append(ReportSpending(category=category.value, amount_cents=given))
    removing = set(content.remove_file_ids)
    removed = [document for document in draft.documents if document.stored_file_id in removing]
    for document in removed:
        draft.documents.remove(document)
    added = []
    for upload in content.uploads:
        stored = store_upload(upload.stream, upload.filename, uploaded_by=author)
        if any(document.stored_file_id == stored.id for document in draft.documents):
            continue
        draft.documents.append(ReportDocument(stored_file=stored))
        added.append(stored.original_filename)
    return {"files_removed": [document.stored_file_id for document in removed], "files_added": added}


def save_report_draft(milestone: Milestone, *, author, content: ReportContent,
                      expected_basis: str | None = None) -> MilestoneReport:
    """Save the grantee's work without submitting it: the draft is visible to the grantee's
    team only. Blank figures are allowed. Audited as ``report.draft_saved``."""
    _lock_milestone(milestone)
    _check_can_file(milestone, author)
    _check_basis(milestone, expected_basis)
    _check_content(milestone, content)
    draft = _draft_for(milestone, author)
    changes = _write(draft, milestone, content, author)
    db.session.flush()
    record_event("report.draft_saved", actor=author, target=draft,
                 details={"milestone_id": milestone.id, "version": draft.version, **changes})
    return draft


def submit_report(milestone: Milestone, *, author, content: ReportContent,
                  expected_basis: str | None = None) -> MilestoneReport:
    """Submit the report: the draft (or a new version) becomes a submitted version that never
    changes again, and the milestone moves to SUBMITTED.

    Refused (DomainError, nothing changed) unless the award is active, the milestone upcoming
    or returned for revision, the narrative written and every outcome metric of the call
    given. Side effects: audit events ``report.submitted`` and ``milestone.report_submitted``;
    where the call requires partner sign-off, an e-mail to each partner's contact.
    """
    _lock_milestone(milestone)
    _check_can_file(milestone, author)
    _check_basis(milestone, expected_basis)
    _check_content(milestone, content)
    problems = submission_problems(milestone, content)
    if problems:
        raise DomainError(_("The report cannot be submitted yet: %(problems)s", problems=" ".join(problems.values())))
    report = _draft_for(milestone, author)
    changes = _write(report, milestone, content, author)
    report.submitted_at = utcnow()
    db.session.flush()
    record_event("report.submitted", actor=author, target=report,
                 details={"milestone_id": milestone.id, "version": report.version, **changes})
    apply_transition(milestone, MilestoneStatus.SUBMITTED, MILESTONE_TRANSITIONS, actor=author,
                     action="milestone.report_submitted",
                     details={"report_id": report.id, "version": report.version})
    if milestone.award.call.requires_partner_signoff:
        _ask_partners_to_sign_off(milestone, report)
    return report


def _ask_partners_to_sign_off(milestone: Milestone, report: MilestoneReport) -> None:
    award = milestone.award
    for partner in award.application.partners:
        queue_email(recipient=partner.contact_email, kind="report_sign_off_requested",
                    template="report_sign_off_requested",
                    subject=_l("Please sign off the report: %(milestone)s, %(reference)s", milestone=milestone.name,
                               reference=award_reference(award)),
                    partner=partner, award=award, milestone=milestone, report=report,
                    link=external_url("awards.report_sign_off", award_id=award.id, milestone_id=milestone.id))


# --- partner sign-off -------------------------------------------------------------------------

def partners_to_sign(report: MilestoneReport) -> list:
    """The partners whose sign-off this version still needs (none unless the call requires it)."""
    award = report.milestone.award
    if not award.call.requires_partner_signoff:
        return []
    signed = {sign_off.partner_id for sign_off in report.sign_offs}
    return [partner for partner in award.application.partners if partner.id not in signed]


def report_sign_offs_waiting_for(user) -> list[tuple]:
    """(partner, milestone) for each report waiting for ``user``'s sign-off: the version waiting
    for the officer's decision, on an active award whose call asks partners to sign off, where
    ``user`` is the partner's contact (the rule of can_sign_off_report) and has not signed it.
    One query, for the home page."""
    from grants.accounts.services import normalise_email
    from grants.applications.models import Application, Collaborator, Partner
    from grants.applications.services import headline_only
    from grants.calls.models import Call

    latest = (select(func.max(MilestoneReport.version))
              .where(MilestoneReport.milestone_id == Milestone.id, MilestoneReport.submitted_at.is_not(None))
              .correlate(Milestone).scalar_subquery())
    signed = (select(ReportSignOff.id).where(ReportSignOff.report_id == MilestoneReport.id,
                                             ReportSignOff.partner_id == Partner.id).exists())
    rows = db.session.execute(
        select(Partner, Milestone)
        .join(Application, Application.id == Partner.application_id)
        .join(Award, Award.application_id == Application.id)
        .join(Call, Call.id == Award.call_id)
        .join(Milestone, Milestone.award_id == Award.id)
        .join(MilestoneReport, (MilestoneReport.milestone_id == Milestone.id) & (MilestoneReport.version == latest))
        .join(Collaborator, (Collaborator.application_id == Application.id) & (Collaborator.user_id == user.id)
              & Collaborator.accepted_at.is_not(None) & Collaborator.revoked_at.is_(None))
        .where(Award.status == AwardStatus.ACTIVE, Milestone.status == MilestoneStatus.SUBMITTED,
               Call.requires_partner_signoff.is_(True), MilestoneReport.submitted_at.is_not(None), ~signed,
               Partner.organisation_id == user.organisation_id,
               func.lower(Partner.contact_email) == normalise_email(user.email))
        .options(joinedload(Milestone.award).joinedload(Award.application).options(*headline_only()))
        .order_by(Milestone.due_on, Milestone.id))
    return [(partner, milestone) for partner, milestone in rows]


def partner_of(user, award: Award):
    """The partner of the award's application whose contact ``user`` is, or None."""
    return next((partner for partner in award.application.partners if can_sign_off_report(user, partner)), None)


def sign_off_report(report: MilestoneReport, *, user) -> ReportSignOff:
    """The partner contact's confirmation of one submitted report version.

    Refused unless the call requires partner sign-off, ``report`` is the version waiting for
    the officer's decision, and ``user`` is a partner's contact (the identity rule of
    application sign-off) who has not signed this version yet. Audited as ``report.signed_off``.
    """
    milestone = _lock_milestone(report.milestone)
    award = milestone.award
    if not award.call.requires_partner_signoff:
        raise DomainError(_("This call does not ask partners to sign off reports."))
    partner = partner_of(user, award)
    if partner is None:
        raise PermissionDenied("Only a partner's named contact, invited to the application and logged in as a member "
                               "of the partner organisation, signs off reports.")
    if milestone.status is not MilestoneStatus.SUBMITTED or latest_submitted(milestone) is not report:
        raise DomainError(_("Only the report waiting for the program officer's decision can be signed off."))
    if any(sign_off.partner_id == partner.id for sign_off in report.sign_offs):
        raise DomainError(_("%(name)s has already signed off this version of the report.",
                            name=partner.organisation.name))
    sign_off = ReportSignOff(partner_id=partner.id, signed_off_by_id=user.id, signed_off_at=utcnow())
    report.sign_offs.append(sign_off)
    db.session.flush()
    record_event("report.signed_off", actor=user, target=report,
                 details={"milestone_id": milestone.id, "version": report.version, "partner_id": partner.id,
                          "partner": partner.organisation.name})
    return sign_off


# --- the officer's decision ----------------------------------------------------------------

def _report_to_decide(milestone: Milestone) -> MilestoneReport:
    award = milestone.award
    if award.status is not AwardStatus.ACTIVE:
        raise DomainError(f"This award is {award.status.label.lower()}; its reports can no longer be decided.")
    report = latest_submitted(milestone)
    if milestone.status is not MilestoneStatus.SUBMITTED or report is None or report.outcome is not None:
        raise DomainError(f"There is no report waiting for a decision on this milestone (it is "
                          f"{milestone.status.label.lower()}).")
    return report


def _decide(report: MilestoneReport, outcome: ReportOutcome, officer, comments: str) -> None:
    # Set together: the database refuses an outcome without its decision instant.
    values = {"outcome": outcome, "officer_comments": (comments or "").strip(), "decided_by_id": officer.id,
              "decided_at": utcnow()}
    for name, value in values.items():
        setattr(report, name, value)


def _tell_grantee(milestone: Milestone, report: MilestoneReport, *, accepted: bool) -> None:
    award = milestone.award
    recipients = {award.application.owner}
    if report.submitted_by is not None:
        recipients.add(report.submitted_by)
    for user in sorted(recipients, key=lambda u: u.id):
        queue_email(recipient=user.email, recipient_user=user,
                    kind="report_accepted" if accepted else "report_revision_requested",
                    template="report_decided",
                    subject=(_l("Report accepted: %(milestone)s, %(reference)s", milestone=milestone.name,
                                reference=award_reference(award)) if accepted
                             else _l("Revision requested: %(milestone)s, %(reference)s", milestone=milestone.name,
                                     reference=award_reference(award))),
                    user=user, award=award, milestone=milestone, report=report, accepted=accepted,
                    link=external_url("awards.milestone_report", award_id=award.id, milestone_id=milestone.id))


def accept_report(milestone: Milestone, *, officer, comments: str = "",
                  shortfall_choice: ShortfallChoice | None = None, shortfall_reason: str = "") -> MilestoneReport:
    """Accept the submitted report: the milestone becomes ACCEPTED (its payment may now be
    released); accepting the final milestone's report completes the award (closeout).

    Refused (nothing changed) while a partner's sign-off is missing where the call requires
    it, while an organisation has neither answered the partnership check-in nor declined to
    (where the call asks for one), for the final milestone while another milestone's report is
    not accepted, and, where the report falls short of the milestone's targets and its payment
    is scheduled, without the officer's choice and reason (targets.decide_shortfall).
    Side effects: audit events ``milestone.report_accepted`` (and ``award.completed``;
    ``payment.held`` or ``payment.release_justified``); an e-mail to the application's owner
    and the report's submitter.
    """
    _lock_milestone(milestone)
    report = _report_to_decide(milestone)
    waiting = partners_to_sign(report)
    if waiting:
        names = ", ".join(partner.organisation.name for partner in waiting)
        raise DomainError(f"This call requires every partner to sign off the report; still waiting for: {names}. "
                          "The report was not accepted.")
    silent = checkins.still_to_answer(milestone)
    if silent:
        names = ", ".join(voice.name for voice in silent)
        raise DomainError("The report is complete only when every organisation of the partnership has answered its "
                          f"check-in or declined to; still waiting for: {names}. The report was not accepted.")
    award = milestone.award
    if milestone.is_final:
        open_ones = [other.name for other in award.milestones
                     if other.id != milestone.id and other.status is not MilestoneStatus.ACCEPTED]
        if open_ones:
            raise DomainError("The final report closes the award, so the other reports are accepted first: "
                              f"{', '.join(open_ones)}. The report was not accepted.")
    if targets.needs_shortfall_choice(milestone, report):
        targets.decide_shortfall(milestone, report, officer=officer, choice=shortfall_choice,
                                 reason=shortfall_reason)
    _decide(report, ReportOutcome.ACCEPTED, officer, comments)
    apply_transition(milestone, MilestoneStatus.ACCEPTED, MILESTONE_TRANSITIONS, actor=officer,
                     action="milestone.report_accepted",
                     details={"report_id": report.id, "version": report.version,
                              "shortfalls": [s.describe() for s in targets.shortfalls(milestone, report)]})
    if milestone.is_final:
        apply_transition(award, AwardStatus.COMPLETED, AWARD_TRANSITIONS, actor=officer, action="award.completed",
                         details={"final_milestone_id": milestone.id, "report_id": report.id})
    _tell_grantee(milestone, report, accepted=True)
    return report


def request_revision(milestone: Milestone, *, officer, comments: str) -> MilestoneReport:
    """Return the submitted report to the grantee with ``comments`` (required: they say what
    to change). The version stays as it was; the grantee's resubmission is a new version.
    Side effects: audit event ``milestone.revision_requested``; an e-mail to the grantee."""
    comments = (comments or "").strip()
    if not comments:
        raise DomainError("Say what needs to change: the grantee sees these comments. The report was not returned.")
    _lock_milestone(milestone)
    report = _report_to_decide(milestone)
    _decide(report, ReportOutcome.REVISION_REQUESTED, officer, comments)
    apply_transition(milestone, MilestoneStatus.REVISION_REQUESTED, MILESTONE_TRANSITIONS, actor=officer,
                     action="milestone.revision_requested",
                     details={"report_id": report.id, "version": report.version, "comments": comments})
    _tell_grantee(milestone, report, accepted=False)
    return report


# --- reminders ------------------------------------------------------------------------------

@dataclass
class ReminderCounts:
    due_soon: int = 0
    overdue: int = 0


def queue_milestone_reminders(*, due_soon_days: int = 14, now: datetime | None = None) -> ReminderCounts:
    """E-mail the application's owner about each milestone of an active award whose report is
    due within ``due_soon_days`` days, and each that is overdue: each kind at most once per
    milestone however often this runs (the outbox's dedupe key). A milestone first seen
    already overdue gets only the overdue e-mail."""
    counts = ReminderCounts()
    milestones = db.session.scalars(
        select(Milestone).join(Award).where(Award.status == AwardStatus.ACTIVE, Milestone.status.in_(REPORTABLE))
        .options(joinedload(Milestone.award).joinedload(Award.call))
        .order_by(Milestone.due_on, Milestone.id)).unique()
    for milestone in milestones:
        award = milestone.award
        today = local_today(award.call, now)
        if milestone.due_on < today:
            kind = "overdue"
        elif days_until_due(milestone, today) <= due_soon_days:
            kind = "due-soon"
        else:
            continue
        owner = award.application.owner
        message = queue_email(
            recipient=owner.email, recipient_user=owner, kind=f"milestone_reminder_{kind.replace('-', '_')}",
            dedupe_key=f"milestone-reminder:{milestone.id}:{kind}", template="milestone_reminder",
            subject=(_l("Overdue report: %(milestone)s, %(reference)s", milestone=milestone.name,
                        reference=award_reference(award)) if kind == "overdue"
                     # The date, too, is written when the subject is, in the reader's language.
                     else _l("Report due %(day)s: %(milestone)s, %(reference)s",
                             day=LazyString(format_date, milestone.due_on, with_year=False),
                             milestone=milestone.name, reference=award_reference(award))),
            user=owner, award=award, milestone=milestone, overdue=kind == "overdue",
            days_left=days_until_due(milestone, today),
            link=external_url("awards.milestone_report", award_id=award.id, milestone_id=milestone.id))
        if message is not None:
            if kind == "overdue":
                counts.overdue += 1
            else:
                counts.due_soon += 1
    return counts
