"""Learned term weights: a second opinion on which entry a question is about.

The fuzzy scores say how much of a question an entry's phrasings explain, weighing every
word by how rare it is in the base. They cannot tell that "bank" in "our bank wants to
send an analyst" is context while "send an analyst" is the question: every word that an
entry shares counts for it. A linear model trained on the entries' phrasings and on the
labelled example questions of ``knowledge/examples/`` learns, for each entry, which terms
speak for it and which speak against it; its scores re-rank the entries the fuzzy
matcher found (``Matcher.match``), and where it is sure of one that the fuzzy scores only
offer, it is answered (``bot.matching.decision.answers_blended``).

The model is a one-vs-rest linear support vector machine (squared hinge loss) over the
matcher's own index terms, weighted by sublinear TF-IDF and scaled to unit length,
trained by dual coordinate descent (Hsieh et al., 2008, as LIBLINEAR does). A base of
about 3,000 phrasings and examples trains in about a second in pure Python, once: the
model is kept on disk (``bot.disk_cache``) for the next process.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import sys
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.disk_cache import cached, fingerprint
from bot.knowledge.examples import OUT_OF_SCOPE
from bot.matching.result import Scored

# Stop when no example's projected gradient exceeds this (LIBLINEAR's default), or after
# _MAX_EPOCHS passes over the data.
_TOLERANCE = 0.1
_MAX_EPOCHS = 50
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

Vector = list[tuple[int, float]]


class TermModel:
    """Per-entry linear scores of a question's terms."""

    def __init__(self, idf: dict[str, tuple[int, float]], weights: dict[str, list[float]]) -> None:
        """``idf``: term -> (feature index, idf); ``weights``: entry id -> weight per
        feature, the bias last."""
        # Per term, every entry's weight times the term's idf, in the order of _entries:
        # a question's scores are then a few sums of short rows, scaled by its counts.
        # Arrays of doubles, not lists of floats: a quarter of the memory, which every
        # worker holds (about 90,000 numbers on the shipped base).
        entries = list(weights)
        rows = {
            term: array("d", [weights[e][index] * value for e in entries])
            for term, (index, value) in idf.items()
        }
        bias = array("d", [weights[e][len(idf)] for e in entries])
        self._set(entries, rows, bias, {term: value for term, (_, value) in idf.items()})

    def _set(
        self,
        entries: list[str],
        rows: dict[str, array[float]],
        bias: array[float],
        idf: dict[str, float],
    ) -> None:
        self._entries = entries
        self._rows = rows
        self._bias_row = bias
        self._idf = idf
        self._idf_squared = {term: value * value for term, value in idf.items()}
        # A word the model never saw is taken to be as rare as its rarest term.
        self._unknown_idf = max(idf.values(), default=1.0)

    def packed(self) -> dict[str, Any]:
        """The model as JSON: its terms and entries, and its numbers as the bytes of arrays
        of doubles (in base64), which load in milliseconds where lists of numbers take a
        tenth of a second, and bit for bit."""
        terms = list(self._rows)
        rows = array("d")
        for term in terms:
            rows.extend(self._rows[term])
        idf = array("d", [self._idf[t] for t in terms])
        return {
            "byteorder": sys.byteorder,
            "entries": self._entries,
            "terms": terms,
            "idf": _b64(idf),
            "rows": _b64(rows),
            "bias": _b64(self._bias_row),
        }

    @classmethod
    def unpacked(cls, stored: dict[str, Any]) -> TermModel:
        """The model ``packed`` made; raises ValueError (or KeyError, TypeError) if
        ``stored`` is not one (a damaged or foreign file, another byte order)."""
        if stored["byteorder"] != sys.byteorder:
            raise ValueError("another byte order")
        entries = [str(e) for e in stored["entries"]]
        terms = [str(t) for t in stored["terms"]]
        idf, rows, bias = (_doubles(stored[name]) for name in ("idf", "rows", "bias"))
        n = len(entries)
        if len(idf) != len(terms) or len(rows) != n * len(terms) or len(bias) != n:
            raise ValueError("not a model of this shape")
        model = cls.__new__(cls)
        by_term = {term: rows[i * n : (i + 1) * n] for i, term in enumerate(terms)}
        model._set(entries, by_term, bias, dict(zip(terms, idf, strict=True)))
        return model

    @classmethod
    def train(cls, documents: Iterable[tuple[str, Sequence[str]]], c: float) -> TermModel:
        """A model of (entry id, terms) ``documents``; ``c`` trades fitting the documents
        against small weights (larger: fit them more closely). Fitted here and now: a
        matcher's models are kept for the next start by ``train_for``."""
        return cls(*_fit_weights(tuple((e, tuple(terms)) for e, terms in documents), c))

    @classmethod
    def train_for(
        cls,
        source: Any,
        documents: Callable[[], Iterable[tuple[str, Sequence[str]]]],
        c: float,
    ) -> TermModel:
        """``train`` of ``documents()``, where ``source`` (hashable, and spelled by
        ``fingerprint``) is what the documents are made from and cheaper to compare than
        they are: a matcher's inputs and the code that reads them. The model is kept in
        the process under ``source``, and on disk under its documents, with a note of
        which documents ``source`` makes: a start that finds that note (every worker, each
        ``partnerbot ask``) never makes them, and a changed source that makes the same
        documents (another answer threshold) reads the model without training it."""
        key = (source, c)
        with _KEPT_LOCK:
            model = _KEPT.get(key)
            if model is not None:
                _KEPT.move_to_end(key)
                return model

        @lru_cache(maxsize=1)
        def made() -> tuple[tuple[str, tuple[str, ...]], ...]:
            return tuple((entry_id, tuple(terms)) for entry_id, terms in documents())

        def named() -> dict[str, Any]:
            return {"documents": fingerprint(made())}

        # Outside the lock: two reloads at once may both train, to the same model.
        note_key = [_CODE, "documents of", fingerprint(source)]
        digest = cached(note_key, named, kind="note").get("documents")
        if not isinstance(digest, str):  # a damaged or foreign note
            digest = cached(note_key, named, fresh=True, kind="note")["documents"]
        model = _stored_or_fitted([_CODE, c, digest], made, c)
        with _KEPT_LOCK:
            _KEPT[key] = model
            while len(_KEPT) > _KEPT_MAX:
                _KEPT.popitem(last=False)
        return model

    def scores(self, terms: Sequence[str], unknown: Sequence[str] = ()) -> dict[str, float]:
        """Every entry's decision value for a question of ``terms`` and of the ``unknown``
        words the model never saw (about -1 to 1; above 0 the model takes the question to
        be about that entry).

        The unknown words weigh nothing for any entry but count in the question's length:
        "crowdstrike stock price" is less about the cost of a partnership than "price"
        alone, as the fuzzy scores also hold."""
        rows = self._rows
        counts = Counter([term for term in terms if term in rows])
        totals: Sequence[float] = self._bias_row
        if counts:
            # Sublinear TF-IDF scaled to unit length, as in training: the idf is in the rows.
            # Rows of one term frequency are summed column by column first (``zip`` and
            # ``sum`` run in C), then scaled once: most terms of a question occur once, so
            # a question of many terms (the second opinion's letter runs) costs a few
            # passes over its entries, not one per term.
            squared = self._idf_squared
            known = 0.0
            by_tf: dict[float, list[array[float]]] = {}
            for term, k in counts.items():
                f = 1.0 + math.log(k) if k > 1 else 1.0
                known += f * f * squared[term]
                by_tf.setdefault(f, []).append(rows[term])
            others = sum((1.0 + math.log(k)) ** 2 for k in Counter(unknown).values())
            norm = math.sqrt(known + others * self._unknown_idf**2)
            for f, same in by_tf.items():
                scale = f / norm
                totals = [
                    a + scale * b
                    for a, b in zip(totals, map(sum, zip(*same, strict=True)), strict=True)
                ]
        return dict(zip(self._entries, totals, strict=True))

    def knows(self, term: str) -> bool:
        return term in self._rows

    def weight(self, entry_id: str, term: str) -> float:
        """The weight of ``term`` for ``entry_id``, times the term's idf."""
        row = self._rows.get(term)
        if row is None or entry_id not in self._entries:
            return 0.0
        return row[self._entries.index(entry_id)]


