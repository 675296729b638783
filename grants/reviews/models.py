"""Panels, review assignments and reviews with their per-criterion scores."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.core.types import UTCDateTime, enum_type, utcnow
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus, Confidence, PanelMemberStatus, Recommendation, StipendStatus


class ReviewSettings(db.Model):
    """How a call's review runs: when it closes, what reviewers may see, when scores disagree."""

    __tablename__ = "review_settings"
    __table_args__ = (CheckConstraint("disagreement_threshold BETWEEN 0 AND 100", name="threshold_is_points"),
                      CheckConstraint("reviewers_per_application >= 1", name="at_least_one_reviewer"),
                      CheckConstraint("stipend_cents IS NULL OR stipend_cents > 0", name="stipend_positive"))

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    # Reviews may be saved, submitted and revised until this instant (None: not set yet).
    review_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Whether a reviewer who has submitted sees the other reviews of the same application.
    show_other_reviews: Mapped[bool] = mapped_column(default=True)
    # Reviewers disagree when the spread of weighted scores (0–100) exceeds this.
    disagreement_threshold: Mapped[int] = mapped_column(default=25)
    reviewers_per_application: Mapped[int] = mapped_column(default=3)
    default_workload_cap: Mapped[int] = mapped_column(default=8)
    # Paid to each eligible reviewer who completes their review set (grants.reviews.stipends);
    # None: this call pays no stipends.
    stipend_cents: Mapped[int | None] = mapped_column(BigInteger)

    call = relationship("Call", backref=db.backref("review_settings", uselist=False))


class PanelMember(db.Model):
    """A reviewer invited to a call's panel, in a sub-panel, with a workload cap."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("call_id", "email"),
                      CheckConstraint("workload_cap >= 0", name="cap_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # e.g. "Academic", "Community"; empty for a single panel.
    sub_panel: Mapped[str] = mapped_column(String(80), default="")
    workload_cap: Mapped[int] = mapped_column(default=8)
    status: Mapped[PanelMemberStatus] = mapped_column(enum_type(PanelMemberStatus, "panel_member_status"),
                                                      default=PanelMemberStatus.INVITED)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The officer's tick for a stipend where it differs from the rule (grants.reviews.stipends):
    # None follows the rule, so a member's eligibility moves with their organisation.
    stipend_eligible: Mapped[bool | None] = mapped_column()

    call = relationship("Call")
    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    stipend: Mapped[ReviewerStipend | None] = relationship(back_populates="member", uselist=False)


class ReviewerStipend(db.Model):
    """The payment record of one panel member's stipend: made when the officer marks it paid."""

    __tablename__ = "reviewer_stipend"
    __table_args__ = (
        CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="amount_positive"),
        CheckConstraint("status <> 'paid' OR (paid_on IS NOT NULL AND paid_at IS NOT NULL AND amount_cents IS NOT NULL)",
                        name="paid_has_date_and_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One per member, so per reviewer and call: two officers cannot record it twice.
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("panel_member.id", ondelete="CASCADE"), unique=True)
    status: Mapped[StipendStatus] = mapped_column(enum_type(StipendStatus, "stipend_status"),
                                                  default=StipendStatus.OWED)
    # What was paid: the call's stipend then (it may change later; this does not).
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    # The day the money went out, as the officer records it (paid_at is when they recorded it).
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # A cheque or transfer number, as the finance office gives it.
    payment_reference: Mapped[str] = mapped_column(String(100), default="")
    # Goes up with every transition: a form carries the one it was drawn from (stale, double submits).
    version: Mapped[int] = mapped_column(default=0)

    member: Mapped[PanelMember] = relationship(back_populates="stipend")


class ReviewAssignment(db.Model):
    """One reviewer asked to review one application; its conflict declaration and due date."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("application_id", "reviewer_id"),
        # Attesting "no conflict" and declaring one are exclusive.
        CheckConstraint("NOT (attested_at IS NOT NULL AND conflict_declared_at IS NOT NULL)",
                        name="attest_or_declare"),
        CheckConstraint("status <> 'declined' OR decline_reason <> ''", name="declined_has_reason"),
        # The reviewer's queue (open ones, by due date) and a call's figures by status.
        Index("ix_review_assignment_reviewer_status_due", "reviewer_id", "status", "due_on"),
        Index("ix_review_assignment_call_status", "call_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(enum_type(AssignmentStatus, "assignment_status"),
                                                     default=AssignmentStatus.ASSIGNED, index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The reviewer's attestation that they have no conflict; required before they see content.
    attested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conflict_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conflict_reason: Mapped[str] = mapped_column(Text, default="")
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    waiver_reason: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conflicted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    call = relationship("Call")
    application = relationship("Application", lazy="joined")
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    review: Mapped[Review | None] = relationship(back_populates="assignment", uselist=False,
                                                 cascade="all, delete-orphan")


class Review(db.Model):
    """The reviewer's scores and comments; a draft until submitted (then revisable while open)."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignment.id", ondelete="CASCADE"), unique=True)
    strengths: Mapped[str] = mapped_column(Text, default="")
    weaknesses: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[Recommendation | None] = mapped_column(enum_type(Recommendation, "recommendation"))
    # Required to submit (scoring.submit_review); None on a draft that has not given it yet.
    confidence: Mapped[Confidence | None] = mapped_column(enum_type(Confidence, "review_confidence"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    assignment: Mapped[ReviewAssignment] = relationship(back_populates="review")
    scores: Mapped[list[CriterionScore]] = relationship(back_populates="review", cascade="all, delete-orphan",
                                                        lazy="selectin")

    def score_for(self, criterion_id: int) -> CriterionScore | None:
        return next((s for s in self.scores if s.criterion_id == criterion_id), None)


class CriterionScore(db.Model):
    __tablename__ = "criterion_score"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criterion.id"))
    # None while a draft leaves it unscored; the scale's bounds are checked by the service.
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion = relationship("RubricCriterion")
