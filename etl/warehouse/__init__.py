"""The warehouse as files: versions, the published symlink, and safe read-only opens."""


class WarehouseError(Exception):
    """The warehouse cannot be built here; the message says why in one line."""
