"""partnership check-ins: a call's check-in statements, each organisation's ratings with each
milestone report, and staff's follow-up notes

Revision ID: 0014_check_ins
Revises: 0013_review_confidence
"""
from alembic import op
import sqlalchemy as sa


revision = "0014_check_ins"
down_revision = "0013_review_confidence"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_in_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_check_in_statement_call_id_call'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_statement'))
    )
    with op.batch_alter_table('check_in_statement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_statement_call_id'), ['call_id'], unique=False)

    op.create_table('check_in_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('written_by_id', sa.Integer(), nullable=True),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_check_in_follow_up_award_id_award'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['written_by_id'], ['user.id'], name=op.f('fk_check_in_follow_up_written_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_follow_up'))
    )
    with op.batch_alter_table('check_in_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_follow_up_award_id'), ['award_id'], unique=False)

    op.create_table('check_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=True),
    sa.Column('response', sa.Enum('answered', 'declined', name='check_in_response', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('funds_received_cents', sa.BigInteger(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("funds_received_cents IS NULL OR (partner_id IS NOT NULL AND response = 'answered')", name=op.f('ck_check_in_funds_received_by_answering_partner')),
    sa.CheckConstraint('funds_received_cents IS NULL OR funds_received_cents >= 0', name=op.f('ck_check_in_funds_received_not_negative')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_check_in_answered_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_check_in_award_id_award'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_check_in_milestone_id_milestone'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_check_in_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['partner_id'], ['application_partner.id'], name=op.f('fk_check_in_partner_id_application_partner'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in')),
    sa.UniqueConstraint('milestone_id', 'organisation_id', name=op.f('uq_check_in_milestone_id'))
    )
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_milestone_id'), ['milestone_id'], unique=False)

    op.create_table('check_in_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_in_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_check_in_rating_rating_on_the_scale')),
    sa.ForeignKeyConstraint(['check_in_id'], ['check_in.id'], name=op.f('fk_check_in_rating_check_in_id_check_in'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['check_in_statement.id'], name=op.f('fk_check_in_rating_statement_id_check_in_statement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_rating')),
    sa.UniqueConstraint('check_in_id', 'statement_id', name=op.f('uq_check_in_rating_check_in_id'))
    )
    with op.batch_alter_table('check_in_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_rating_check_in_id'), ['check_in_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_rating_statement_id'), ['statement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('check_in_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_rating_statement_id'))
        batch_op.drop_index(batch_op.f('ix_check_in_rating_check_in_id'))

    op.drop_table('check_in_rating')
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_milestone_id'))
        batch_op.drop_index(batch_op.f('ix_check_in_award_id'))

    op.drop_table('check_in')
    with op.batch_alter_table('check_in_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_follow_up_award_id'))

    op.drop_table('check_in_follow_up')
    with op.batch_alter_table('check_in_statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_statement_call_id'))

    op.drop_table('check_in_statement')
