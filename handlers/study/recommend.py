"""Which material a member should read next, and why.

Three signals, each explained to the member: their interests (from their profile), the
tags of the questions in their 错题本, and what the branch published lately. Each interest
or tag is a BM25 query of its own, scored once per run and shared by every member who has
it, so the daily push for thousands of members costs a few dozen queries.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from handlers.messages import Msg
from handlers.study.index import MaterialIndex
from handlers.study.text import terms

INTEREST_WEIGHT = 1.0
WEAK_WEIGHT = 1.2
FRESH_WEIGHT = 0.4
FRESH_COUNT = 20  # the branch's newest materials get a small bonus, the newest the most
CANDIDATES = 30  # per query
FALLBACK_SCAN = 500  # materials looked through, newest first, when nothing else fits


@dataclass(frozen=True)
class Pick:
    material_id: int
    why: Msg


@dataclass
class Recommender:
    """Recommendations over one snapshot of the index; `alive` are the active materials
    (None: the caller checks the pick itself)."""

    index: MaterialIndex
    alive: set[int] | None = None
    _words: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    _queries: dict[tuple[str, int | None], dict[int, float]] = field(default_factory=dict)
    _fresh: dict[int | None, dict[int, float]] = field(default_factory=dict)
    _newest_ids: list[int] | None = None

    def _ranked(self, word: str) -> list[tuple[float, int]]:
        """Every material the word finds, best first, scored once per run for all branches."""
        if word not in self._words:
            scores = self.index.score(terms(word), None)
            ranked = sorted(
                ((s, mid) for mid, s in scores.items() if self._alive(mid)), reverse=True
            )
            self._words[word] = ranked
        return self._words[word]

    def _query(self, word: str, branch_id: int | None) -> dict[int, float]:
        """The word's best materials for a member of the branch, scaled so the best is 1."""
        key = (word, branch_id)
        if key not in self._queries:
            visible = (
                (s, mid) for s, mid in self._ranked(word) if self.index.visible(mid, branch_id)
            )
            top = list(islice(visible, CANDIDATES))
            best = top[0][0] if top else 1.0
            self._queries[key] = {mid: s / best for s, mid in top}
        return self._queries[key]

    def _alive(self, material_id: int) -> bool:
        return self.alive is None or material_id in self.alive

    def _newest(self, branch_id: int | None) -> dict[int, float]:
        if branch_id not in self._fresh:
            newest = list(islice(self._visible_newest_first(branch_id), FRESH_COUNT))
            self._fresh[branch_id] = {
                mid: 1 - rank / FRESH_COUNT for rank, mid in enumerate(newest)
            }
        return self._fresh[branch_id]

    def _visible_newest_first(self, branch_id: int | None) -> Iterable[int]:
        if self._newest_ids is None:  # sorted once per run, not once per member
            self._newest_ids = sorted(self.index.lengths, reverse=True)
        for mid in self._newest_ids:
            if self._alive(mid) and self.index.visible(mid, branch_id):
                yield mid

    def best(
        self,
        branch_id: int | None,
        interests: Iterable[str],
        weak_tags: Iterable[str],
        skip: set[int],
    ) -> Pick | None:
        """The top material not in `skip` (learned, or pushed lately), with its reason."""
        scores: dict[int, float] = {}
        matched: dict[int, tuple[list[str], list[str]]] = {}
        for words, weight, slot in ((interests, INTEREST_WEIGHT, 0), (weak_tags, WEAK_WEIGHT, 1)):
            for word in words:
                for mid, s in self._query(word, branch_id).items():
                    if mid in skip:
                        continue
                    scores[mid] = scores.get(mid, 0.0) + weight * s
                    matched.setdefault(mid, ([], []))[slot].append(word)
        for mid, s in self._newest(branch_id).items():
            if mid not in skip:
                scores[mid] = scores.get(mid, 0.0) + FRESH_WEIGHT * s
        if scores:
            top = max(scores, key=lambda mid: (scores[mid], mid))
            liked, weak = matched.get(top, ([], []))
            return Pick(top, _why(liked, weak))
        return self._anything_unread(branch_id, skip)

    def _anything_unread(self, branch_id: int | None, skip: set[int]) -> Pick | None:
        for scanned, mid in enumerate(self._visible_newest_first(branch_id)):
            if scanned >= FALLBACK_SCAN:
                break
            if mid not in skip:
                return Pick(mid, Msg("study.why_unread"))
        return None


def _why(liked: list[str], weak: list[str]) -> Msg:
    if weak and liked:
        return Msg("study.why_both", tags=weak, interests=liked)
    if weak:
        return Msg("study.why_weak", tags=weak)
    if liked:
        return Msg("study.why_interest", interests=liked)
    return Msg("study.why_new")
