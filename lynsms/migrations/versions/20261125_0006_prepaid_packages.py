"""prepaid packages and the package SMS each message took

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lynsms.models.base

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("total_sms", sa.Integer(), nullable=False),
        sa.Column("used_sms", sa.Integer(), nullable=False),
        sa.Column("expire_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_sms > 0", name=op.f("ck_packages_total_sms_positive")),
        sa.CheckConstraint(
            "used_sms >= 0 AND used_sms <= total_sms",
            name=op.f("ck_packages_used_sms_within_total"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_packages_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_packages_account_id_expire_at_id", ["account_id", "expire_at", "id"], unique=False
        )

    op.create_table(
        "package_uses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("package_id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("sms", sa.Integer(), nullable=False),
        sa.Column("created_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("refunded_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("fk_package_uses_package_id_packages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_package_uses")),
    )
    with op.batch_alter_table("package_uses", schema=None) as batch_op:
        batch_op.create_index("ix_package_uses_message_id", ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("package_uses", schema=None) as batch_op:
        batch_op.drop_index("ix_package_uses_message_id")
    op.drop_table("package_uses")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index("ix_packages_account_id_expire_at_id")
    op.drop_table("packages")
