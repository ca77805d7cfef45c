"""k-means over members' indicators (scikit-learn, the optional extra "analysis"): each
indicator normalised to z-scores over the members (a missing value takes the mean), k chosen
by the silhouette score among 2..6, and for each cluster the two or three indicators that set
it apart (the z-score of the cluster's mean, largest first).

Plain numbers in, plain numbers out: who the rows are, and what the clusters are called in
words, is clusters.py's business.
"""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KS = range(2, 7)
SEED = 0  # the same data gives the same clusters
SILHOUETTE_SAMPLE = 2000  # the silhouette of a large school on a sample: it is O(n²)
STANDOUT = 0.5  # |z| from which a third indicator is named too
NAMED = (2, 3)  # at least, at most this many indicators named per cluster


class AnalysisMissing(Exception):
    """scikit-learn is not installed (pip install 'branchbot[analysis]')."""


@dataclass(frozen=True)
class Cluster:
    rows: list[int]  # indices of the rows in it
    standout: list[tuple[str, float]]  # (indicator, z of the cluster's mean), largest |z| first
    means: dict[str, float]  # the cluster's mean of each indicator, in its own units


@dataclass(frozen=True)
class Clustering:
    k: int
    silhouette: float
    features: tuple[str, ...]  # those that varied (a constant one cannot tell kinds apart)
    clusters: list[Cluster]  # largest first


def _sklearn() -> tuple[Any, Callable[..., float]]:
    try:
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
    except ImportError as err:
        raise AnalysisMissing(str(err)) from None
    return KMeans, silhouette_score


def _matrix(
    rows: Sequence[dict[str, float | None]], features: Sequence[str]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The rows as z-scores of the features that vary; a missing value is the mean (z 0)."""
    raw = np.array(
        [[np.nan if r.get(f) is None else r[f] for f in features] for r in rows], dtype=float
    )
    means = np.nanmean(np.where(np.isnan(raw).all(axis=0), 0.0, raw), axis=0)
    filled = np.where(np.isnan(raw), means, raw)
    spread = filled.std(axis=0)
    varied = spread > 1e-9
    z = (filled[:, varied] - filled[:, varied].mean(axis=0)) / spread[varied]
    return z, tuple(f for f, keep in zip(features, varied, strict=True) if keep)


def cluster(rows: Sequence[dict[str, float | None]], features: Sequence[str]) -> Clustering | None:
    """The best k-means of the rows over `features`; None when they are too few or alike."""
    kmeans, silhouette = _sklearn()
    if len(rows) < min(KS) + 1:
        return None
    z, varied = _matrix(rows, features)
    if not varied:
        return None
    best: tuple[float, int, np.ndarray] | None = None
    for k in KS:
        if k >= len(rows):
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fewer distinct points than k: judged below
            labels = kmeans(n_clusters=k, n_init=10, random_state=SEED).fit_predict(z)
        if len(set(labels.tolist())) < 2:
            continue
        sample = min(len(rows), SILHOUETTE_SAMPLE)
        score = float(silhouette(z, labels, sample_size=sample, random_state=SEED))
        if best is None or score > best[0]:
            best = (score, k, labels)
    if best is None:
        return None
    score, k, labels = best
    clusters = [_cluster(z, labels, label, varied, rows) for label in set(labels.tolist())]
    clusters.sort(key=lambda c: (-len(c.rows), c.rows[0]))
    return Clustering(k, score, varied, clusters)


def _cluster(
    z: np.ndarray,
    labels: np.ndarray,
    label: int,
    features: tuple[str, ...],
    rows: Sequence[dict[str, float | None]],
) -> Cluster:
    inside = [i for i, found in enumerate(labels.tolist()) if found == label]
    centre = z[inside].mean(axis=0)
    ranked = sorted(zip(features, centre.tolist(), strict=True), key=lambda f: -abs(f[1]))
    low, high = NAMED
    standout = ranked[:low] + [f for f in ranked[low:high] if abs(f[1]) >= STANDOUT]
    means = {}
    for f in features:
        values = [v for i in inside if (v := rows[i].get(f)) is not None]
        means[f] = float(np.mean(values)) if values else float("nan")
    return Cluster(inside, standout, means)
