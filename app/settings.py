"""Settings from the environment (prefix TASKS_) or a .env file."""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASKS_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "TASKS_DATABASE_URL"),
        description="PostgreSQL URL; unset starts an embedded PostgreSQL in data_dir",
    )
    data_dir: Path = Field(default=Path(".tasks-data"), description="embedded PostgreSQL folder")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    pool_acquire_timeout: float = Field(default=5.0, gt=0, description="seconds")
    statement_timeout_ms: int = Field(default=10_000, ge=0)
    migrate_on_start: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = 64 * 1024
    leader_retry_seconds: float = Field(
        default=2.0, gt=0, description="how often a non-leader tries to take over the jobs"
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
