"""Check-ins (one per milestone and organisation of the partnership), their ratings, and the
staff's follow-up notes on an award."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.checkins.enums import CheckInResponse
from grants.core.types import UTCDateTime, enum_type, utcnow
from grants.extensions import db


class CheckIn(db.Model):
    """One organisation's answer (or its decision not to answer) to one milestone's check-in.

    ``partner_id`` None: the lead organisation's. A partner's check-in is seen by funder staff
    and that partner only, never by the lead, so it can be candid.
    """

    __tablename__ = "check_in"
    __table_args__ = (
        UniqueConstraint("milestone_id", "organisation_id"),
        CheckConstraint("funds_received_cents IS NULL OR funds_received_cents >= 0",
                        name="funds_received_not_negative"),
        # Only a partner says what reached it; a declined check-in says nothing.
        CheckConstraint("funds_received_cents IS NULL OR (partner_id IS NOT NULL AND response = 'answered')",
                        name="funds_received_by_answering_partner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"), index=True)
    # The award's id again: the portfolio groups check-ins by award without the milestones.
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("application_partner.id", ondelete="CASCADE"))
    response: Mapped[CheckInResponse] = mapped_column(enum_type(CheckInResponse, "check_in_response"))
    # What the partner says has reached it of its share so far (cumulative).
    funds_received_cents: Mapped[int | None] = mapped_column(BigInteger)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    milestone = relationship("Milestone")
    organisation = relationship("Organisation", lazy="joined")
    partner = relationship("Partner")
    answered_by = relationship("User")
    ratings: Mapped[list[CheckInRating]] = relationship(back_populates="check_in", cascade="all, delete-orphan",
                                                        order_by="CheckInRating.id")

    @property
    def is_lead(self) -> bool:
        return self.partner_id is None

    def rating_for(self, statement_id: int) -> CheckInRating | None:
        return next((rating for rating in self.ratings if rating.statement_id == statement_id), None)


class CheckInRating(db.Model):
    __tablename__ = "check_in_rating"
    __table_args__ = (UniqueConstraint("check_in_id", "statement_id"),
                      CheckConstraint("rating BETWEEN 1 AND 5", name="rating_on_the_scale"))

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(ForeignKey("check_in.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("check_in_statement.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")

    check_in: Mapped[CheckIn] = relationship(back_populates="ratings")
    statement = relationship("CheckInStatement", lazy="joined")


class FollowUpNote(db.Model):
    """What funder staff did about a low or falling check-in (a call, a meeting): kept on the award."""

    __tablename__ = "check_in_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(Text)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    written_by = relationship("User")
