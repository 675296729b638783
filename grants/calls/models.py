"""A call (funding opportunity) and what it defines for applicants, reviewers and awardees:
narrative questions, required documents, the review rubric, outcome metrics, partnership
check-in statements, milestones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from grants.accounts.enums import OrganisationKind
from grants.calls.enums import CallPhase, CallStatus, DocumentScope, QuestionStage
from grants.core.timezones import in_zone, zone_label
from grants.core.types import UTCDateTime, enum_type, utcnow
from grants.extensions import db


class Call(db.Model):
    __tablename__ = "call"
    __table_args__ = (
        CheckConstraint("award_floor_cents >= 0", name="award_floor_not_negative"),
        CheckConstraint("award_floor_cents <= award_ceiling_cents", name="award_floor_within_ceiling"),
        CheckConstraint("award_ceiling_cents <= total_funds_cents", name="award_ceiling_within_total_funds"),
        CheckConstraint("expected_awards >= 1", name="expected_awards_positive"),
        CheckConstraint("closes_at > opens_at", name="closes_after_it_opens"),
        CheckConstraint("min_partners >= 0", name="min_partners_not_negative"),
        CheckConstraint("loi_min_partners >= 0", name="loi_min_partners_not_negative"),
        # A letter-of-intent stage closes before the full proposals do.
        CheckConstraint("loi_closes_at IS NULL OR (loi_closes_at < closes_at AND loi_closes_at > opens_at)",
                        name="loi_closes_before_full"),
        CheckConstraint("min_community_share_percent BETWEEN 0 AND 100", name="community_share_is_a_percentage"),
        # A published call has dates: whether it is open is computed from them.
        CheckConstraint("status <> 'published' OR (opens_at IS NOT NULL AND closes_at IS NOT NULL "
                        "AND published_at IS NOT NULL)", name="published_call_is_scheduled"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[CallStatus] = mapped_column(enum_type(CallStatus, "call_status"), default=CallStatus.DRAFT,
                                               index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(600), default="")
    # Markdown, written by staff; shown through grants.core.markup.render_markdown.
    description: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    # The same texts in Spanish, shown on the public page to those reading in Spanish;
    # empty: the English text is shown (see Call.text_in).
    title_es: Mapped[str] = mapped_column(String(200), default="")
    summary_es: Mapped[str] = mapped_column(String(600), default="")
    description_es: Mapped[str] = mapped_column(Text, default="")
    eligibility_es: Mapped[str] = mapped_column(Text, default="")
    # An IANA name ("America/Chicago"): instants are stored in UTC and shown in this zone.
    time_zone: Mapped[str] = mapped_column(String(64))
    # Open from opens_at (inclusive) until closes_at (exclusive), by the server clock.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Money in whole cents (see grants.core.money), exact on SQLite and PostgreSQL alike.
    award_floor_cents: Mapped[int | None] = mapped_column(BigInteger)
    award_ceiling_cents: Mapped[int | None] = mapped_column(BigInteger)
    total_funds_cents: Mapped[int | None] = mapped_column(BigInteger)
    expected_awards: Mapped[int | None] = mapped_column()

    # Partnership rules, checked on each application. Kinds are OrganisationKind values.
    # The lead organisation must be of one of lead_kinds; at least min_partners of the
    # partners must be of one of partner_kinds (other partners may join besides them); at
    # least min_community_share_percent of the requested budget must go to partners whose
    # kind is a community kind (OrganisationKind.is_community_partner).
    lead_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    partner_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_partners: Mapped[int] = mapped_column(default=0)
    min_community_share_percent: Mapped[int] = mapped_column(default=0)
    requires_partner_signoff: Mapped[bool] = mapped_column(default=False)
    # Two-stage calls: letters of intent are taken from opens_at until loi_closes_at; only the
    # leads the officer invites may then submit a full proposal until closes_at. A letter of
    # intent names the lead and at least loi_min_partners partners. None: one stage.
    loi_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    loi_min_partners: Mapped[int] = mapped_column(default=0)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every update: a form saved over someone else's newer change is refused.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User")
    questions: Mapped[list[CallQuestion]] = relationship(
        back_populates="call", cascade="all, delete-orphan", lazy="selectin",
        order_by="(CallQuestion.position, CallQuestion.id)")
    documents: Mapped[list[CallDocument]] = relationship(
        back_populates="call", cascade="all, delete-orphan", lazy="selectin",
        order_by="(CallDocument.position, CallDocument.id)")
    criteria: Mapped[list[RubricCriterion]] = relationship(
        back_populates="call", cascade="all, delete-orphan", lazy="selectin",
        order_by="(RubricCriterion.position, RubricCriterion.id)")
    metrics: Mapped[list[OutcomeMetric]] = relationship(
        back_populates="call", cascade="all, delete-orphan", lazy="selectin",
        order_by="(OutcomeMetric.position, OutcomeMetric.id)")
    # Not selectin like the others: only the call's page and the check-ins read them.
    check_in_statements: Mapped[list[CheckInStatement]] = relationship(
        back_populates="call", cascade="all, delete-orphan",
        order_by="(CheckInStatement.position, CheckInStatement.id)")
    milestones: Mapped[list[MilestoneTemplate]] = relationship(
        back_populates="call", cascade="all, delete-orphan", lazy="selectin",
        order_by="(MilestoneTemplate.position, MilestoneTemplate.id)")

    TRANSLATED_TEXTS = ("title", "summary", "description", "eligibility")

    def text_in(self, field: str) -> str:
        """The call's ``field`` (title, summary, description, eligibility) in the language
        being rendered: the Spanish text where the officer gave one, else the English."""
        from grants.core.i18n import current_language

        if field not in self.TRANSLATED_TEXTS:
            raise ValueError(f"{field} has no translation")
        if current_language() == "es":
            return getattr(self, f"{field}_es") or getattr(self, field)
        return getattr(self, field)

    @property
    def is_draft(self) -> bool:
        return self.status is CallStatus.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status is CallStatus.PUBLISHED

    @property
    def is_archived(self) -> bool:
        return self.status is CallStatus.ARCHIVED

    def phase(self, now: datetime | None = None) -> CallPhase | None:
        """Upcoming, open or closed at ``now`` (default: the server clock); None without dates."""
        if self.opens_at is None or self.closes_at is None:
            return None
        now = now or utcnow()
        if now < self.opens_at:
            return CallPhase.UPCOMING
        return CallPhase.OPEN if now < self.closes_at else CallPhase.CLOSED

    def is_open(self, now: datetime | None = None) -> bool:
        return self.phase(now) is CallPhase.OPEN

    @property
    def is_two_stage(self) -> bool:
        return self.loi_closes_at is not None

    def is_loi_open(self, now: datetime | None = None) -> bool:
        """Letters of intent are taken (a two-stage call, between its opening and loi_closes_at)."""
        now = now or utcnow()
        return (self.is_two_stage and self.opens_at is not None and self.opens_at <= now < self.loi_closes_at)

    def questions_for(self, stage) -> list[CallQuestion]:
        """The questions a letter of intent (stage LOI) or a full proposal (stage FULL) answers;
        a one-stage call asks all of its questions."""
        if not self.is_two_stage:
            return list(self.questions)
        wanted = QuestionStage.LOI if stage.value == "loi" else QuestionStage.FULL
        return [q for q in self.questions if q.stage in (wanted, QuestionStage.BOTH)]

    def local(self, instant: datetime | None) -> datetime | None:
        """``instant`` as the call's clocks show it."""
        return in_zone(instant, self.time_zone)

    @property
    def time_zone_label(self) -> str:
        return zone_label(self.time_zone)

    def days_until(self, instant: datetime, now: datetime | None = None) -> int:
        """Calendar days from ``now`` to ``instant`` in the call's zone: 0 today, 1 tomorrow."""
        return (self.local(instant).date() - self.local(now or utcnow()).date()).days

    @property
    def allowed_lead_kinds(self) -> list[OrganisationKind]:
        return [kind for kind in OrganisationKind if kind.value in (self.lead_kinds or [])]

    @property
    def allowed_partner_kinds(self) -> list[OrganisationKind]:
        return [kind for kind in OrganisationKind if kind.value in (self.partner_kinds or [])]

    @property
    def total_rubric_weight(self) -> int:
        return sum(criterion.weight for criterion in self.criteria)

    @property
    def milestone_share_total(self) -> int:
        return sum(milestone.payment_share_percent for milestone in self.milestones)

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.title!r} {self.status.value}>"


