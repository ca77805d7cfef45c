"""Surveys (问卷调查): made by a secretary or imported, answered question by question, anonymous
when asked, and read with jieba to suggest study topics."""

from handlers.surveys.feature import feature

__all__ = ["feature"]
