"""key fingerprint; one booking per passenger and departure

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("store_state") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("bookings") as batch:
        batch.create_unique_constraint("uq_bookings_departure_passenger", ["departure_id", "passenger_pseudonym"])


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint("uq_bookings_departure_passenger", type_="unique")
    with op.batch_alter_table("store_state") as batch:
        batch.drop_column("key_id")
