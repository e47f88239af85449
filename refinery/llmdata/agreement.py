"""How much a jury of judges agrees: Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's
Alpha-Reliability") plus plain exact / within-one agreement, per aspect and over all aspects."""
from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Literal

from refinery.llmdata.records import SFTRecord

Metric = Literal["ordinal", "interval"]


def krippendorff_alpha(units: Sequence[Sequence[float | None]], metric: Metric = "ordinal") -> float | None:
    """Alpha over `units` (each the values the raters gave one item; None = that rater gave none).
    Units with fewer than two values are not pairable and ignored. None when undefined: no pairable
    units, or a single value used throughout (no expected disagreement to compare with)."""
    import numpy as np  # here: the SFT config imports this module, and loading a config stays cheap

    values = sorted({v for unit in units for v in unit if v is not None})
    index = {v: i for i, v in enumerate(values)}
    counts = np.zeros((len(units), len(values)))
    for u, unit in enumerate(units):
        for v in unit:
            if v is not None:
                counts[u, index[v]] += 1
    pairable = counts.sum(axis=1)
    counts, pairable = counts[pairable >= 2], pairable[pairable >= 2]
    if len(values) < 2 or not len(counts):
        return None
    # coincidence matrix: every ordered pair of values within a unit, weighted 1/(m_u - 1)
    o = sum((np.outer(c, c) - np.diag(c)) / (m - 1) for c, m in zip(counts, pairable))
    n_c = o.sum(axis=0)
    n = n_c.sum()
    v = np.array(values, dtype=float)
    if metric == "interval":
        delta = (v[:, None] - v[None, :]) ** 2
    else:  # ordinal: squared count of values between c and k, halving the two ends
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        lo, hi = np.minimum.outer(range(len(v)), range(len(v))), np.maximum.outer(range(len(v)), range(len(v)))
        delta = (cum[hi + 1] - cum[lo] - (n_c[lo] + n_c[hi]) / 2) ** 2
    expected = (np.outer(n_c, n_c) * delta).sum() / (n - 1)
    if expected == 0:
        return None
    return float(1 - (o * delta).sum() / expected)


def pairwise_agreement(units: Sequence[Sequence[float | None]]) -> dict[str, float | None]:
    """Share of rater pairs (over all units) giving the same value, and values at most 1 apart."""
    diffs = [abs(a - b) for unit in units for a, b in combinations([v for v in unit if v is not None], 2)]
    if not diffs:
        return {"exact": None, "within_1": None}
    return {"exact": sum(d == 0 for d in diffs) / len(diffs), "within_1": sum(d <= 1 for d in diffs) / len(diffs)}


def jury_agreement(records: Sequence[SFTRecord], metric: Metric = "ordinal") -> dict | None:
    """Inter-judge agreement over judged records: per aspect and overall (every (record, aspect) a unit).
    None with fewer than two judges. Human verdicts, if any, count as one more judge."""
    judged = [r.judgement for r in records if r.judgement]
    judges = sorted({v.judge for j in judged for v in j.verdicts})
    if len(judges) < 2:
        return None
    aspects = sorted({a for j in judged for v in j.verdicts for a in v.aspects})
    by_aspect: dict[str, list[list[float | None]]] = {a: [] for a in aspects}
    for j in judged:
        ratings = {v.judge: v.aspects for v in j.verdicts}
        for a in aspects:
            by_aspect[a].append([ratings[name][a].rating if a in ratings.get(name, {}) else None for name in judges])

    def stats(units):
        alpha = krippendorff_alpha(units, metric)
        return {"alpha": None if alpha is None else round(alpha, 4),
                **{k: None if x is None else round(x, 4) for k, x in pairwise_agreement(units).items()}}

    return {"judges": judges, "metric": metric, "records": len(judged),
            "aspects": {a: stats(units) for a, units in by_aspect.items()},
            "overall": stats([u for units in by_aspect.values() for u in units])}
