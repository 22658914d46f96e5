"""The read-only role for analysts (`tasks analyst-role NAME`) and its password verifier."""

import base64
import hashlib
import hmac
import os
import re

import asyncpg

from sql import queries

_SQL = queries("analytics")
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
SCRAM_ITERATIONS = 4096


def scram_sha256_verifier(password: str, salt: bytes | None = None) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, RFC 7677).

    Computed here so the password itself never reaches the server, its logs or its
    statistics. Only printable ASCII is accepted: for it, SASLprep (which the server
    applies to the password at login) changes nothing.
    """
    if not _PRINTABLE_ASCII.fullmatch(password):
        raise ValueError("the password must be printable ASCII without spaces")
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def ensure_analyst_role(
    conn: asyncpg.Connection, name: str, password: str | None = None
) -> bool:
    """Create or update the role; True if it was created. Rerun after migrations add views."""
    if not ROLE_NAME.fullmatch(name) or name.startswith("pg_"):
        raise ValueError("a role name is 1 to 63 of a-z 0-9 _, not starting with a digit or pg_")
    verifier = None if password is None else scram_sha256_verifier(password)
    async with conn.transaction():
        created: bool = await conn.fetchval(_SQL["ensure_analyst_role"], name, verifier)
    return created
