"""An application and its parts: answers, partners, budget lines, documents, collaborators."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.applications.enums import ApplicationStage, ApplicationStatus, BudgetCategory, CollaboratorRole, LoiOutcome
from grants.core.types import UTCDateTime, enum_type, utcnow
from grants.extensions import db

WORD = re.compile(r"\S+")


def count_words(text: str | None) -> int:
    # The same rule as the live counter in static/js/word-count.js: runs of non-space.
    return len(WORD.findall(text or ""))


class Application(db.Model):
    __tablename__ = "application"
    __table_args__ = (
        # A submitted (or later) application always has its reference number and instant.
        CheckConstraint("status = 'draft' OR (reference_number IS NOT NULL AND submitted_at IS NOT NULL)",
                        name="submitted_has_reference"),
        CheckConstraint("status <> 'screened_out' OR screening_reason <> ''", name="screened_out_has_reason"),
        # Only a letter of intent is invited; a full proposal of a two-stage call names its letter.
        CheckConstraint("status <> 'invited' OR (stage = 'loi' AND invited_at IS NOT NULL)",
                        name="invited_is_a_letter_of_intent"),
        CheckConstraint("loi_id IS NULL OR stage = 'full'", name="full_proposal_names_its_loi"),
        CheckConstraint("loi_outcome IS NULL OR stage = 'loi'", name="loi_outcome_on_a_loi"),
        # The officers' lists filter a call's applications by status and sort them by
        # submission or reference (intake, assignments, ranking, decisions).
        Index("ix_application_call_status", "call_id", "status"),
        Index("ix_application_call_submitted", "call_id", "submitted_at"),
        Index("ix_application_call_reference", "call_id", "reference_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), index=True)
    lead_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus, "application_status"),
                                                      default=ApplicationStatus.DRAFT, index=True)
    stage: Mapped[ApplicationStage] = mapped_column(enum_type(ApplicationStage, "application_stage"),
                                                    default=ApplicationStage.FULL)
    # A full proposal of a two-stage call: the invited letter of intent it started from.
    loi_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"), unique=True)
    # A letter of intent's screening (internal until the officer releases it) and its note.
    loi_outcome: Mapped[LoiOutcome | None] = mapped_column(enum_type(LoiOutcome, "loi_outcome"))
    screening_note: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(String(250))
    summary: Mapped[str] = mapped_column(Text, default="")
    reference_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    screening_reason: Mapped[str] = mapped_column(Text, default="")
    # What was submitted, as it was: the record the funder reviews and the applicant sees.
    submitted_content: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    screened_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    awarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every change to the application or its parts: a save based on an older
    # version is refused instead of overwriting someone else's work.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    call = relationship("Call", lazy="joined")
    lead_organisation = relationship("Organisation", lazy="joined")
    owner = relationship("User", foreign_keys=[owner_id])
    loi: Mapped[Application | None] = relationship(remote_side=[id], foreign_keys=[loi_id],
                                                   back_populates="full_proposal")
    full_proposal: Mapped[Application | None] = relationship(foreign_keys=[loi_id], back_populates="loi",
                                                             uselist=False)
    answers: Mapped[list[Answer]] = relationship(back_populates="application", cascade="all, delete-orphan",
                                                 lazy="selectin")
    partners: Mapped[list[Partner]] = relationship(back_populates="application", cascade="all, delete-orphan",
                                                   lazy="selectin", order_by="Partner.id")
    budget_lines: Mapped[list[BudgetLine]] = relationship(back_populates="application",
                                                          cascade="all, delete-orphan", lazy="selectin",
                                                          order_by="BudgetLine.id")
    documents: Mapped[list[ApplicationDocument]] = relationship(
        back_populates="application", cascade="all, delete-orphan", lazy="selectin",
        order_by="(ApplicationDocument.call_document_id, ApplicationDocument.partner_id, "
                 "ApplicationDocument.version)")
    collaborators: Mapped[list[Collaborator]] = relationship(
        back_populates="application", cascade="all, delete-orphan", lazy="selectin", order_by="Collaborator.id")

    @property
    def is_draft(self) -> bool:
        return self.status is ApplicationStatus.DRAFT

    @property
    def is_loi(self) -> bool:
        return self.stage is ApplicationStage.LOI

    @property
    def questions(self) -> list:
        """The call's questions this application answers (a letter of intent asks fewer)."""
        return self.call.questions_for(self.stage)

    @property
    def closes_at(self) -> datetime | None:
        """When submission closes for it: the letter-of-intent deadline or the call's."""
        return self.call.loi_closes_at if self.is_loi else self.call.closes_at

    def is_open(self, now: datetime | None = None) -> bool:
        """Whether it may still be submitted (or withdrawn) by the server clock."""
        return self.call.is_loi_open(now) if self.is_loi else self.call.is_open(now)

    def answer_to(self, question_id: int) -> Answer | None:
        return next((a for a in self.answers if a.question_id == question_id), None)

    @property
    def requested_cents(self) -> int:
        return sum(line.amount_cents for line in self.budget_lines)

    def partner_share_cents(self, partner: Partner) -> int:
        return sum(line.amount_cents for line in self.budget_lines if line.partner_id == partner.id)

    @property
    def community_share_cents(self) -> int:
        """What flows to partners of a community kind (nonprofits, health and social agencies)."""
        community = {p.id for p in self.partners if p.organisation.kind.is_community_partner}
        return sum(line.amount_cents for line in self.budget_lines if line.partner_id in community)

    @property
    def community_share_percent(self) -> float:
        total = self.requested_cents
        return 100.0 * self.community_share_cents / total if total else 0.0

    def current_document(self, call_document_id: int, partner_id: int | None) -> ApplicationDocument | None:
        versions = [d for d in self.documents
                    if d.call_document_id == call_document_id and d.partner_id == partner_id]
        return max(versions, key=lambda d: d.version) if versions else None

    def document_versions(self, call_document_id: int, partner_id: int | None) -> list[ApplicationDocument]:
        return sorted((d for d in self.documents
                       if d.call_document_id == call_document_id and d.partner_id == partner_id),
                      key=lambda d: d.version, reverse=True)

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.status.value}>"


