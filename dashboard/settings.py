"""Dashboard settings, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = "data/warehouse/current.duckdb"
DEFAULT_SMALL_N = 30


@dataclass(frozen=True)
class Settings:
    """``IMR_DB``: warehouse path (a symlink that ingest swaps atomically).
    ``IMR_SMALL_N``: rates on fewer items than this are flagged as small samples."""

    db_path: Path
    small_n: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw_n = env.get("IMR_SMALL_N", "").strip()
        try:
            small_n = int(raw_n) if raw_n else DEFAULT_SMALL_N
        except ValueError:
            small_n = DEFAULT_SMALL_N
        return cls(
            db_path=Path(env.get("IMR_DB", "").strip() or DEFAULT_DB),
            small_n=max(small_n, 1),
        )


def get_settings() -> Settings:
    return Settings.from_env()
