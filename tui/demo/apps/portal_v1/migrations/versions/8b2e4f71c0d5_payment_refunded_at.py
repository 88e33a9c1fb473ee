"""payment refunded_at; drop payment.legacy_ref

Revision ID: 8b2e4f71c0d5
Revises: 3f6c1d2a9b7e
Create Date: 2022-06-21 16:02:11.570934

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b2e4f71c0d5'
down_revision = '3f6c1d2a9b7e'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('payment', sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_column('payment', 'legacy_ref')  # added by hand on the clinic's server in 2019 (old card terminal)
    op.create_table(
        'refund',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.SmallInteger(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(scale=2), nullable=False),
        sa.Column('refunded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_refund_payment_id'), 'refund', ['payment_id'], unique=False)
    op.create_index(op.f('ix_refund_user_id'), 'refund', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_refund_user_id'), table_name='refund')
    op.drop_index(op.f('ix_refund_payment_id'), table_name='refund')
    op.drop_table('refund')
    op.add_column('payment', sa.Column('legacy_ref', sa.String(length=64), nullable=True))
    op.drop_column('payment', 'refunded_at')
