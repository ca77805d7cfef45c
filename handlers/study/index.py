"""BM25 ranking of the study materials over their jieba terms, kept in memory per process.

Each material's terms are computed once, when it is added, and stored with it; the index
is built from those rows on the first search and catches up with rows it has not seen before
each search, so several processes sharing one database each stay current. Whether a
material is still active is checked in the database for the few top results, not here.
"""

import asyncio
import heapq
import math
import weakref
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.study.text import learn_later, loaded, terms
from storage import materials, quizzes
from storage.models import Material

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 3  # a word in the title counts as often as three in the body


def material_terms(title: str, body: str) -> dict[str, int]:
    """What the index stores for a material: its terms with title words weighted up."""
    counts = Counter(terms(body))
    for term in terms(title):
        counts[term] += TITLE_WEIGHT
    return dict(counts)


@dataclass
class MaterialIndex:
    postings: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    lengths: dict[int, int] = field(default_factory=dict)
    branches: dict[int, int | None] = field(default_factory=dict)
    total_length: int = 0
    last_id: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, material_id: int, branch_id: int | None, counts: dict[str, int]) -> None:
        for term, tf in counts.items():
            self.postings.setdefault(term, []).append((material_id, tf))
        length = sum(counts.values())
        self.lengths[material_id] = length
        self.branches[material_id] = branch_id
        self.total_length += length
        self.last_id = max(self.last_id, material_id)

    def score(self, query: list[str], branch_id: int | None) -> dict[int, float]:
        """BM25 scores of the materials a member of `branch_id` may see (None: all)."""
        return self.score_weighted(Counter(query), branch_id)

    def score_weighted(self, query: Mapping[str, float], branch_id: int | None) -> dict[int, float]:
        """BM25 scores for terms that count differently (a whole tag more than its parts)."""
        docs = len(self.lengths)
        if not docs:
            return {}
        average = self.total_length / docs
        scores: dict[int, float] = {}
        for term, weight in query.items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (docs - len(postings) + 0.5) / (len(postings) + 0.5))
            for material_id, tf in postings:
                if not self.visible(material_id, branch_id):
                    continue
                norm = K1 * (1 - B + B * self.lengths[material_id] / average)
                gain = weight * idf * tf * (K1 + 1) / (tf + norm)
                scores[material_id] = scores.get(material_id, 0.0) + gain
        return scores

    def visible(self, material_id: int, branch_id: int | None) -> bool:
        owner = self.branches[material_id]
        return owner is None or branch_id is None or owner == branch_id

    def top(self, query: list[str], branch_id: int | None, limit: int) -> list[tuple[int, float]]:
        scores = self.score(query, branch_id)
        return heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], item[0]))


# One index per database (keyed by its connection pool, which the read-only engine of
# storage.db.reader_factory shares), so tests with several databases stay apart.
_indexes: "weakref.WeakKeyDictionary[object, MaterialIndex]" = weakref.WeakKeyDictionary()


async def current_index(session: AsyncSession, *, cutting: bool = True) -> MaterialIndex:
    """This process's index of the session's database, caught up with any new materials.

    Current means holding as many materials as the table, up to its newest id; otherwise the
    ids it lacks are looked up, so a material committed after a newer one is not skipped.
    `cutting`: the caller cuts Chinese text next (a search, a recommendation), so jieba's
    dictionary is loaded first, off the event loop; the index itself needs only the stored
    terms (the build at start-up passes False)."""
    if cutting:
        await loaded()
    pool = session.get_bind().engine.pool
    index = _indexes.get(pool)
    if index is None:
        index = _indexes.setdefault(pool, MaterialIndex())
        learn_later(await quizzes.bank_tags(session))  # once a process: tags imported elsewhere
    newest, count = await materials.tally(session)
    if newest < index.last_id or count < len(index.lengths):  # replaced (tests): start over
        index = _indexes[pool] = MaterialIndex()
    if (newest, count) != (index.last_id, len(index.lengths)):
        async with index.lock:
            if (newest, count) != (index.last_id, len(index.lengths)):
                known = index.lengths.keys()
                missing = sorted(await materials.all_ids(session) - known)
                for material_id, branch_id, counts in await materials.index_rows(session, missing):
                    index.add(material_id, branch_id, counts)
    return index


async def search(
    session: AsyncSession, query: str, branch_id: int | None, limit: int
) -> list[Material]:
    """The best active materials for `query` that a member of `branch_id` may read, best
    first (`branch_id` None: every branch's, an admin's view). The index ranks a few more
    than wanted; one query keeps those still active and visible, in rank order."""
    index = await current_index(session)
    ranked = [mid for mid, _ in index.top(terms(query), branch_id, limit * 3)]
    found = await materials.visible_among(session, ranked, branch_id)
    return [found[mid] for mid in ranked if mid in found][:limit]
