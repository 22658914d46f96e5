"""Settings from the environment (prefix TASKS_) or a .env file."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

# HS256 keys shorter than the hash output (32 bytes) are guessable; RFC 7518 3.2.
MIN_SECRET_CHARS = 32


def default_data_dir(env: Mapping[str, str]) -> Path:
    """One data folder per user, wherever a command runs from (XDG base directories): a
    folder relative to the current one gave `tasks token`, run elsewhere, a secret of its
    own, and the service answered its tokens with 401."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tasks"


class Settings(BaseSettings):
    # Never echo a rejected value: it may be a secret.
    model_config = SettingsConfigDict(
        env_prefix="TASKS_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "TASKS_DATABASE_URL"),
        description="PostgreSQL URL; unset starts an embedded PostgreSQL in data_dir",
    )
    data_dir: Path = Field(
        default_factory=lambda: default_data_dir(os.environ),
        description="the embedded PostgreSQL's folder and its token secret",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_acquire_timeout: float = Field(default=5.0, gt=0, description="seconds")
    statement_timeout_ms: int = Field(default=10_000, ge=0)
    db_application_name: str = Field(default="tasks", min_length=1, max_length=63)
    migrate_on_start: bool = True
    gc_freeze: bool = Field(
        default=True, description="gc.freeze() after start-up: full collections skip that heap"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = 64 * 1024
    leader_retry_seconds: float = Field(
        default=2.0, gt=0, description="how often a non-leader tries to take over the jobs"
    )
    sequencer_idle_ms: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="how often the leader's sequencer looks for new events when there were none",
    )
    analyze_every_seconds: float = Field(
        default=3600, gt=0, description="leader's ANALYZE of the log"
    )
    read_replica_urls: list[str] = Field(
        default_factory=list, description="streaming replicas that serve queries (JSON list)"
    )
    replica_max_lag_ms: int = Field(default=5000, ge=0, description="skip a replica lagging more")
    consistency_wait_ms: int = Field(
        default=500, ge=0, description="how long a query waits for a replica to reach its token"
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="idle time before the event stream sends `: ping`"
    )
    shutdown_grace_seconds: int = Field(
        default=5,
        gt=0,
        description="on stop, how long open requests (event streams) may run before they are cut",
    )
    stream_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often the event stream checks the log without NOTIFY"
    )
    auth_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_CHARS)
    auth_previous_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_CHARS)
    auth_disabled: bool = False
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    idempotency_purge_seconds: float = Field(default=300, gt=0, description="purge interval")


def settings_problem(error: ValidationError) -> str:
    """One line naming each rejected variable and what it must be (never its value)."""
    return "; ".join(f"{_variable(e['loc'])}: {_rule(e)}" for e in error.errors())


def _variable(loc: tuple[int | str, ...]) -> str:
    name = str(loc[0]) if loc else "?"
    if name == "database_url":
        return "DATABASE_URL"
    return f"TASKS_{name.upper()}"


def _rule(error: Any) -> str:
    limit = error.get("ctx", {}).get("min_length")
    if error["type"] == "too_short" and limit is not None:
        return f"must be at least {limit} characters"  # pydantic says "items" of a SecretStr
    return str(error["msg"])
