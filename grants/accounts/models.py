"""Organisations, users and their roles, and password-reset tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.core.types import UTCDateTime, enum_type, utcnow
from grants.extensions import db


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind, "organisation_kind"))
    status: Mapped[OrganisationStatus] = mapped_column(
        enum_type(OrganisationStatus, "organisation_status"), default=OrganisationStatus.PROPOSED
    )
    city: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    # Identifiers funders ask for: US tax ID (EIN) and the federal Unique Entity ID.
    ein: Mapped[str] = mapped_column(String(20), default="")
    uei: Mapped[str] = mapped_column(String(12), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    members: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.full_name")

    @property
    def is_approved(self) -> bool:
        return self.status is OrganisationStatus.APPROVED

    @property
    def location(self) -> str:
        return ", ".join(part for part in (self.city, self.region, self.country) if part)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"), primary_key=True)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[UserStatus] = mapped_column(enum_type(UserStatus, "user_status"), default=UserStatus.PENDING)
    # Every login session carries this token; rotating it ends all of the user's sessions
    # on the server side, so a copied cookie stops working (logout, password change,
    # deactivation).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "en" or "es" (grants.core.i18n.LANGUAGES); None: not chosen, the browser's language.
    language: Mapped[str | None] = mapped_column(String(8))

    organisation: Mapped[Organisation] = relationship(back_populates="members", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.role
    )

    # Flask-Login: the session stores the rotating token, never the bare primary key.
    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        """May log in and keep a session: an active account of an organisation not suspended."""
        return self.status is UserStatus.ACTIVE and self.organisation.status is not OrganisationStatus.SUSPENDED

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)

    @property
    def is_program_officer(self) -> bool:
        return self.has_role(Role.PROGRAM_OFFICER)

    @property
    def is_staff(self) -> bool:
        """Funder staff: program officers and admins."""
        return self.has_role(Role.PROGRAM_OFFICER, Role.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class PasswordResetToken(db.Model):
    """A single-use, expiring reset token; only its SHA-256 is stored."""

    __tablename__ = "password_reset_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class OrganisationDocument(db.Model):
    """A document an organisation keeps on file (e.g. tax-exempt status, registration)."""

    __tablename__ = "organisation_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), unique=True)

    organisation: Mapped[Organisation] = relationship(backref="documents")
    stored_file = relationship("StoredFile", lazy="joined")
