"""Party dues (党费): monthly amounts, payments recorded or imported, what is owed."""

from handlers.dues import record, view
from handlers.dues.feature import feature
from handlers.dues.imports import DuesImported, import_dues
from handlers.dues.remind import remind_unpaid
from handlers.dues.standing import Standing, standings

__all__ = [
    "DuesImported",
    "Standing",
    "feature",
    "import_dues",
    "record",
    "remind_unpaid",
    "standings",
    "view",
]
