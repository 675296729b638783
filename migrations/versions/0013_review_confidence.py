"""review confidence: how sure each reviewer is of their review (low, medium, high)

Revision ID: 0013_review_confidence
Revises: 0012_languages
"""
from alembic import op
import sqlalchemy as sa


revision = "0013_review_confidence"
down_revision = "0012_languages"
branch_labels = None
depends_on = None


def upgrade():
    # Reviews submitted before this have none: the figures count them at medium (scoring.py).
    # The column first, its check after: SQLite's batch copy cannot name a column it has not made yet.
    with op.batch_alter_table("review") as batch_op:
        batch_op.add_column(sa.Column("confidence", sa.String(length=6), nullable=True))
    with op.batch_alter_table("review") as batch_op:
        batch_op.create_check_constraint(op.f("ck_review_review_confidence"), "confidence IN ('low', 'medium', 'high')")


def downgrade():
    with op.batch_alter_table("review") as batch_op:
        batch_op.drop_constraint(op.f("ck_review_review_confidence"), type_="check")
        batch_op.drop_column("confidence")
