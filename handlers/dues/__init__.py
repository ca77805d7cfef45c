"""Party dues (党费): monthly amounts, payments recorded or imported, what is owed."""

from handlers.dues.feature import feature

__all__ = ["feature"]
