"""The member archive (党员档案): education and work history, awards and punishments, and
the scans kept with them, encrypted at rest. Secretaries keep it, members see their own."""

from handlers.archive import edit, files, show  # noqa: F401  (they register their commands)
from handlers.archive.feature import feature

__all__ = ["feature"]
