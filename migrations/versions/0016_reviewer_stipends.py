"""reviewer stipends: a call's stipend per completed review set, who is eligible, payments recorded

Revision ID: 0016_reviewer_stipends
Revises: 0015_api_tokens
"""
from alembic import op
import sqlalchemy as sa


revision = "0016_reviewer_stipends"
down_revision = "0015_api_tokens"
branch_labels = None
depends_on = None


def upgrade():
    # Columns first, checks after: SQLite's batch copy cannot name a column it has not made yet.
    with op.batch_alter_table("review_settings") as batch_op:
        batch_op.add_column(sa.Column("stipend_cents", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("review_settings") as batch_op:
        batch_op.create_check_constraint(op.f("ck_review_settings_stipend_positive"),
                                         "stipend_cents IS NULL OR stipend_cents > 0")
    with op.batch_alter_table("panel_member") as batch_op:
        batch_op.add_column(sa.Column("stipend_eligible", sa.Boolean(), nullable=True))

    op.create_table(
        "reviewer_stipend",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("panel_member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("owed", "paid", name="stipend_status", native_enum=False, create_constraint=True),
                  nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by_id", sa.Integer(), nullable=True),
        sa.Column("payment_reference", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name=op.f("ck_reviewer_stipend_amount_positive")),
        sa.CheckConstraint("status <> 'paid' OR (paid_on IS NOT NULL AND paid_at IS NOT NULL AND amount_cents IS NOT NULL)",
                           name=op.f("ck_reviewer_stipend_paid_has_date_and_amount")),
        sa.ForeignKeyConstraint(["panel_member_id"], ["panel_member.id"],
                                name=op.f("fk_reviewer_stipend_panel_member_id_panel_member"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["paid_by_id"], ["user.id"], name=op.f("fk_reviewer_stipend_paid_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewer_stipend")),
        sa.UniqueConstraint("panel_member_id", name=op.f("uq_reviewer_stipend_panel_member_id")),
    )


def downgrade():
    op.drop_table("reviewer_stipend")
    with op.batch_alter_table("panel_member") as batch_op:
        batch_op.drop_column("stipend_eligible")
    with op.batch_alter_table("review_settings") as batch_op:
        batch_op.drop_constraint(op.f("ck_review_settings_stipend_positive"), type_="check")
        batch_op.drop_column("stipend_cents")
