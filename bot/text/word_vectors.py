"""Static English word vectors for the topic model: what a text's words mean, beyond their lemmas.

Two English texts about one thing in different words ("troops drilled" and "soldiers held an
exercise") share no lemma, but their words lie close in a sentence model's space. The vectors
are made offline (``python -m bench.topics vectors``) and read here with numpy alone: a text's
vector is the position-weighted mean of its English words' vectors, at unit length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import regex

from bot.text.lemmas import LEAD_WEIGHT, TITLE_WEIGHT, split_lead, words

VECTORS_PATH = Path(__file__).with_name("topic_vectors.npz")
DIMS = 64
_LATIN = regex.compile(r"^\p{Latin}+$")


@dataclass(frozen=True, slots=True)
class WordVectors:
    """Each known English word form's row in an int8 matrix, and each dimension's scale."""

    index: Mapping[str, int]
    matrix: np.ndarray  # int8: a quarter of float32 in memory, rows scaled when they are used
    scale: np.ndarray
    source: str = ""


def is_latin(word: str) -> bool:
    """Tell whether a word is written in Latin letters only (the vectors know English only)."""
    return _LATIN.match(word) is not None


def save(path: Path, vocab: Sequence[str], vectors: np.ndarray, *, source: str) -> None:
    """Write words and their vectors as int8 with one scale per dimension (a quarter of float32)."""
    scale = np.abs(vectors).max(axis=0) / 127
    scale[scale == 0] = 1.0
    quantised = np.round(vectors / scale).astype(np.int8)
    np.savez(  # uncompressed: int8 barely compresses, and it loads in a third of the time
        path,
        words=np.frombuffer("\n".join(vocab).encode(), dtype=np.uint8),
        vectors=quantised,
        scale=scale.astype(np.float32),
        source=np.frombuffer(source.encode(), dtype=np.uint8),
    )


@cache
def load(path: Path = VECTORS_PATH) -> WordVectors:
    """Read a vector file; a shipped model's file missing is a packaging error, said in one line."""
    if not path.exists():
        raise FileNotFoundError(
            f"topic model needs its word vectors {path}, which are missing: reinstall presswatch"
        )
    with np.load(path, allow_pickle=False) as data:
        vocab = data["words"].tobytes().decode().split("\n")
        matrix, scale = data["vectors"], data["scale"]
        source = data["source"].tobytes().decode()
    return WordVectors(dict(zip(vocab, range(len(vocab)))), matrix, scale, source)


def text_vector(title: str, body: str, vectors: WordVectors) -> np.ndarray | None:
    """Return an English text's unit-length mean word vector (title and lead weigh more), or None.

    A text mostly in Cyrillic gets None: its meaning is in words the vectors cannot read, and a
    vector made from the two acronyms it quotes would speak for the whole text.
    """
    rows: list[int] = []
    weights: list[float] = []
    latin = other = 0
    lead, rest = split_lead(body)
    for text, weight in ((title, TITLE_WEIGHT), (lead, LEAD_WEIGHT), (rest, 1.0)):
        for word in words(text):
            if not is_latin(word):
                other += 1
            elif (found := vectors.index.get(word)) is not None:
                latin += 1
                rows.append(found)
                weights.append(weight)
            else:
                latin += 1
    if latin <= other or not rows:
        return None
    mean = (np.asarray(weights, dtype=np.float32) @ vectors.matrix[rows]) * vectors.scale
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None


def vector_features(title: str, body: str, vectors: WordVectors) -> dict[str, float]:
    """Return the text vector as model inputs "v:0" ... (none for a text it cannot read)."""
    found = text_vector(title, body, vectors)
    if found is None:
        return {}
    return {f"v:{i}": float(value) for i, value in enumerate(found)}
