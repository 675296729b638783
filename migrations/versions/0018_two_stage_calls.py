"""two-stage calls: a call's letter-of-intent deadline and partner rule, each question's stage,
and applications as letters of intent (screened, invited or declined) or full proposals
started from their letter

Revision ID: 0018_two_stage_calls
Revises: 0017_outcome_targets
"""
from alembic import op
import sqlalchemy as sa


revision = "0018_two_stage_calls"
down_revision = "0017_outcome_targets"
branch_labels = None
depends_on = None

OLD_STATUSES = "'draft', 'submitted', 'withdrawn', 'screened_out', 'in_review', 'awarded', 'declined'"
NEW_STATUSES = OLD_STATUSES + ", 'invited'"
APPLICATION_CHECKS = (
    ("ck_application_application_stage", "stage IN ('loi', 'full')"),
    ("ck_application_loi_outcome", "loi_outcome IN ('invite', 'decline')"),
    ("ck_application_invited_is_a_letter_of_intent",
     "status <> 'invited' OR (stage = 'loi' AND invited_at IS NOT NULL)"),
    ("ck_application_full_proposal_names_its_loi", "loi_id IS NULL OR stage = 'full'"),
    ("ck_application_loi_outcome_on_a_loi", "loi_outcome IS NULL OR stage = 'loi'"),
)


def upgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.add_column(sa.Column("loi_closes_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("loi_min_partners", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("call") as batch_op:
        batch_op.create_check_constraint(op.f("ck_call_loi_min_partners_not_negative"), "loi_min_partners >= 0")
        batch_op.create_check_constraint(
            op.f("ck_call_loi_closes_before_full"),
            "loi_closes_at IS NULL OR (loi_closes_at < closes_at AND loi_closes_at > opens_at)")

    with op.batch_alter_table("call_question") as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=4), nullable=False, server_default="full"))
    with op.batch_alter_table("call_question") as batch_op:
        batch_op.create_check_constraint(op.f("ck_call_question_question_stage"), "stage IN ('loi', 'full', 'both')")

    with op.batch_alter_table("application") as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=4), nullable=False, server_default="full"))
        batch_op.add_column(sa.Column("loi_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("loi_outcome", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("screening_note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("application") as batch_op:
        batch_op.create_foreign_key(op.f("fk_application_loi_id_application"), "application", ["loi_id"], ["id"],
                                    ondelete="SET NULL")
        batch_op.create_unique_constraint(op.f("uq_application_loi_id"), ["loi_id"])
        batch_op.drop_constraint(op.f("ck_application_application_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_application_application_status"), f"status IN ({NEW_STATUSES})")
        for name, condition in APPLICATION_CHECKS:
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    op.execute("DELETE FROM application WHERE stage = 'loi'")
    with op.batch_alter_table("application") as batch_op:
        for name, _ in reversed(APPLICATION_CHECKS):
            batch_op.drop_constraint(op.f(name), type_="check")
        batch_op.drop_constraint(op.f("ck_application_application_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_application_application_status"), f"status IN ({OLD_STATUSES})")
        batch_op.drop_constraint(op.f("uq_application_loi_id"), type_="unique")
        batch_op.drop_constraint(op.f("fk_application_loi_id_application"), type_="foreignkey")
    with op.batch_alter_table("application") as batch_op:
        batch_op.drop_column("invited_at")
        batch_op.drop_column("screening_note")
        batch_op.drop_column("loi_outcome")
        batch_op.drop_column("loi_id")
        batch_op.drop_column("stage")
    with op.batch_alter_table("call_question") as batch_op:
        batch_op.drop_constraint(op.f("ck_call_question_question_stage"), type_="check")
    with op.batch_alter_table("call_question") as batch_op:
        batch_op.drop_column("stage")
    with op.batch_alter_table("call") as batch_op:
        batch_op.drop_constraint(op.f("ck_call_loi_closes_before_full"), type_="check")
        batch_op.drop_constraint(op.f("ck_call_loi_min_partners_not_negative"), type_="check")
    with op.batch_alter_table("call") as batch_op:
        batch_op.drop_column("loi_min_partners")
        batch_op.drop_column("loi_closes_at")
