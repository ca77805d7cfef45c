"""The archive feature's command table (its commands register here from their modules)."""

from handlers.core.registry import Feature

feature = Feature(
    "archive", order=("archive", "archive_add", "archive_file", "archive_get", "archive_remove")
)
