"""Short task titles: fenced for display, embedded, and clustered by meaning with k-means.

Production embeds titles ahead of time (an activity fills `UserHistory.embeddings` by task key);
agents never call a model. When a vector is missing, every title is embedded offline with hashed
byte trigrams, so that one clustering never mixes two vector spaces.
"""

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

Embedder = Callable[[list[str]], F64]

DIM = 256
# splitmix64's finaliser: a fixed, well-mixed integer hash (Python's hash() is salted per process).
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SEP = 0  # a NUL byte separates titles so no trigram spans two of them
MAX_ITER = 30
TITLE_CHARS = 80


@dataclass(frozen=True)
class Clusters:
    """A label per text and, per cluster, the index of its most central text."""

    labels: I64
    representatives: list[int]

    @property
    def k(self) -> int:
        return len(self.representatives)


def fence(title: str, limit: int = TITLE_CHARS) -> str:
    """A provider title as one short quoted line that cannot break out of its quotes."""
    # Titles are data, never instructions: no newline, no closing quote, a bounded length.
    flat = " ".join("".join(c if c.isprintable() else " " for c in title).split())
    flat = flat.replace('"', "'")
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return f'"{flat}"' if flat else '"(untitled)"'


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64 of each value (uint64 arithmetic wraps, as the algorithm intends)."""
    z = z + _MIX[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX[1]
    z = (z ^ (z >> np.uint64(27))) * _MIX[2]
    return z ^ (z >> np.uint64(31))


def hashed_trigrams(texts: list[str], dim: int = DIM) -> F64:
    """Offline embedding: hashed UTF-8 byte trigrams, tf-idf weighted over the batch, unit norm."""
    if not texts:
        return np.zeros((0, dim))
    padded = [f" {' '.join(t.lower().split())} ".encode().replace(b"\0", b" ") for t in texts]
    buf = np.frombuffer(b"\0".join(padded), dtype=np.uint8).astype(np.uint64)
    row = np.cumsum(buf == _SEP)[:-2]
    code = (buf[:-2] << np.uint64(16)) | (buf[1:-1] << np.uint64(8)) | buf[2:]
    inside = (buf[:-2] != _SEP) & (buf[1:-1] != _SEP) & (buf[2:] != _SEP)
    bucket = _mix(code) % np.uint64(dim)
    flat = row[inside].astype(np.int64) * dim + bucket[inside].astype(np.int64)
    tf = np.bincount(flat, minlength=len(texts) * dim).astype(np.float64).reshape(-1, dim)
    # Rarity within the batch, squared: trigrams of words many titles share ("do", "finish")
    # count for little next to the words that name a theme ("invoice", "slides").
    idf = np.log1p(len(texts) / np.maximum(np.count_nonzero(tf, axis=0), 1))
    return normalise(tf * idf**2)


def normalise(x: F64) -> F64:
    """Rows scaled to unit length; all-zero rows stay zero."""
    norm = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    scaled: F64 = x / np.where(norm > 0, norm, 1.0)
    return scaled


def embed(
    keys: Sequence[str],
    texts: list[str],
    precomputed: Mapping[str, Sequence[float]],
    fallback: Embedder = hashed_trigrams,
) -> F64:
    """Precomputed vectors when every key has one of the same size, else the fallback for all."""
    vectors = [precomputed.get(k) for k in keys]
    sizes = {len(v) for v in vectors if v is not None}
    if keys and None not in vectors and len(sizes) == 1 and sizes != {0}:
        return normalise(np.asarray(vectors, dtype=np.float64))
    return normalise(np.asarray(fallback(texts), dtype=np.float64).reshape(len(texts), -1))


def _draw(p: F64, rng: np.random.Generator) -> int:
    """An index drawn in proportion to `p` (one uniform draw: cheaper than rng.choice)."""
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), p.size - 1))


def _seeds(x: F64, w: F64, k: int, rng: np.random.Generator) -> F64:
    """k-means++ on cosine distance: each new seed is drawn in proportion to weight * distance²."""
    chosen = [_draw(w, rng)]
    nearest = x @ x[chosen[0]]
    for _ in range(1, k):
        p = w * np.clip(1.0 - nearest, 0.0, None) ** 2
        if p.sum() <= 1e-12:  # every point sits on a seed already
            break
        chosen.append(_draw(p, rng))
        nearest = np.maximum(nearest, x @ x[chosen[-1]])
    return x[chosen]


def kmeans(x: F64, k: int, rng: np.random.Generator, weights: F64 | None = None) -> tuple[I64, F64]:
    """Weighted spherical k-means; labels are renumbered by first appearance for stability."""
    w = np.ones(len(x)) if weights is None else weights
    xw = x * w[:, None]
    centres = _seeds(x, w, min(k, len(x)), rng)
    labels = np.full(len(x), -1, dtype=np.int64)
    for _ in range(MAX_ITER):
        new = np.argmax(x @ centres.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        sums = (np.arange(len(centres))[:, None] == labels[None, :]).astype(np.float64) @ xw
        norm = np.sqrt(np.einsum("ij,ij->i", sums, sums))[:, None]
        # An emptied cluster keeps its old centre rather than collapsing to zero.
        centres = np.where(norm > 0, sums / np.where(norm > 0, norm, 1.0), centres)
    # Renumber by first appearance so that labels do not depend on which seed came first.
    _, first = np.unique(labels, return_index=True)
    used = labels[np.sort(first)]
    remap = np.zeros(len(centres), dtype=np.int64)
    remap[used] = np.arange(used.size)
    return remap[labels], centres[used]


def cluster(x: F64, k: int, rng: np.random.Generator, weights: F64 | None = None) -> Clusters:
    """Cluster unit vectors; a cluster's representative is its member nearest its centre."""
    if len(x) == 0:
        return Clusters(labels=np.zeros(0, dtype=np.int64), representatives=[])
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    labels, centres = kmeans(x, max(1, k), rng, w)
    # Nearest the centre, then heavier, then earlier: ties never hinge on float noise alone.
    score = np.round(np.einsum("ij,ij->i", x, centres[labels]), 9)
    order = np.lexsort((np.arange(len(x)), -w, -score, labels))
    starts = np.searchsorted(labels[order], np.arange(len(centres)))
    return Clusters(labels=labels, representatives=[int(i) for i in order[starts]])


def _word(w: str) -> str:
    return w.strip(string.punctuation).lower()


def theme(texts: list[str], weights: F64, members: I64, representative: int) -> str:
    """A cluster's words: those of its representative that most of its weight shares."""
    words = [w for w in texts[representative].split() if _word(w)]
    total = float(weights[members].sum())
    bags = [{_word(w) for w in texts[i].split()} for i in members]
    shared = [
        w.strip(string.punctuation)
        for w in words
        if sum(float(weights[i]) for i, bag in zip(members, bags, strict=True) if _word(w) in bag)
        >= 0.5 * total
    ]
    return " ".join(shared) if shared else texts[representative]
