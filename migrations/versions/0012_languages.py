"""languages: each person's chosen language, and a call's texts in Spanish

Revision ID: 0012_languages
Revises: 0008_page_indexes
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_languages"
down_revision = "0008_page_indexes"
branch_labels = None
depends_on = None

CALL_TEXTS = (("title_es", sa.String(length=200)), ("summary_es", sa.String(length=600)),
              ("description_es", sa.Text()), ("eligibility_es", sa.Text()))


def upgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("call") as batch_op:
        for name, type_ in CALL_TEXTS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("call") as batch_op:
        for name, _ in reversed(CALL_TEXTS):
            batch_op.drop_column(name)
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("language")
