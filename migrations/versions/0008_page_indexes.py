"""indexes for the list pages' filters and sorts (checked with EXPLAIN on PostgreSQL at
10,000 applications; see benchmarks/results/)

Revision ID: 0008_page_indexes
Revises: 0007_outbox_lease
"""
from alembic import op


revision = "0008_page_indexes"
down_revision = "0007_outbox_lease"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index("ix_application_call_status", ["call_id", "status"], unique=False)
        batch_op.create_index("ix_application_call_submitted", ["call_id", "submitted_at"], unique=False)
        batch_op.create_index("ix_application_call_reference", ["call_id", "reference_number"], unique=False)
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.create_index("ix_review_assignment_reviewer_status_due", ["reviewer_id", "status", "due_on"],
                              unique=False)
        batch_op.create_index("ix_review_assignment_call_status", ["call_id", "status"], unique=False)


def downgrade():
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_review_assignment_call_status")
        batch_op.drop_index("ix_review_assignment_reviewer_status_due")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index("ix_application_call_reference")
        batch_op.drop_index("ix_application_call_submitted")
        batch_op.drop_index("ix_application_call_status")