class CallItem:
    """What every item a call defines has: its call and its place in the call's list."""

    # sort_order: these columns come first in each table, as in every other table.
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-3)
    position: Mapped[int] = mapped_column(default=0, sort_order=-1)

    @declared_attr
    def call_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True, sort_order=-2)


class CallQuestion(CallItem, db.Model):
    """A narrative question every application answers."""

    __tablename__ = "call_question"
    __table_args__ = (CheckConstraint("word_limit > 0", name="word_limit_positive"),)

    prompt: Mapped[str] = mapped_column(Text)
    help_text: Mapped[str] = mapped_column(Text, default="")
    word_limit: Mapped[int | None] = mapped_column()  # None: no limit
    is_required: Mapped[bool] = mapped_column(default=True)
    stage: Mapped[QuestionStage] = mapped_column(enum_type(QuestionStage, "question_stage"),
                                                 default=QuestionStage.FULL)

    call: Mapped[Call] = relationship(back_populates="questions")


class CallDocument(CallItem, db.Model):
    """A document applications attach: once, or once for each partner (a letter of commitment)."""

    __tablename__ = "call_document"

    name: Mapped[str] = mapped_column(String(200))
    help_text: Mapped[str] = mapped_column(Text, default="")
    is_required: Mapped[bool] = mapped_column(default=True)
    scope: Mapped[DocumentScope] = mapped_column(enum_type(DocumentScope, "document_scope"),
                                                 default=DocumentScope.PER_APPLICATION)

    call: Mapped[Call] = relationship(back_populates="documents")


