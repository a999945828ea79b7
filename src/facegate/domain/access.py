"""Who may do what: operators (tenants), roles, and the principal behind a request.

An API key belongs to one operator and carries one role; a gate key is also
bound to one gate. The local administrator (the CLI on the server, who holds
the key file anyway) acts without a principal and may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Role", "Permission", "Principal", "ROLE_PERMISSIONS"]


class Role(StrEnum):
    ADMIN = "admin"  # everything within its operator
    ENROLL = "enroll"  # enrollment kiosk
    GATE = "gate"  # one boarding gate
    MANIFEST = "manifest"  # the operator's ticketing system
    AUDIT = "audit"  # reads gate events and checks the audit log


class Permission(StrEnum):
    ENROLL = "enroll"  # enroll, add photos, look up a person
    ERASE = "erase"  # data-subject requests: export, erasure
    MANIFEST = "manifest"  # departures and bookings
    DECIDE = "decide"  # gate decisions
    RECOGNISE = "recognise"  # compare, identify
    AUDIT = "audit"  # gate events, audit-log check


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ENROLL: frozenset({Permission.ENROLL}),
    Role.GATE: frozenset({Permission.DECIDE}),
    Role.MANIFEST: frozenset({Permission.MANIFEST}),
    Role.AUDIT: frozenset({Permission.AUDIT}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    operator: str
    role: Role
    gate: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller (never the secret)."""
        return f"key:{self.key_id}"

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def may_use_gate(self, gate: str) -> bool:
        return self.role is Role.ADMIN or (self.role is Role.GATE and self.gate == gate)
