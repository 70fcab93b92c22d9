"""Small statistics helpers (no numpy)."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The median; NaN when empty."""
    return statistics.median(values) if values else float("nan")


def bootstrap_median_ci(
    values: Sequence[float], *, resamples: int = 1000, confidence: float = 0.95, seed: int = 16
) -> tuple[float, float, float]:
    """(median, low, high): the median of ``values`` and its percentile bootstrap
    confidence interval (``resamples`` resamples with replacement, seeded so that a
    run can be repeated). NaNs when empty."""
    if not values:
        nan = float("nan")
        return nan, nan, nan
    rng = random.Random(seed)
    data = list(values)
    n = len(data)
    middle = n // 2
    medians = []
    for _ in range(resamples):
        sample = sorted(rng.choices(data, k=n))
        medians.append(sample[middle] if n % 2 else (sample[middle - 1] + sample[middle]) / 2)
    tail = (1 - confidence) / 2 * 100
    return median(data), percentile(medians, tail), percentile(medians, 100 - tail)


def pair_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-pair ratios ``numerators[i] / denominators[i]`` (pairs with a zero skipped)."""
    return [a / b for a, b in zip(numerators, denominators, strict=True) if b > 0]
