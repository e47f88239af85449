"""The head on the embeddings: scikit-learn LogisticRegression over the score classes (the document's score is
the expected class) or Ridge regression on 0-5, fitted on a seeded split and measured on the held-out part.
The model that ships is the one measured (trained on the training part only), so its card's metrics are its
own. Scoring needs only numpy (`QualityHead`): the filter's workers never import scikit-learn."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCORES = tuple(range(6))


@dataclass
class QualityHead:
    head: str  # logistic | ridge
    classes: np.ndarray  # int scores the logistic head predicts (ridge: [])
    coef: np.ndarray  # (k, dim) or (1, dim)
    intercept: np.ndarray  # (k,) or (1,)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """A 0-5 score per row: the expected score under the class probabilities, or the clipped regression."""
        if len(vectors) == 0:
            return np.zeros(0, dtype=np.float32)
        logits = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        if self.head == "ridge":
            return np.clip(logits[:, 0], 0, 5)
        if self.coef.shape[0] == 1:  # two classes: sklearn keeps one row, the second class's logit
            p1 = 1 / (1 + np.exp(-logits[:, 0]))
            probs = np.stack([1 - p1, p1], axis=1)
        else:
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
        return probs @ self.classes.astype(np.float64)

    def classes_of(self, vectors: np.ndarray) -> np.ndarray:
        """The predicted score class: the most likely one (logistic) or the rounded regression."""
        if self.head == "ridge":
            return np.rint(self.scores(vectors)).astype(int)
        logits = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:
            return np.where(logits[:, 0] > 0, self.classes[1], self.classes[0])
        return self.classes[np.argmax(logits, axis=1)]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"head": np.array(self.head), "classes": self.classes, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_arrays(cls, arrays) -> QualityHead:
        return cls(str(arrays["head"]), np.asarray(arrays["classes"]), np.asarray(arrays["coef"], dtype=np.float64),
                   np.asarray(arrays["intercept"], dtype=np.float64))


def split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices, stratified by score when every score has two documents or more."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    counts = np.bincount(labels, minlength=6)
    stratify = labels if counts[counts > 0].min() >= 2 else None
    try:
        return train_test_split(index, test_size=test_fraction, random_state=seed, stratify=stratify)
    except ValueError:  # held-out part smaller than the number of classes
        return train_test_split(index, test_size=test_fraction, random_state=seed)


def fit(vectors: np.ndarray, labels: np.ndarray, head: str = "logistic", C: float = 10.0, seed: int = 0) -> QualityHead:
    if head == "ridge":
        from sklearn.linear_model import Ridge

        model = Ridge(alpha=1.0 / C).fit(vectors, labels.astype(np.float64))
        return QualityHead("ridge", np.array([], dtype=int), np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_))
    if len(np.unique(labels)) < 2:
        raise ValueError(f"every usable label is {int(labels[0])}: a classifier needs two scores at least")
    from sklearn.linear_model import LogisticRegression

    # balanced: LLM scores are skewed (most documentation is a 2 or a 3); rare scores still count
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000, random_state=seed).fit(vectors, labels)
    return QualityHead("logistic", model.classes_.astype(int), model.coef_, model.intercept_)


def metrics(head: QualityHead, vectors: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Held-out accuracy and macro-F1 over the score classes, the binary F1 of keep (score >= threshold), and
    the confusion matrix (rows: LLM label 0-5, columns: predicted class 0-5)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score

    predicted = head.classes_of(vectors)
    keep_true, keep_pred = labels >= threshold, head.scores(vectors) >= threshold
    present = sorted(set(labels.tolist()) | set(predicted.tolist()))
    binary = {"zero_division": 0}
    return {
        "n": int(len(labels)),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1_score(labels, predicted, labels=present, average="macro", zero_division=0)), 4),
        "binary_f1": round(float(f1_score(keep_true, keep_pred, **binary)), 4),
        "binary_precision": round(float(precision_score(keep_true, keep_pred, **binary)), 4),
        "binary_recall": round(float(recall_score(keep_true, keep_pred, **binary)), 4),
        "binary_accuracy": round(float(np.mean(keep_true == keep_pred)), 4),
        "threshold": threshold,
        "held_out_positives": int(keep_true.sum()),
        "confusion_matrix": confusion_matrix(labels, predicted, labels=list(SCORES)).tolist(),
    }


def confusion_markdown(matrix: list[list[int]]) -> str:
    rows = ["| LLM label \\ predicted | " + " | ".join(map(str, SCORES)) + " |", "|---" * (len(SCORES) + 1) + "|"]
    rows += [f"| **{s}** | " + " | ".join(str(v) for v in row) + " |" for s, row in zip(SCORES, matrix)]
    return "\n".join(rows)
