"""Milestone reports: drafts, versions, documents, partner sign-off, the officer's decision,
closeout, overdue milestones and reminders (grants.reports.services)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from grants.audit.models import AuditEvent
from grants.reports import services as reporting
from grants.awards.enums import AwardStatus, MilestoneStatus, ReportOutcome
from grants.awards.models import MilestoneReport, ReportDocument, ReportSignOff
from grants.core.errors import DomainError, PermissionDenied, StaleEdit
from grants.extensions import db
from tests.reports.factories import (
    accept,
    full_content,
    officer_for,
    partner_users,
    reporting_award,
    sign_all,
    submit,
)
from tests.conftest import fresh


@pytest.fixture
def award(make_user, make_organisation):
    return reporting_award(make_user, make_organisation)


@pytest.fixture
def officer(make_user, make_organisation):
    return officer_for(make_user, make_organisation)


def _count(model) -> int:
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(model))


def _events(action: str) -> list[AuditEvent]:
    db.session.flush()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _snapshot(milestone):
    """What a refused action must leave as it was (the arrangement so far is committed, so
    the refusal's rollback cannot undo it)."""
    db.session.commit()
    db.session.expire_all()
    return (milestone.status, milestone.submitted_at, milestone.accepted_at, milestone.award.status,
            [(r.version, r.submitted_at, r.outcome, r.officer_comments, r.narrative) for r in milestone.reports],
            _count(MilestoneReport), _count(ReportDocument), _count(ReportSignOff))


# --- drafts and submission --------------------------------------------------------------------

def test_save_report_draft_keeps_a_private_unsubmitted_version(award):
    milestone = award.milestones[0]
    owner = award.application.owner
    content = full_content(award, values=(None, 3), files=["photos.pdf"])
    draft = reporting.save_report_draft(milestone, author=owner, content=content)
    db.session.flush()
    assert (draft.version, draft.submitted_at) == (1, None)
    assert milestone.status is MilestoneStatus.UPCOMING
    assert reporting.current_draft(milestone) is draft and reporting.submitted_versions(milestone) == []
    assert [d.stored_file.original_filename for d in draft.documents] == ["photos.pdf"]
    assert reporting.metric_value(draft, award.call.metrics[1].id) == 3
    assert reporting.metric_value(draft, award.call.metrics[0].id) is None
    # Saving again changes the same draft; it does not add a version.
    again = reporting.save_report_draft(milestone, author=owner, content=full_content(award, values=(5, 3)))
    assert again is draft and len(milestone.reports) == 1
    assert reporting.metric_value(draft, award.call.metrics[0].id) == 5
    assert [d.stored_file.original_filename for d in draft.documents] == ["photos.pdf"]
    assert len(_events("report.draft_saved")) == 2


def test_submit_report_makes_the_draft_version_1_and_asks_partners_to_sign(award, outbox):
    milestone = award.milestones[0]
    owner = award.application.owner
    reporting.save_report_draft(milestone, author=owner, content=full_content(award, files=["plan.pdf"]))
    report = submit(milestone, owner)
    assert (report.version, report.submitted_by_id) == (1, owner.id)
    assert report.submitted_at is not None and milestone.submitted_at is not None
    assert milestone.status is MilestoneStatus.SUBMITTED
    assert [d.stored_file.original_filename for d in report.documents] == ["plan.pdf"]
    assert reporting.spending_total(report) == 2_400_000
    assert [e.details["to"] for e in _events("milestone.report_submitted")] == ["submitted"]
    mails = outbox(kind="report_sign_off_requested")
    assert sorted(m.recipient for m in mails) == sorted(p.contact_email for p in award.application.partners)


def test_a_partner_collaborator_files_reports_too(award):
    partner_user = partner_users(award)[0]
    report = submit(award.milestones[0], partner_user)
    assert report.submitted_by_id == partner_user.id


def test_submit_without_every_metric_is_refused_and_nothing_changes(award):
    milestone = award.milestones[0]
    before = _snapshot(milestone)
    with pytest.raises(DomainError, match="Community members reached"):
        reporting.submit_report(milestone, author=award.application.owner,
                                content=full_content(award, values=(None, 12)))
    db.session.rollback()
    assert _snapshot(fresh(milestone)) == before


def test_submit_without_a_narrative_is_refused(award):
    milestone = award.milestones[0]
    with pytest.raises(DomainError, match="Write the narrative"):
        reporting.submit_report(milestone, author=award.application.owner, content=full_content(award, narrative=" "))
    assert milestone.reports == [] and milestone.status is MilestoneStatus.UPCOMING


def test_metric_values_are_whole_numbers_not_below_zero(award):
    with pytest.raises(DomainError, match="whole numbers"):
        reporting.submit_report(award.milestones[0], author=award.application.owner,
                                content=full_content(award, values=(-1, 2)))


def test_a_report_by_a_stranger_is_refused_and_nothing_changes(award, make_user):
    milestone = award.milestones[0]
    before = _snapshot(milestone)
    with pytest.raises(PermissionDenied):
        reporting.submit_report(milestone, author=make_user(), content=full_content(award))
    db.session.rollback()
    assert _snapshot(fresh(milestone)) == before


@pytest.mark.parametrize("status", [AwardStatus.COMPLETED, AwardStatus.TERMINATED, AwardStatus.OFFERED,
                                    AwardStatus.ACCEPTED])
def test_a_report_on_an_award_that_is_not_active_is_refused(award, status):
    award.status = status
    milestone = award.milestones[0]
    before = _snapshot(milestone)
    for verb in (reporting.submit_report, reporting.save_report_draft):
        with pytest.raises(DomainError, match=f"This award is {status.value}: reports are filed only while"):
            verb(milestone, author=award.application.owner, content=full_content(award))
        db.session.rollback()
    assert _snapshot(fresh(milestone)) == before


def test_a_submitted_or_accepted_report_cannot_be_filed_again(award, officer):
    milestone = award.milestones[0]
    submit(milestone, award.application.owner)
    with pytest.raises(DomainError, match="with the program officer"):
        submit(milestone, award.application.owner)
    accept(milestone, officer)
    with pytest.raises(DomainError, match="accepted; it cannot be changed"):
        reporting.save_report_draft(milestone, author=award.application.owner, content=full_content(award))


def test_a_save_based_on_an_older_report_is_refused(award):
    milestone = award.milestones[0]
    owner, partner_user = award.application.owner, partner_users(award)[0]
    basis = reporting.report_basis(milestone)
    reporting.save_report_draft(milestone, author=partner_user, content=full_content(award, narrative="Theirs"),
                                expected_basis=basis)
    db.session.flush()
    with pytest.raises(StaleEdit):
        reporting.save_report_draft(milestone, author=owner, content=full_content(award, narrative="Mine"),
                                    expected_basis=basis)
    assert reporting.current_draft(milestone).narrative == "Theirs"


# --- revision and versions ----------------------------------------------------------------------

def test_revision_then_resubmission_keeps_every_version(award, officer, outbox):
    milestone = award.milestones[0]
    owner = award.application.owner
    first = submit(milestone, owner, files=["plan.pdf", "photos.pdf"], values=(1000, 10))
    reporting.request_revision(milestone, officer=officer, comments="The reach figure counts people twice.")
    db.session.flush()
    assert milestone.status is MilestoneStatus.REVISION_REQUESTED
    assert (first.outcome, first.officer_comments) == (ReportOutcome.REVISION_REQUESTED,
                                                       "The reach figure counts people twice.")
    assert [m.kind for m in outbox(recipient=owner.email)][-1] == "report_revision_requested"
    plan = next(d for d in first.documents if d.stored_file.original_filename == "plan.pdf")
    second = submit(milestone, owner, values=(800, 10), files=["corrected.pdf"], remove=[plan.stored_file_id],
                    narrative="Corrected: 800 people reached.")
    assert milestone.status is MilestoneStatus.SUBMITTED
    assert [r.version for r in reporting.submitted_versions(milestone)] == [2, 1]
    # The first version is as it was submitted.
    assert reporting.metric_value(first, award.call.metrics[0].id) == 1000
    assert sorted(d.stored_file.original_filename for d in first.documents) == ["photos.pdf", "plan.pdf"]
    # The second starts from the first's files, less the one left out, plus the new one.
    assert reporting.metric_value(second, award.call.metrics[0].id) == 800
    assert sorted(d.stored_file.original_filename for d in second.documents) == ["corrected.pdf", "photos.pdf"]
    assert second.outcome is None and second.narrative == "Corrected: 800 people reached."


def test_request_revision_without_comments_is_refused_and_nothing_changes(award, officer):
    milestone = award.milestones[0]
    submit(milestone, award.application.owner)
    before = _snapshot(milestone)
    with pytest.raises(DomainError, match="Say what needs to change"):
        reporting.request_revision(milestone, officer=officer, comments="   ")
    db.session.rollback()
    assert _snapshot(fresh(milestone)) == before


def test_nothing_to_decide_before_a_report_is_submitted(award, officer):
    milestone = award.milestones[0]
    with pytest.raises(DomainError, match="no report waiting for a decision"):
        reporting.accept_report(milestone, officer=officer)
    with pytest.raises(DomainError, match="no report waiting for a decision"):
        reporting.request_revision(milestone, officer=officer, comments="Fix it.")


# --- partner sign-off -----------------------------------------------------------------------------

def test_accepting_is_refused_until_every_partner_signed_off(award, officer):
    milestone = award.milestones[0]
    report = submit(milestone, award.application.owner)
    first_partner, second_partner = award.application.partners
    reporting.sign_off_report(report, user=partner_users(award)[0])
    db.session.flush()
    before = _snapshot(milestone)
    with pytest.raises(DomainError, match=f"still waiting for: {second_partner.organisation.name}"):
        reporting.accept_report(milestone, officer=officer)
    db.session.rollback()
    assert _snapshot(fresh(milestone)) == before
    milestone = fresh(milestone)
    reporting.sign_off_report(reporting.latest_submitted(milestone), user=partner_users(milestone.award)[1])
    reporting.accept_report(milestone, officer=officer)
    assert milestone.status is MilestoneStatus.ACCEPTED


def test_only_a_partner_contact_signs_off(award, make_user):
    report = submit(award.milestones[0], award.application.owner)
    for user in (award.application.owner, make_user()):
        with pytest.raises(PermissionDenied, match="named contact"):
            reporting.sign_off_report(report, user=user)
    assert report.sign_offs == []


def test_a_partner_signs_each_version_once(award, officer):
    milestone = award.milestones[0]
    user = partner_users(award)[0]
    first = submit(milestone, award.application.owner)
    reporting.sign_off_report(first, user=user)
    with pytest.raises(DomainError, match="already signed off"):
        reporting.sign_off_report(first, user=user)
    reporting.request_revision(milestone, officer=officer, comments="Add the spending.")
    with pytest.raises(DomainError, match="waiting for the program officer"):
        reporting.sign_off_report(first, user=user)
    second = submit(milestone, award.application.owner)
    # A new version needs its own sign-offs.
    assert [p.id for p in reporting.partners_to_sign(second)] == [p.id for p in award.application.partners]
    reporting.sign_off_report(second, user=user)
    assert len(reporting.partners_to_sign(second)) == 1


def test_no_sign_off_where_the_call_does_not_require_it(make_user, make_organisation, officer):
    award = reporting_award(make_user, make_organisation, signoff=False)
    milestone = award.milestones[0]
    report = submit(milestone, award.application.owner)
    assert reporting.partners_to_sign(report) == []
    with pytest.raises(DomainError, match="does not ask partners"):
        reporting.sign_off_report(report, user=partner_users(award)[0])
    reporting.accept_report(milestone, officer=officer)
    assert milestone.status is MilestoneStatus.ACCEPTED


# --- acceptance and closeout ----------------------------------------------------------------------

def test_accepting_a_report_records_the_decision_and_tells_the_grantee(award, officer, outbox):
    milestone = award.milestones[0]
    report = accept(milestone, officer)
    assert (report.outcome, report.decided_by_id) == (ReportOutcome.ACCEPTED, officer.id)
    assert milestone.accepted_at is not None and award.status is AwardStatus.ACTIVE
    assert outbox(kind="report_accepted")[0].recipient == award.application.owner.email


def test_accepting_the_final_report_completes_the_award(award, officer):
    inception, interim, final = award.milestones
    assert final.is_final
    accept(inception, officer)
    accept(interim, officer)
    accept(final, officer)
    assert award.status is AwardStatus.COMPLETED and award.completed_at is not None
    assert _events("award.completed")[0].details["final_milestone_id"] == final.id


def test_the_final_report_waits_for_the_other_reports(award, officer):
    inception, interim, final = award.milestones
    accept(inception, officer)
    submit(final, award.application.owner)
    sign_all(reporting.latest_submitted(final))
    before = _snapshot(final)
    with pytest.raises(DomainError, match=f"other reports are accepted first: {interim.name}"):
        reporting.accept_report(final, officer=officer)
    db.session.rollback()
    assert _snapshot(fresh(final)) == before
    assert fresh(award).status is AwardStatus.ACTIVE


def test_no_report_is_filed_on_a_completed_award(award, officer):
    for milestone in award.milestones:
        accept(milestone, officer)
    assert award.status is AwardStatus.COMPLETED
    with pytest.raises(DomainError, match="This award is completed"):
        reporting.save_report_draft(award.milestones[0], author=award.application.owner, content=full_content(award))


# --- overdue ------------------------------------------------------------------------------------------

def test_overdue_is_computed_from_the_due_date_in_the_calls_zone(award):
    milestone = award.milestones[0]
    milestone.due_on = date(2027, 1, 15)
    # 03:00 UTC on the 16th is 21:00 on the 15th in Chicago: due today there, not overdue.
    late_evening = datetime(2027, 1, 16, 3, 0, tzinfo=timezone.utc)
    assert reporting.local_today(award.call, late_evening) == date(2027, 1, 15)
    assert not reporting.is_overdue(milestone, reporting.local_today(award.call, late_evening))
    next_morning = late_evening + timedelta(hours=12)
    assert reporting.is_overdue(milestone, reporting.local_today(award.call, next_morning))


def test_a_submitted_or_accepted_milestone_is_not_overdue_but_a_returned_one_is(award, officer):
    milestone = award.milestones[0]
    today = milestone.due_on + timedelta(days=3)
    assert reporting.is_overdue(milestone, today)
    submit(milestone, award.application.owner)
    assert not reporting.is_overdue(milestone, today)
    reporting.request_revision(milestone, officer=officer, comments="Add the photos.")
    assert reporting.is_overdue(milestone, today)
    accept(milestone, officer)
    assert not reporting.is_overdue(milestone, today)


def test_milestones_of_an_award_that_is_not_active_are_not_overdue(award):
    milestone = award.milestones[0]
    award.status = AwardStatus.TERMINATED
    assert not reporting.is_overdue(milestone, milestone.due_on + timedelta(days=30))


# --- reminders ---------------------------------------------------------------------------------------

def _at_noon_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=timezone.utc)  # noon in Chicago (CST)


