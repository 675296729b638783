"""outcome targets: a milestone's targets, a payment held pending a revised plan or released
with a justification, and every payment's method and reference

Revision ID: 0017_outcome_targets
Revises: 0016_reviewer_stipends
"""
from alembic import op
import sqlalchemy as sa


revision = "0017_outcome_targets"
down_revision = "0016_reviewer_stipends"
branch_labels = None
depends_on = None

TEXTS = ("shortfall_justification", "hold_reason", "revised_plan")
INSTANTS = ("held_at", "plan_submitted_at", "plan_accepted_at")
CHECKS = (
    ("ck_payment_payment_method", "payment_method IN ('bank_transfer', 'check', 'card', 'other')"),
    ("ck_payment_payment_hold", "hold IN ('held', 'plan_submitted', 'plan_accepted')"),
    ("ck_payment_released_has_method", "status = 'scheduled' OR payment_method IS NOT NULL"),
    ("ck_payment_paid_has_reference", "status <> 'paid' OR payment_reference <> ''"),
    ("ck_payment_hold_has_reason", "hold IS NULL OR (held_at IS NOT NULL AND hold_reason <> '')"),
    ("ck_payment_plan_has_instant",
     "hold IS NULL OR hold = 'held' OR (plan_submitted_at IS NOT NULL AND revised_plan <> '')"),
    ("ck_payment_plan_accepted_has_instant", "hold IS NULL OR hold <> 'plan_accepted' OR plan_accepted_at IS NOT NULL"),
    ("ck_payment_held_until_plan_accepted", "hold IS NULL OR hold = 'plan_accepted' OR status = 'scheduled'"),
)


def upgrade():
    op.create_table(
        "milestone_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("target > 0", name=op.f("ck_milestone_target_target_positive")),
        sa.ForeignKeyConstraint(["metric_id"], ["outcome_metric.id"],
                                name=op.f("fk_milestone_target_metric_id_outcome_metric"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestone.id"],
                                name=op.f("fk_milestone_target_milestone_id_milestone"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_target")),
        sa.UniqueConstraint("milestone_id", "metric_id", name=op.f("uq_milestone_target_milestone_id")),
    )
    with op.batch_alter_table("milestone_target") as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_target_milestone_id"), ["milestone_id"], unique=False)

    # Columns first, checks after: SQLite's batch copy cannot name a column it has not made yet.
    with op.batch_alter_table("payment") as batch_op:
        batch_op.add_column(sa.Column("payment_method", sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column("payment_reference", sa.String(length=100), nullable=False, server_default=""))
        for name in TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("hold", sa.String(length=14), nullable=True))
        for name in INSTANTS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    # Payments released or paid before methods and references were kept: say so rather than guess.
    op.execute("UPDATE payment SET payment_method = 'other' WHERE status <> 'scheduled'")
    op.execute("UPDATE payment SET payment_reference = 'Not recorded (paid before references were kept)' "
               "WHERE status = 'paid'")
    with op.batch_alter_table("payment") as batch_op:
        for name, condition in CHECKS:
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    with op.batch_alter_table("payment") as batch_op:
        for name, _ in reversed(CHECKS):
            batch_op.drop_constraint(op.f(name), type_="check")
    with op.batch_alter_table("payment") as batch_op:
        for name in reversed(INSTANTS):
            batch_op.drop_column(name)
        batch_op.drop_column("hold")
        for name in reversed(TEXTS):
            batch_op.drop_column(name)
        batch_op.drop_column("payment_reference")
        batch_op.drop_column("payment_method")
    with op.batch_alter_table("milestone_target") as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_target_milestone_id"))
    op.drop_table("milestone_target")
