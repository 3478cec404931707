"""The warehouse as files: versions, the published symlink, and safe read-only opens."""
