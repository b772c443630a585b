"""Which lane a request reads like, when no signal phrase settles it: similarity to example questions.

The role file gives every action and boundary a few *example* questions. A request is compared with
each entry's examples and signals as a bag of word stems weighted by how specific a stem is to few
entries (tf-idf, cosine similarity against each entry's centroid). The nearest entry wins when it is
near enough and clearly ahead of the runner-up; otherwise the request stays unclear and the seat
asks. Nothing is learned at run time: the table is built once from the role file.

Two cues beyond words: a capitalised name in the middle of a request (an account, a company) reads
as one thing, ``<name>``, so "negotiate with Initech" and "handle the Acme renewal" look alike; and a
few words are folded into the word the examples use (``pipe`` → pipeline, ``reps`` → rep).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

__all__ = ["NOT_NAMES", "Entry", "IntentIndex", "Nearest", "stems"]

Kind = Literal["action", "boundary"]

_TOKEN = re.compile(r"[A-Za-z0-9&$]+(?:'[a-z]+)?")
NAME = "<name>"
_MULTIPLE = re.compile(r"\d+(\.\d+)?x")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: words that carry no lane at all
_STOP = _wordset(
    """a an the and or but of to in on for at by with from as is are was were be been being am do does did
    doing have has had having i me my we us our ours you your it its this that these those there here what
    whats which who whom whose how why when where can could would should will shall may might must please
    ok so just some any all me them they their he she his her get got give show tell let lets about into
    out up over than then too very really roughly also if not no yes any one much many more most"""
)

#: a word people use → the word the examples use
_FOLD = {
    "pipe": "pipeline",
    "pipegen": "pipeline",
    "opps": "deal",
    "opp": "deal",
    "opportunity": "deal",
    "opportunities": "deal",
    "deals": "deal",
    "reps": "rep",
    "sellers": "rep",
    "seller": "rep",
    "aes": "rep",
    "ae": "rep",
    "salespeople": "rep",
    "sdrs": "sdr",
    "bdrs": "sdr",
    "bdr": "sdr",
    "q1": "quarter",
    "q2": "quarter",
    "q3": "quarter",
    "q4": "quarter",
    "qtr": "quarter",
    "comp": "commission",
    "mqls": "lead",
    "mql": "lead",
    "leads": "lead",
}

#: capitalised words that are not account names
NOT_NAMES = _wordset(
    """I Q1 Q2 Q3 Q4 AE AEs SDR SDRs BDR CFO CEO CRO COO VP VPs SVP EVP RevOps CRM MSA SMB ARR MRR GAAP P&L
    ICP EMEA APAC DACH LATAM NA US UK EU SaaS Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November December
    Enterprise Mid Market Commercial LinkedIn"""
)

_SUFFIXES = ("ations", "ation", "ings", "ing", "ness", "ies", "ied", "ers", "er", "ed", "es", "ly", "s")


#: stems are cut to this many letters ("negotiation" and "negotiate" meet at "negot")
PREFIX = 5
#: the weight of the single nearest example beside the entry's centroid
NEAREST_WEIGHT = 0.0


def _stem(word: str) -> str:
    word = _FOLD.get(word, word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:PREFIX] if PREFIX else word


def stems(text: str) -> list[str]:
    """The request as stems, capitalised names mid-sentence folded to ``<name>``."""
    out: list[str] = []
    for i, raw in enumerate(_TOKEN.findall(text.replace("’", "'"))):
        bare = raw.split("'")[0]
        if i > 0 and bare[:1].isupper() and bare not in NOT_NAMES and not bare.isupper():
            if not out or out[-1] != NAME:
                out.append(NAME)
            continue
        word = bare.lower()
        if _MULTIPLE.fullmatch(word):
            word = "multiple"
        if word in _STOP or word.startswith("$") or word.isdigit():
            continue
        out.append(_stem(word))
    return out


def _features(text: str) -> Counter[str]:
    tokens = stems(text)
    bag = Counter(tokens)
    bag.update(f"{a} {b}" for a, b in pairwise(tokens))
    return bag


@dataclass(frozen=True)
class Entry:
    """An action or a boundary with the phrases that stand for it."""

    kind: Kind
    id: str
    lane: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Nearest:
    """The closest entry to a request, how close, and how far ahead of the next one."""

    entry: Entry
    score: float
    margin: float


class IntentIndex:
    """Tf-idf centroids of each entry's phrases; :meth:`nearest` finds a request's closest entry."""

    def __init__(self, entries: list[Entry], threshold: float = 0.08, margin: float = 0.005) -> None:
        self.entries = entries
        self.threshold = threshold
        self.margin = margin
        phrase_bags = [[_features(p) for p in e.phrases] for e in entries]
        bags = [sum(group, Counter[str]()) for group in phrase_bags]
        n = len(entries)
        df = Counter(term for bag in bags for term in bag)
        self._idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()}
        self._centroids = [self._vector(bag) for bag in bags]
        self._examples = [[self._vector(bag) for bag in group if bag] for group in phrase_bags]
        self._words = [{t for t in bag if " " not in t and t != NAME} for bag in bags]

    def entry(self, entry_id: str) -> Entry:
        """The entry of an action or boundary id."""
        return next(e for e in self.entries if e.id == entry_id)

    def specificity(self, phrase: str) -> float:
        """How few entries share the phrase's words: 1 for words of one entry only, less the more share them."""
        terms = [t for t in stems(phrase) if t in self._idf]
        if not terms:
            return 1.0
        top = max(self._idf.values())
        return sum(self._idf[t] for t in terms) / (len(terms) * top)

    def _vector(self, bag: Counter[str]) -> dict[str, float]:
        return self._unit({t: (1 + math.log(c)) * self._idf[t] for t, c in bag.items() if t in self._idf})

    @staticmethod
    def _unit(vector: dict[str, float]) -> dict[str, float]:
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items()}

    def scores(self, text: str) -> list[tuple[Entry, float]]:
        """Every entry with its cosine similarity to the request, best first."""
        vector = self._vector(_features(text))

        def cosine(other: dict[str, float]) -> float:
            return sum(w * other.get(t, 0.0) for t, w in vector.items())

        ranked = []
        for entry, centroid, examples in zip(self.entries, self._centroids, self._examples, strict=True):
            near = max((cosine(e) for e in examples), default=0.0)
            ranked.append((entry, (1 - NEAREST_WEIGHT) * cosine(centroid) + NEAREST_WEIGHT * near))
        return sorted(ranked, key=lambda pair: -pair[1])

    def nearest(self, text: str) -> Nearest | None:
        """The closest entry when it is near enough and clearly ahead of the runner-up, else ``None``."""
        ranked = self.scores(text)
        if not ranked:
            return None
        best, score = ranked[0]
        if not set(stems(text)) & self._words[self.entries.index(best)]:
            return None  # a name alone, or only shared pairs of words, says nothing of the lane
        runner = ranked[1][1] if len(ranked) > 1 else 0.0
        if score < self.threshold or score - runner < self.margin:
            return None
        return Nearest(entry=best, score=score, margin=score - runner)
