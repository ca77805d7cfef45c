"""The annual record per member (党员日常管理记实): a member's year on one page, computed from
the records (figures.py), put in words (words.py: the PDF's paper and the chat answer), and
asked for with /record (chat.py); `branchbot report --view record` writes a branch's.

Importing the package registers /record on the one `feature`.
"""

from handlers.record_year import chat
from handlers.record_year.feature import feature

__all__ = ["chat", "feature"]
