"""News sources: the sources followed, their claimed poll slots, the URLs seen.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", _utc(), nullable=False),
        sa.Column("next_poll", _utc(), nullable=True),
        sa.Column("last_fetch", _utc(), nullable=True),
        sa.Column("last_success", _utc(), nullable=True),
        sa.Column("etag", sa.String(500), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("articles_taken", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "source_polls",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "slot"),
    )
    op.create_table(
        "source_items",
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("article_id", sa.String(200), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("url_hash"),
        sa.UniqueConstraint("content_hash"),
    )
    op.create_index("ix_source_items_source_id", "source_items", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_source_items_source_id", table_name="source_items")
    op.drop_table("source_items")
    op.drop_table("source_polls")
    op.drop_table("sources")
