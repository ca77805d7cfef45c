"""Theory study: daily quizzes, the 错题本 and leaderboard, study materials, search and the
daily push. Chinese is read as words with jieba (see text.py).

Importing the modules registers their commands on the one `feature`.
"""

from handlers.study import materials, progress, quiz, reading
from handlers.study.feature import feature

__all__ = ["feature", "materials", "progress", "quiz", "reading"]
