"""Decisions, awards and their amendments, milestones, payments and milestone reports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.awards.enums import (
    AwardStatus,
    DecisionOutcome,
    MilestoneStatus,
    PaymentHold,
    PaymentMethod,
    PaymentStatus,
    ReportOutcome,
)
from grants.core.types import UTCDateTime, enum_type, utcnow
from grants.extensions import db


class Decision(db.Model):
    """A program officer's decision on an application; internal until released."""

    __tablename__ = "decision"
    __table_args__ = (
        CheckConstraint("outcome <> 'award' OR (amount_cents > 0 AND start_on IS NOT NULL AND end_on IS NOT NULL "
                        "AND end_on > start_on)", name="award_has_amount_and_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    outcome: Mapped[DecisionOutcome] = mapped_column(enum_type(DecisionOutcome, "decision_outcome"))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    # Whether the letter may quote reviewers' comments (never their names).
    include_review_comments: Mapped[bool] = mapped_column(default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application = relationship("Application", lazy="joined")
    decided_by = relationship("User")


class Award(db.Model):
    __tablename__ = "award"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("end_on > start_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AwardStatus] = mapped_column(enum_type(AwardStatus, "award_status"), default=AwardStatus.OFFERED,
                                                index=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    application = relationship("Application", lazy="joined")
    call = relationship("Call")
    amendments: Mapped[list[AwardAmendment]] = relationship(back_populates="award", cascade="all, delete-orphan",
                                                            order_by="AwardAmendment.id")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="award", cascade="all, delete-orphan",
                                                       order_by="(Milestone.due_on, Milestone.id)")
    payments: Mapped[list[Payment]] = relationship(back_populates="award", cascade="all, delete-orphan",
                                                   order_by="Payment.id")


class AwardAmendment(db.Model):
    """A change to an award's amount or end date, with its reason; the history is kept."""

    __tablename__ = "award_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    old_amount_cents: Mapped[int] = mapped_column(BigInteger)
    new_amount_cents: Mapped[int] = mapped_column(BigInteger)
    old_end_on: Mapped[date] = mapped_column(Date)
    new_end_on: Mapped[date] = mapped_column(Date)
    amended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    award: Mapped[Award] = relationship(back_populates="amendments")
    amended_by = relationship("User")


class Milestone(db.Model):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    # The last milestone: accepting its report completes the award (closeout).
    is_final: Mapped[bool] = mapped_column(default=False)
    status: Mapped[MilestoneStatus] = mapped_column(enum_type(MilestoneStatus, "milestone_status"),
                                                    default=MilestoneStatus.UPCOMING)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    award: Mapped[Award] = relationship(back_populates="milestones")
    payment: Mapped[Payment | None] = relationship(back_populates="milestone", uselist=False)
    targets: Mapped[list[MilestoneTarget]] = relationship(back_populates="milestone", cascade="all, delete-orphan",
                                                          order_by="MilestoneTarget.id")
    reports: Mapped[list[MilestoneReport]] = relationship(back_populates="milestone", cascade="all, delete-orphan",
                                                          order_by="MilestoneReport.version")


class MilestoneTarget(db.Model):
    """An outcome figure the milestone's report is expected to reach (to date, like the figures)."""

    __tablename__ = "milestone_target"
    __table_args__ = (UniqueConstraint("milestone_id", "metric_id"),
                      CheckConstraint("target > 0", name="target_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), index=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("outcome_metric.id", ondelete="CASCADE"))
    target: Mapped[int] = mapped_column(BigInteger)

    milestone: Mapped[Milestone] = relationship(back_populates="targets")
    metric = relationship("OutcomeMetric")


class Payment(db.Model):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("status = 'scheduled' OR released_at IS NOT NULL", name="released_has_instant"),
        CheckConstraint("status <> 'paid' OR (paid_at IS NOT NULL AND paid_on IS NOT NULL)", name="paid_has_date"),
        # A released payment says how it is paid; a paid one carries the bank's or check's reference.
        CheckConstraint("status = 'scheduled' OR payment_method IS NOT NULL", name="released_has_method"),
        CheckConstraint("status <> 'paid' OR payment_reference <> ''", name="paid_has_reference"),
        # A hold has its instant and reason; a plan its text and instant; a held payment is not
        # released until its revised plan is accepted.
        CheckConstraint("hold IS NULL OR (held_at IS NOT NULL AND hold_reason <> '')", name="hold_has_reason"),
        CheckConstraint("hold IS NULL OR hold = 'held' OR (plan_submitted_at IS NOT NULL AND revised_plan <> '')",
                        name="plan_has_instant"),
        CheckConstraint("hold IS NULL OR hold <> 'plan_accepted' OR plan_accepted_at IS NOT NULL",
                        name="plan_accepted_has_instant"),
        CheckConstraint("hold IS NULL OR hold = 'plan_accepted' OR status = 'scheduled'",
                        name="held_until_plan_accepted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestone.id", ondelete="SET NULL"), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PaymentStatus] = mapped_column(enum_type(PaymentStatus, "payment_status"),
                                                  default=PaymentStatus.SCHEDULED)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The day the money went out, as the officer records it (paid_at is when they recorded it).
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_method: Mapped[PaymentMethod | None] = mapped_column(enum_type(PaymentMethod, "payment_method"))
    payment_reference: Mapped[str] = mapped_column(String(100), default="")
    # Where the accepted report fell short of the milestone's targets: either the officer's
    # reason to release all the same, or a hold until a revised plan is accepted.
    shortfall_justification: Mapped[str] = mapped_column(Text, default="")
    hold: Mapped[PaymentHold | None] = mapped_column(enum_type(PaymentHold, "payment_hold"))
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revised_plan: Mapped[str] = mapped_column(Text, default="")
    plan_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    plan_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    award: Mapped[Award] = relationship(back_populates="payments")
    milestone: Mapped[Milestone | None] = relationship(back_populates="payment")


class MilestoneReport(db.Model):
    """One version of a milestone's report; every version is kept."""

    __tablename__ = "milestone_report"
    __table_args__ = (
        UniqueConstraint("milestone_id", "version"),
        # Only a submitted version is decided; a revision request always says what to change.
        CheckConstraint("outcome IS NULL OR (submitted_at IS NOT NULL AND decided_at IS NOT NULL)",
                        name="decided_after_submission"),
        CheckConstraint("outcome IS NULL OR outcome <> 'revision_requested' OR officer_comments <> ''",
                        name="revision_has_comments"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    narrative: Mapped[str] = mapped_column(Text, default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[ReportOutcome | None] = mapped_column(enum_type(ReportOutcome, "report_outcome"))
    officer_comments: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    milestone: Mapped[Milestone] = relationship(back_populates="reports")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    metric_values: Mapped[list[ReportMetricValue]] = relationship(back_populates="report",
                                                                  cascade="all, delete-orphan")
    spending: Mapped[list[ReportSpending]] = relationship(back_populates="report", cascade="all, delete-orphan")
    documents: Mapped[list[ReportDocument]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                           order_by="ReportDocument.id")
    sign_offs: Mapped[list[ReportSignOff]] = relationship(back_populates="report", cascade="all, delete-orphan",
                                                          order_by="ReportSignOff.id")


class ReportMetricValue(db.Model):
    __tablename__ = "report_metric_value"
    __table_args__ = (UniqueConstraint("report_id", "metric_id"),
                      CheckConstraint("value >= 0", name="value_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_report.id", ondelete="CASCADE"), index=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("outcome_metric.id"))
    # Outcome metrics are counts (people reached, messengers trained).
    value: Mapped[int] = mapped_column(BigInteger)

    report: Mapped[MilestoneReport] = relationship(back_populates="metric_values")
    metric = relationship("OutcomeMetric")


class ReportSpending(db.Model):
    """Spending to date in one budget category, as reported."""

    __tablename__ = "report_spending"
    __table_args__ = (UniqueConstraint("report_id", "category"),
                      CheckConstraint("amount_cents >= 0", name="amount_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_report.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(30))  # a BudgetCategory value
    amount_cents: Mapped[int] = mapped_column(BigInteger)

    report: Mapped[MilestoneReport] = relationship(back_populates="spending")


class ReportDocument(db.Model):
    """A file attached to one report version. A new version starts with the files of the
    version before it, so one stored file may belong to several versions."""

    __tablename__ = "report_document"
    __table_args__ = (UniqueConstraint("report_id", "stored_file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_report.id", ondelete="CASCADE"), index=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), index=True)

    report: Mapped[MilestoneReport] = relationship(back_populates="documents")
    stored_file = relationship("StoredFile", lazy="joined")


class ReportSignOff(db.Model):
    """A partner's sign-off on one report version (where the call requires partner sign-off)."""

    __tablename__ = "report_sign_off"
    __table_args__ = (UniqueConstraint("report_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("milestone_report.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("application_partner.id", ondelete="CASCADE"))
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    signed_off_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[MilestoneReport] = relationship(back_populates="sign_offs")
    partner = relationship("Partner")
