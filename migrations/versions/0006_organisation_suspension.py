"""organisation suspension: the SUSPENDED status and its timestamp

Revision ID: 0006_organisation_suspension
Revises: 0005_awards
"""
from alembic import op
import sqlalchemy as sa


revision = "0006_organisation_suspension"
down_revision = "0005_awards"
branch_labels = None
depends_on = None

CHECK = "ck_organisation_organisation_status"


def _status_check(values):
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade():
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.alter_column("status", existing_type=sa.String(length=8), type_=sa.String(length=9),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f(CHECK), _status_check(("proposed", "approved", "rejected", "suspended")))


def downgrade():
    # A suspended organisation has no older equivalent: it goes back to approved (its
    # members could log in again), which is why the upgrade keeps suspensions in the audit log.
    op.execute("UPDATE organisation SET status = 'approved' WHERE status = 'suspended'")
    with op.batch_alter_table("organisation") as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.alter_column("status", existing_type=sa.String(length=9), type_=sa.String(length=8),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f(CHECK), _status_check(("proposed", "approved", "rejected")))
        batch_op.drop_column("suspended_at")
