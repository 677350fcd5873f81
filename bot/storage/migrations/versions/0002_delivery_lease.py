"""Deliveries get an owner, a lease and their progress, so a crashed claim is taken over.

`owner` and `lease_until` say which process holds a claimed slot and until when; `progress`
counts the messages the platform accepted, `in_doubt` says the next one may have been
accepted too. Existing rows keep their values; old claims have no lease (taken over at once).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("progress", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("in_doubt", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("in_doubt")
        batch.drop_column("progress")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