def _fit_weights(
    documents: tuple[tuple[str, tuple[str, ...]], ...], c: float
) -> tuple[dict[str, tuple[int, float]], dict[str, list[float]]]:
    """The idf and the weights (see ``TermModel``) of (entry id, terms) ``documents``."""
    docs = [(entry_id, terms) for entry_id, terms in documents if terms]
    df: Counter[str] = Counter()
    for _, terms in docs:
        df.update(set(terms))
    n = len(docs)
    idf = {
        term: (i, math.log((1 + n) / (1 + count)) + 1.0)
        for i, (term, count) in enumerate(sorted(df.items()))
    }
    bias = len(idf)
    vectors = [[*_vector(terms, idf), (bias, 1.0)] for _, terms in docs]
    labels = [entry_id for entry_id, _ in docs]
    weights = {
        entry_id: _train_one(vectors, [1 if label == entry_id else -1 for label in labels], c)
        for entry_id in sorted(set(labels))
    }
    return idf, weights


# Models of ``TermModel.train_for`` by source, the least recently used dropped first;
# reloads build matchers in threads.
_KEPT: OrderedDict[tuple[Any, float], TermModel] = OrderedDict()
_KEPT_MAX = 4
_KEPT_LOCK = threading.Lock()


def _stored_or_fitted(
    key: Any, documents: Callable[[], tuple[tuple[str, tuple[str, ...]], ...]], c: float
) -> TermModel:
    """The model stored on disk under ``key``, else one fitted to ``documents()`` (and
    stored); a stored value that is not a model is fitted and stored again."""

    def fit() -> dict[str, Any]:
        return TermModel(*_fit_weights(documents(), c)).packed()

    stored = cached(key, fit)
    try:
        return TermModel.unpacked(stored)
    except (KeyError, TypeError, ValueError):
        return TermModel.unpacked(cached(key, fit, fresh=True))


