"""users: case-insensitive unique index on identifiant (login by identifiant)

Revision ID: 0005_identifiant_index
Revises: 0004_events
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_identifiant_index"
down_revision = "0004_events"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_users_identifiant_lower", "users", [sa.text("lower(identifiant)")], unique=True)


def downgrade():
    op.drop_index("ix_users_identifiant_lower", table_name="users")
