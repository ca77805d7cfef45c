"""Which material a member should read next, and why.

Three signals, each explained to the member: their interests (from their profile), the
tags of the questions in their 错题本 (weighted by how many misses each has), and what the
branch published lately. Each interest or tag is a BM25 query of its own, scored once per
run and shared by every member who has it, so the daily push for thousands of members costs
a few dozen queries.

A tag or interest is matched as a whole term (组织原则), helped by those of its parts that
are specific (纪律 of 纪律处分) but never by generic ones (组织, which almost every Party text
has); when no material names it whole, its specific parts alone count, at a discount. Equal
scores go to the stronger match, not the newer material.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice

from handlers.core.messages import Msg
from handlers.study.index import MaterialIndex
from handlers.study.text import normalize, terms

INTEREST_WEIGHT = 1.0
WEAK_WEIGHT = 1.2  # the most missed tag; the others in proportion to their misses
WEAK_LIMIT = 3  # weak tags looked at per member, most missed first
PART_WEIGHT = 0.5  # a tag no material names whole, matched by its specific parts
GENERIC_SHARE = 0.3  # a part found in more of the materials than this says nothing
FRESH_WEIGHT = 0.4
FRESH_COUNT = 20  # the branch's newest materials get a small bonus, the newest the most
CANDIDATES = 30  # per query
FALLBACK_SCAN = 500  # materials looked through, newest first, when nothing else fits
INTEREST, WEAK = 0, 1  # the two kinds of words a member brings


@dataclass(frozen=True)
class Pick:
    material_id: int
    why: Msg


@dataclass(frozen=True)
class Hit:
    """How well a material answers one word: scaled so the word's best is its weight (1, or
    PART_WEIGHT for parts), and the raw BM25 score (which breaks ties)."""

    scaled: float
    raw: float


@dataclass
class _Tally:
    """The scores of one member's candidates, and which word gave each the most."""

    scores: dict[int, float] = field(default_factory=dict)
    relevance: dict[int, float] = field(default_factory=dict)
    gains: dict[int, tuple[dict[str, float], dict[str, float]]] = field(default_factory=dict)

    def add(self, material_id: int, word: str, kind: int, weight: float, hit: Hit) -> None:
        gain = weight * hit.scaled
        self.scores[material_id] = self.scores.get(material_id, 0.0) + gain
        self.relevance[material_id] = self.relevance.get(material_id, 0.0) + weight * hit.raw
        words = self.gains.setdefault(material_id, ({}, {}))[kind]
        words[word] = words.get(word, 0.0) + gain

    def top(self) -> int:
        """The best score; equal scores (to rounding) go to the stronger match, then the id."""
        return max(
            self.scores,
            key=lambda mid: (
                round(self.scores[mid], 9),
                round(self.relevance.get(mid, 0.0), 9),
                mid,
            ),
        )

    def driver(self, material_id: int, kind: int) -> str | None:
        """The word of that kind that gave the material most (the first listed on a tie)."""
        words = self.gains.get(material_id, ({}, {}))[kind]
        return max(words, key=words.__getitem__) if words else None


def weak_weights(weak: Mapping[str, int]) -> list[tuple[str, float]]:
    """The most missed tags with their weights: WEAK_WEIGHT for the most missed, the others
    in proportion to their misses (3 misses against 1: 1.2 against 0.4)."""
    ranked = sorted(weak.items(), key=lambda item: (-item[1], item[0]))[:WEAK_LIMIT]
    most = max((misses for _, misses in ranked), default=0)
    return [(tag, WEAK_WEIGHT * misses / most) for tag, misses in ranked if misses > 0]


@dataclass
class Recommender:
    """Recommendations over one snapshot of the index; `alive` are the active materials
    (None: the caller checks the pick itself)."""

    index: MaterialIndex
    alive: set[int] | None = None
    _words: dict[str, tuple[list[tuple[float, int]], float]] = field(default_factory=dict)
    _queries: dict[tuple[str, int | None], dict[int, Hit]] = field(default_factory=dict)
    _fresh: dict[int | None, dict[int, float]] = field(default_factory=dict)
    _newest_ids: list[int] | None = None

    def query_terms(self, word: str) -> tuple[dict[str, float], float]:
        """The index terms a tag or interest is matched by, each with its weight, and what
        the word's best match counts. The whole term leads; its parts add PART_WEIGHT each
        unless generic (in more than GENERIC_SHARE of the materials: 组织 of 组织原则) or a
        single character. With no material naming it whole, a match counts PART_WEIGHT."""
        whole = normalize(word)
        most = GENERIC_SHARE * len(self.index.lengths)
        query = {
            t: PART_WEIGHT
            for t in terms(word)
            if t != whole and len(t) > 1 and len(self.index.postings.get(t, ())) <= most
        }
        if whole in self.index.postings:
            return {whole: 1.0, **query}, 1.0
        return query, PART_WEIGHT

    def _ranked(self, word: str) -> tuple[list[tuple[float, int]], float]:
        """Every material the word finds, best first, scored once per run for all branches;
        and what its best counts."""
        if word not in self._words:
            query, factor = self.query_terms(word)
            scores = self.index.score_weighted(query, None)
            ranked = sorted(
                ((s, mid) for mid, s in scores.items() if self._alive(mid)), reverse=True
            )
            self._words[word] = ranked, factor
        return self._words[word]

    def _query(self, word: str, branch_id: int | None) -> dict[int, Hit]:
        """The word's best materials for a member of the branch."""
        key = (word, branch_id)
        if key not in self._queries:
            ranked, factor = self._ranked(word)
            visible = ((s, mid) for s, mid in ranked if self.index.visible(mid, branch_id))
            top = list(islice(visible, CANDIDATES))
            best = top[0][0] if top else 1.0
            self._queries[key] = {mid: Hit(factor * s / best, s) for s, mid in top}
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
        weak: Mapping[str, int],
        skip: set[int],
    ) -> Pick | None:
        """The top material not in `skip` (learned, or pushed lately), with its reason.

        `weak`: the tags of the member's 错题本 with how many misses each has."""
        tally = _Tally()
        weighted = [(w, INTEREST, INTEREST_WEIGHT) for w in dict.fromkeys(interests)]
        weighted += [(tag, WEAK, weight) for tag, weight in weak_weights(weak)]
        for word, kind, weight in weighted:
            for mid, hit in self._query(word, branch_id).items():
                if mid not in skip:
                    tally.add(mid, word, kind, weight, hit)
        for mid, s in self._newest(branch_id).items():
            if mid not in skip:
                tally.scores[mid] = tally.scores.get(mid, 0.0) + FRESH_WEIGHT * s
        if tally.scores:
            top = tally.top()
            return Pick(top, _why(tally.driver(top, INTEREST), tally.driver(top, WEAK)))
        return self._anything_unread(branch_id, skip)

    def _anything_unread(self, branch_id: int | None, skip: set[int]) -> Pick | None:
        for scanned, mid in enumerate(self._visible_newest_first(branch_id)):
            if scanned >= FALLBACK_SCAN:
                break
            if mid not in skip:
                return Pick(mid, Msg("study.why_unread"))
        return None


def _why(interest: str | None, tag: str | None) -> Msg:
    """The reason names the one tag and the one interest that counted most for the pick."""
    if tag and interest:
        return Msg("study.why_both", tag=tag, interest=interest)
    if tag:
        return Msg("study.why_weak", tag=tag)
    if interest:
        return Msg("study.why_interest", interest=interest)
    return Msg("study.why_new")