class RubricCriterion(CallItem, db.Model):
    """A criterion reviewers score on [scale_min, scale_max]; its weight counts in the total."""

    __tablename__ = "rubric_criterion"
    __table_args__ = (
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("scale_min >= 0", name="scale_min_not_negative"),
        CheckConstraint("scale_max > scale_min", name="scale_max_above_min"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[int] = mapped_column()
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)
    # What points on the scale mean, e.g. "1 = not addressed; 3 = adequate; 5 = exemplary".
    anchors: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[Call] = relationship(back_populates="criteria")


class OutcomeMetric(CallItem, db.Model):
    """A figure every milestone report of an award under this call gives."""

    __tablename__ = "outcome_metric"

    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(80), default="")

    call: Mapped[Call] = relationship(back_populates="metrics")


class CheckInStatement(CallItem, db.Model):
    """A statement about how the partners work together, which the lead and each partner rate
    from 1 (strongly disagree) to 5 (strongly agree) with each milestone report."""

    __tablename__ = "check_in_statement"

    text: Mapped[str] = mapped_column(String(300))

    call: Mapped[Call] = relationship(back_populates="check_in_statements")


class MilestoneTemplate(CallItem, db.Model):
    """A milestone every award under this call gets: due offset_days after the award starts,
    releasing payment_share_percent of the award once its report is accepted."""

    __tablename__ = "milestone_template"
    __table_args__ = (
        CheckConstraint("offset_days >= 0", name="offset_not_negative"),
        CheckConstraint("payment_share_percent BETWEEN 0 AND 100", name="payment_share_is_a_percentage"),
    )

    name: Mapped[str] = mapped_column(String(200))
    offset_days: Mapped[int] = mapped_column()
    payment_share_percent: Mapped[int] = mapped_column()

    call: Mapped[Call] = relationship(back_populates="milestones")
