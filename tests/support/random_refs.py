"""Fresh names for each test, so tests never collide in a shared database."""

import uuid


def random_user(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