def _b64(numbers: array[float]) -> str:
    return base64.b64encode(numbers.tobytes()).decode("ascii")


def _doubles(text: str) -> array[float]:
    numbers = array("d")
    numbers.frombytes(base64.b64decode(text, validate=True))
    return numbers


def blend(
    ranked: list[Scored], learned: dict[str, float], weight: float, depth: int
) -> tuple[list[Scored], float]:
    """``ranked`` with its ``depth`` best entries re-ordered by fuzzy score / 100 plus
    ``weight`` times their ``learned`` value (an entry the model never saw counts as
    firmly against), and the blended lead of the first over the second and over the
    model's "out of scope"."""
    blended = sorted(
        ((s.score / 100 + weight * learned.get(s.entry_id, -1.0), s) for s in ranked[:depth]),
        key=lambda pair: pair[0],
        reverse=True,
    )
    head = [s for _, s in blended]
    lead = blended[0][0] - blended[1][0] if len(blended) > 1 else math.inf
    if OUT_OF_SCOPE in learned:
        # "None of them" competes too: the examples the base must not answer.
        first = learned.get(head[0].entry_id, -1.0)
        lead = min(lead, weight * (first - learned[OUT_OF_SCOPE]))
    return [*head, *ranked[depth:]], lead


def _vector(terms: Iterable[str], idf: dict[str, tuple[int, float]]) -> Vector:
    """Sublinear TF-IDF of the known ``terms``, scaled to unit length."""
    counts = Counter(term for term in terms if term in idf)
    values = [(idf[t][0], (1.0 + math.log(k)) * idf[t][1]) for t, k in counts.items()]
    norm = math.sqrt(sum(v * v for _, v in values)) or 1.0
    return [(i, v / norm) for i, v in values]


def _train_one(vectors: list[Vector], y: list[int], c: float) -> list[float]:
    """Weights of one entry against the rest: the dual of the L2-regularised squared
    hinge loss, solved one example at a time (no upper bound on the duals). On the
    shipped base it converges in a few passes."""
    size = 1 + max((i for vector in vectors for i, _ in vector), default=0)
    w = [0.0] * size
    alpha = [0.0] * len(vectors)
    diagonal = 0.5 / c
    q = [sum(v * v for _, v in vector) + diagonal for vector in vectors]
    order = list(range(len(vectors)))
    shuffle = random.Random(0).shuffle  # the same model from the same base
    for _ in range(_MAX_EPOCHS):
        shuffle(order)
        largest = 0.0
        for i in order:
            vector, yi, ai = vectors[i], y[i], alpha[i]
            g = yi * sum(w[j] * v for j, v in vector) - 1.0 + diagonal * ai
            pg = min(g, 0.0) if ai == 0.0 else g
            if pg == 0.0:
                continue
            largest = max(largest, abs(pg))
            new = max(ai - g / q[i], 0.0)
            step = (new - ai) * yi
            alpha[i] = new
            for j, v in vector:
                w[j] += step * v
        if largest < _TOLERANCE:
            break
    return w
