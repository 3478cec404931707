"""The one place the environment is read. CLI flags override these values via ``replace``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_DB = Path("data/warehouse/current.duckdb")
# What all parsing workers together may add to their address space while parsing (default).
WORKERS_MEMORY_BYTES = 640 * 1024 * 1024


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    db: Path = DEFAULT_DB
    # Worker processes for parsing; 0 parses in this process (no time limit, no crash isolation).
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    # A file still parsing after this many seconds is rejected as parse_timeout (worker killed).
    parse_timeout: float = 120.0
    # Address space each worker may add to what it starts with; beyond it the file is rejected.
    # 0: a share of WORKERS_MEMORY_BYTES (all workers together), at least 256 MiB each.
    worker_memory_bytes: int = 0

    def worker_memory_cap(self) -> int:
        if self.worker_memory_bytes:
            return self.worker_memory_bytes
        return max(256 * 1024 * 1024, WORKERS_MEMORY_BYTES // max(self.jobs, 1))

    # Larger inputs are rejected unread: a letter PDF is well under 5 MB.
    max_file_bytes: int = 50 * 1024 * 1024
    # Zip safety: an archive whose members inflate beyond these is refused.
    max_zip_ratio: int = 100
    max_zip_total_bytes: int = 4 * 1024 * 1024 * 1024
    # DuckDB's memory for a build (it spills to disk beyond it), e.g. '384MB', '2GB'.
    build_memory: str = "384MB"
    # Dashboard: rates on fewer items than this are marked as small samples.
    small_n: int = 30
    host: str = "127.0.0.1"
    port: int = 8501
    # `imr fetch`: seconds between two requests to DWC's site (at least 0.2).
    fetch_delay: float = 1.0

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with the CLI's flags applied; ``None`` means the flag was not given."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)  # type: ignore[arg-type]


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (``IMR_DB``, ``IMR_JOBS``, ``IMR_SMALL_N``, ``IMR_PORT``,
    ``IMR_MAX_FILE_BYTES``, ``IMR_BUILD_MEMORY``, ``IMR_PARSE_TIMEOUT``,
    ``IMR_WORKER_MEMORY_BYTES``, ``IMR_FETCH_DELAY``); the CLI and the dashboard both start
    here."""
    env = os.environ if env is None else env
    defaults = Settings()
    return Settings(
        db=Path(env.get("IMR_DB", "").strip() or defaults.db),
        jobs=_env_int(env, "IMR_JOBS", defaults.jobs),
        parse_timeout=_env_int(env, "IMR_PARSE_TIMEOUT", int(defaults.parse_timeout)),
        worker_memory_bytes=_env_int(env, "IMR_WORKER_MEMORY_BYTES", defaults.worker_memory_bytes),
        max_file_bytes=_env_int(env, "IMR_MAX_FILE_BYTES", defaults.max_file_bytes),
        build_memory=env.get("IMR_BUILD_MEMORY", "").strip() or defaults.build_memory,
        small_n=max(_env_int(env, "IMR_SMALL_N", defaults.small_n), 1),
        port=_env_int(env, "IMR_PORT", defaults.port),
        fetch_delay=_env_delay(env, "IMR_FETCH_DELAY", defaults.fetch_delay),
    )


NATIVE_MODES = ("auto", "off", "require")


def native_mode(env: Mapping[str, str] | None = None) -> str:
    """``IMR_NATIVE``: whether the parser runs compiled (``etl.native``): ``auto`` when a
    current build exists, ``off`` never, ``require`` or fail. Read when ``etl.parse`` is first
    imported, before any flag: a process parses with one parser."""
    env = os.environ if env is None else env
    mode = env.get("IMR_NATIVE", "").strip().lower() or "auto"
    if mode not in NATIVE_MODES:
        raise SystemExit(f"IMR_NATIVE must be one of {', '.join(NATIVE_MODES)}, got {mode!r}")
    return mode


def _env_delay(env: Mapping[str, str], name: str, default: float) -> float:
    """Seconds between two requests to DWC's site: a number, at least 0.2."""
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, got {value!r}") from None
    if not seconds >= 0.2:  # NaN fails too
        raise SystemExit(f"{name} must be at least 0.2 (seconds between requests), got {value!r}")
    return seconds
