"""English word vectors of the topic model: the file, a text's vector and how the model tells them."""

from __future__ import annotations

import numpy as np
import pytest

from bot.text import word_vectors
from bot.text.topic_model import TopicModel
from bot.text.word_vectors import load, save, text_vector, vector_features


@pytest.fixture
def synthetic_vectors(tmp_path):
    """A synthetic three-word, two-dimension vector file: troops and soldiers point one way."""
    path = tmp_path / "vectors.npz"
    vocab = ["troops", "soldiers", "tariffs"]
    save(path, vocab, np.array([[1.0, 0.1], [0.9, 0.0], [0.0, -1.0]]), source="synthetic")
    return load(path)


def test_a_saved_file_loads_back_close_to_its_vectors(synthetic_vectors):
    assert synthetic_vectors.source == "synthetic"
    row = synthetic_vectors.matrix[synthetic_vectors.index["soldiers"]] * synthetic_vectors.scale
    assert np.allclose(row, [0.9, 0.0], atol=0.01)  # int8 with one scale per dimension


def test_a_missing_vector_file_is_a_one_line_error_naming_it(tmp_path):
    missing = tmp_path / "topic_vectors.npz"
    with pytest.raises(FileNotFoundError, match="topic_vectors.npz") as caught:
        load(missing)
    assert "\n" not in str(caught.value) and "reinstall" in str(caught.value)


def test_an_english_text_gets_a_unit_vector_leaning_to_its_title(synthetic_vectors):
    found = text_vector("Troops", "tariffs", synthetic_vectors)
    assert found is not None and np.isclose(np.linalg.norm(found), 1.0)
    # title weight 2 against body weight 1.5 (the lead): troops' direction wins
    assert found[0] > abs(found[1])


def test_a_russian_text_quoting_english_words_gets_no_vector(synthetic_vectors):
    title = "Учения troops в Казахстане завершились"
    assert text_vector(title, "Военные вернулись в часть.", synthetic_vectors) is None
    assert vector_features(title, "", synthetic_vectors) == {}
    assert text_vector("Unknown words only", "", synthetic_vectors) is None


def _toy_model(vectors) -> TopicModel:
    """A synthetic one-topic model that weighs the vector's first dimension and one lemma."""
    vocabulary = {"v:0": 0, "v:1": 1, "w:drill": 2}
    weights = np.array([[2.0], [0.0], [0.5]])
    return TopicModel(
        ("military",), 0.5, vocabulary, weights, np.array([-1.0]), "toy", None, np.array([0.5]),
        vectors,
    )  # fmt: skip


def test_the_model_with_vectors_decides_deterministically_and_tells_their_share(
    synthetic_vectors,
):
    model = _toy_model(synthetic_vectors)
    first = model.decide("Soldiers", "Troops returned.", {}, only={"military"})
    again = model.decide("Soldiers", "Troops returned.", {}, only={"military"})
    assert first == again and first[0].probability > 0.5
    (reason,) = first[0].reasons
    assert reason.startswith("word meaning (vectors)+") and float(reason.split("+")[1]) > 1.5


def test_words_the_vectors_do_not_know_leave_the_decision_to_the_lemmas(synthetic_vectors):
    model = _toy_model(synthetic_vectors)
    assert model.decide("Tariffs", "", {}, only={"military"}) == []


def test_a_model_naming_a_missing_vector_file_refuses_to_load(monkeypatch, tmp_path):
    monkeypatch.setattr("bot.text.topic_model.MODEL_PATH", tmp_path / "topics_model.json")
    data = {"format": 2, "source": "", "threshold": 0.5, "topics": {}, "vectors": "gone.npz"}
    with pytest.raises(FileNotFoundError, match="gone.npz"):
        TopicModel.from_dict(data)
    assert word_vectors.VECTORS_PATH.name == "topic_vectors.npz"