def test_reminders_go_out_before_the_due_date_and_when_overdue_once_per_kind(award, outbox):
    inception = award.milestones[0]
    owner = award.application.owner
    counts = reporting.queue_milestone_reminders(now=_at_noon_utc(inception.due_on - timedelta(days=20)))
    assert (counts.due_soon, counts.overdue) == (0, 0)
    for days_before in (14, 10, 1):
        reporting.queue_milestone_reminders(now=_at_noon_utc(inception.due_on - timedelta(days=days_before)))
    assert [m.dedupe_key for m in outbox(kind="milestone_reminder_due_soon")] == [
        f"milestone-reminder:{inception.id}:due-soon"]
    assert outbox(kind="milestone_reminder_due_soon")[0].recipient == owner.email
    assert "in 14 days" in outbox(kind="milestone_reminder_due_soon")[0].body
    for days_after in (1, 2, 30):
        reporting.queue_milestone_reminders(now=_at_noon_utc(inception.due_on + timedelta(days=days_after)))
    overdue = outbox(kind="milestone_reminder_overdue")
    assert [m.dedupe_key for m in overdue] == [f"milestone-reminder:{inception.id}:overdue"]
    assert "is overdue" in overdue[0].body


def test_no_reminder_for_a_submitted_report_or_an_inactive_award(award, make_user, make_organisation, outbox):
    inception = award.milestones[0]
    submit(inception, award.application.owner)
    counts = reporting.queue_milestone_reminders(now=_at_noon_utc(inception.due_on + timedelta(days=2)))
    assert (counts.due_soon, counts.overdue) == (0, 0)
    other = reporting_award(make_user, make_organisation)
    other.status = AwardStatus.TERMINATED
    counts = reporting.queue_milestone_reminders(now=_at_noon_utc(other.milestones[0].due_on + timedelta(days=2)))
    assert counts.overdue == 0 and outbox(kind="milestone_reminder_overdue") == []


def test_a_milestone_first_seen_overdue_gets_only_the_overdue_reminder(award, outbox):
    inception = award.milestones[0]
    counts = reporting.queue_milestone_reminders(now=_at_noon_utc(inception.due_on + timedelta(days=5)))
    assert (counts.due_soon, counts.overdue) == (0, 1)
    assert outbox(kind="milestone_reminder_due_soon") == []


def test_the_remind_command_queues_and_reports_counts(app, award, outbox):
    award.milestones[0].due_on = date.today() + timedelta(days=3)
    db.session.commit()
    result = CliRunner().invoke(app.cli, ["awards", "remind", "--days", "14"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "due soon: 1, overdue: 0" in result.output
    result = CliRunner().invoke(app.cli, ["awards", "remind"], catch_exceptions=False)
    assert "due soon: 0, overdue: 0" in result.output
