"""media: uploaded MMS images, and the type and media of a message

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lynsms.models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_media_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index("ix_media_account_id_id", ["account_id", "id"], unique=False)
        batch_op.create_index("uq_media_token", ["token"], unique=True)
        batch_op.create_index("ix_media_expires_at", ["expires_at"], unique=False)
    # A constant default: SQLite and PostgreSQL add these without rewriting the table.
    op.add_column(
        "messages",
        sa.Column("type", sa.String(length=8), server_default="sms", nullable=False),
    )
    op.add_column("messages", sa.Column("media_urls", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("media_urls")
        batch_op.drop_column("type")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_expires_at")
        batch_op.drop_index("uq_media_token")
        batch_op.drop_index("ix_media_account_id_id")
    op.drop_table("media")
