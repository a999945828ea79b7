"""operators, sites, gates and API keys; the audit chain's head

The hash of the newest audit entry is also kept in store_state, so that
deleting entries from the end of the log is detected too.

Existing departures and consents name operators by a string; each such name
becomes an operator, and each departure's origin site becomes a site of the
operator that scheduled it (the first one, if several did).

Revision ID: 0003
Revises: 0002
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sites",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("operator", sa.String(64), sa.ForeignKey("operators.code"), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "gates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("site", sa.String(32), sa.ForeignKey("sites.code"), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("operator", sa.String(64), sa.ForeignKey("operators.code"), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("gate", sa.String(64), sa.ForeignKey("gates.id"), nullable=True),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    with op.batch_alter_table("store_state") as batch:
        batch.add_column(sa.Column("audit_head", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    head = conn.execute(sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")).scalar()
    conn.execute(sa.text("UPDATE store_state SET audit_head = :h WHERE id = 1"), {"h": head})
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    names = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT operator FROM departures"))}
    names |= {r[0] for r in conn.execute(sa.text("SELECT DISTINCT operator FROM consents"))}
    for name in sorted(names):
        conn.execute(sa.text("INSERT INTO operators (code, name, created_at) VALUES (:c, :c, :t)"), {"c": name, "t": now})
    sites: dict[str, str] = {}
    for site, operator in conn.execute(sa.text("SELECT origin_site, operator FROM departures ORDER BY scheduled_at")):
        sites.setdefault(site, operator)
    for site, operator in sites.items():
        conn.execute(
            sa.text("INSERT INTO sites (code, operator, name, created_at) VALUES (:s, :o, :s, :t)"),
            {"s": site, "o": operator, "t": now},
        )


def downgrade() -> None:
    with op.batch_alter_table("store_state") as batch:
        batch.drop_column("audit_head")
    op.drop_table("api_keys")
    op.drop_table("gates")
    op.drop_table("sites")
    op.drop_table("operators")
