"""outbox lease: which sender holds a message being sent, and until when

Revision ID: 0007_outbox_lease
Revises: 0006_organisation_suspension
Create Date: 2026-12-02 18:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_outbox_lease"
down_revision = "0006_organisation_suspension"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    # A message left SENDING by the old sender had no lease: its sender stopped mid-way, so
    # it is due again now.
    op.execute("UPDATE outbox_message SET lease_expires_at = CURRENT_TIMESTAMP WHERE status = 'sending'")


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("claimed_by")