class Answer(db.Model):
    __tablename__ = "application_answer"
    __table_args__ = (UniqueConstraint("application_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("call_question.id"))
    text: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship(back_populates="answers")
    question = relationship("CallQuestion")

    @property
    def word_count(self) -> int:
        return count_words(self.text)


class Partner(db.Model):
    """A partner organisation on an application, its contact, role and sign-off."""

    __tablename__ = "application_partner"
    __table_args__ = (UniqueConstraint("application_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254), index=True)
    role_in_project: Mapped[str] = mapped_column(Text, default="")
    # The partner's contact confirmed the partnership and this budget share; any change to the
    # partner's section or share clears it.
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    signed_off_share_cents: Mapped[int | None] = mapped_column(BigInteger)

    application: Mapped[Application] = relationship(back_populates="partners")
    organisation = relationship("Organisation", lazy="joined")
    signed_off_by = relationship("User")

    @property
    def is_signed_off(self) -> bool:
        return self.signed_off_at is not None


class BudgetLine(db.Model):
    __tablename__ = "budget_line"
    __table_args__ = (CheckConstraint("amount_cents >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    category: Mapped[BudgetCategory] = mapped_column(enum_type(BudgetCategory, "budget_category"))
    description: Mapped[str] = mapped_column(String(300))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # A subaward to this partner; None for the lead's own costs.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("application_partner.id", ondelete="SET NULL"))

    application: Mapped[Application] = relationship(back_populates="budget_lines")
    partner = relationship("Partner")


class ApplicationDocument(db.Model):
    """One version of the file in one document slot (per partner where the call says so).

    Replacing a file adds a version; the earlier ones stay."""

    __tablename__ = "application_document"
    __table_args__ = (UniqueConstraint("application_id", "call_document_id", "partner_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    call_document_id: Mapped[int] = mapped_column(ForeignKey("call_document.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("application_partner.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), unique=True)

    application: Mapped[Application] = relationship(back_populates="documents")
    call_document = relationship("CallDocument")
    partner = relationship("Partner")
    stored_file = relationship("StoredFile", lazy="joined")


class Collaborator(db.Model):
    """Someone invited by e-mail to edit or view the application; the link works once."""

    __tablename__ = "application_collaborator"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[CollaboratorRole] = mapped_column(enum_type(CollaboratorRole, "collaborator_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    application: Mapped[Application] = relationship(back_populates="collaborators")
    user = relationship("User", foreign_keys=[user_id])
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    @property
    def is_active(self) -> bool:
        return self.accepted_at is not None and self.revoked_at is None


class ReferenceCounter(db.Model):
    """The last reference number given per call; its row is locked while a number is taken."""

    __tablename__ = "application_reference_counter"

    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)
