"""The dashboard's settings: the project's one settings object, read in ``etl.settings``.

``IMR_DB``: warehouse path (a symlink that ingest swaps atomically); ``IMR_SMALL_N``: rates on
fewer items than this are flagged as small samples.
"""

from __future__ import annotations

from etl.settings import DEFAULT_DB, Settings, load_settings

DEFAULT_SMALL_N = Settings().small_n

__all__ = ["DEFAULT_DB", "DEFAULT_SMALL_N", "Settings", "get_settings"]


def get_settings() -> Settings:
    return load_settings()
