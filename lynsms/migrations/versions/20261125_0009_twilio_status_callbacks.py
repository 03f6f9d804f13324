"""twilio status callbacks: the StatusCallback of messages sent through the Twilio dialect

Revision ID: 0009
Revises: 0004
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lynsms.models.base

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "twilio_status_callbacks",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("sealed_token", sa.Text(), nullable=False),
        sa.Column("created_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_twilio_status_callbacks_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_twilio_status_callbacks")),
    )


def downgrade() -> None:
    op.drop_table("twilio_status_callbacks")
