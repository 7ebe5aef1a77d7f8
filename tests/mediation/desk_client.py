"""The desk tests' client and staff tokens: those of tests/mediation/client.py."""

from __future__ import annotations

from tests.mediation.client import STAFF_OF_ROLE, as_role, client_for

staff_headers = as_role

__all__ = ["STAFF_OF_ROLE", "client_for", "staff_headers"]
