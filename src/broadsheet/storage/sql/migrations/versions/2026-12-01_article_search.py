"""Full-text search: ``article_search``, each article's search terms in the engine's own
full-text index (see ``storage/sql/search.py``), filled here for the articles already stored.

Revision ID: 3f9d2c71a8e4
Revises: 0b5c5ae66879
Create Date: 2026-12-01 19:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from broadsheet.storage.sql import search

revision: str = "3f9d2c71a8e4"
down_revision: str | None = "0b5c5ae66879"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def upgrade() -> None:
    connection = op.get_bind()
    for statement in search.CREATE[connection.dialect.name]:
        op.execute(statement)
    last_id = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, title, description, body FROM article WHERE id > :last_id"
                " ORDER BY id LIMIT :batch"
            ),
            {"last_id": last_id, "batch": _BATCH},
        ).all()
        if not rows:
            break
        search.fill(connection, rows)
        last_id = rows[-1][0]


def downgrade() -> None:
    for statement in search.DROP[op.get_bind().dialect.name]:
        op.execute(statement)
