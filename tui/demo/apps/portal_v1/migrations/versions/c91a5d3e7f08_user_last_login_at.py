"""user last_login_at

Revision ID: c91a5d3e7f08
Revises: 3f6c1d2a9b7e
Create Date: 2022-07-04 09:37:45.204417

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c91a5d3e7f08'
down_revision = '3f6c1d2a9b7e'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user', sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('user', 'last_login_at')
