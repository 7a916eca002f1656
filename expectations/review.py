"""Residual-PII review by sampling: the statistics behind an officer's review of cleared text.

An officer reads a random sample of cleared text records and marks those where personal data is
still visible. Of ``n`` records read, ``leaks`` were marked; the release decision rests on the exact
(Clopper-Pearson) upper confidence bound of the leak rate, not on the observed share: the bound says
"with 95% confidence, at most this share of all records still shows personal data".

The bound is **one-sided**: the release decision only asks whether the leak rate could be *above* the
limit, so the whole error probability (5%) goes to that side. (The upper end of a two-sided 95%
interval is the one-sided 97.5% bound: stricter than the question asks.) With zero leaks the bound has
the closed form ``1 - alpha ** (1 / n)``, which gives the "rule of three" for large ``n``.

Nothing here reads data: the caller passes counts, and :func:`draw` returns positions.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

#: the confidence of the bound unless a policy sets another
DEFAULT_CONFIDENCE = 0.95
#: how the sample is drawn from the seed (recorded with the sample, so anyone can repeat the draw)
DRAW_METHOD = "python random.Random(seed).sample(range(population), n), sorted"


def _check_confidence(confidence: float) -> float:
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence {confidence} must be in [0.5, 1)")
    return 1.0 - confidence


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (exact to double precision for n in the
    tens of thousands; the terms are added from the largest down so nothing underflows early)."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    lgn = math.lgamma(n + 1)
    terms = [lgn - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q for i in range(k + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def upper_bound(leaks: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The exact one-sided Clopper-Pearson upper bound of the leak rate after ``leaks`` of ``n``.

    It is the rate ``p`` at which seeing ``leaks`` or fewer has probability ``1 - confidence``; found by
    bisection on the binomial CDF (which falls monotonically in ``p``), to 1e-12.
    """
    alpha = _check_confidence(confidence)
    if n < 1:
        raise ValueError("a review needs at least one record")
    if not 0 <= leaks <= n:
        raise ValueError(f"leaks {leaks} must be between 0 and n = {n}")
    if leaks == n:
        return 1.0
    if leaks == 0:
        return float(1.0 - alpha ** (1.0 / n))  # closed form of the same bound
    lo, hi = leaks / n, 1.0
    while hi - lo > 1e-12:
        mid = (lo + hi) / 2
        if binomial_cdf(leaks, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def sample_size(max_rate: float, confidence: float = DEFAULT_CONFIDENCE) -> int:
    """The smallest ``n`` such that a sample of ``n`` with no leak proves the rate is at most ``max_rate``
    (upper bound <= max_rate). Shown to the officer before the review starts."""
    alpha = _check_confidence(confidence)
    if not 0.0 < max_rate < 1.0:
        raise ValueError(f"max_residual_rate {max_rate} must be between 0 and 1 (exclusive)")
    n = max(1, math.ceil(math.log(alpha) / math.log1p(-max_rate)))
    # the closed form can be off by one where floating point rounds at the boundary: settle it exactly
    while n > 1 and upper_bound(0, n - 1, confidence) <= max_rate:
        n -= 1
    while upper_bound(0, n, confidence) > max_rate:
        n += 1
    return n


@dataclass(frozen=True)
class ReviewFigures:
    """What a finished review found and decided. ``census`` when every record was read: then the rate is
    known rather than estimated, and the bound is the observed share."""

    n: int
    leaks: int
    upper_bound: float
    max_rate: float
    confidence: float
    census: bool = False

    @property
    def passed(self) -> bool:
        return self.upper_bound <= self.max_rate

    @property
    def observed_rate(self) -> float:
        return self.leaks / self.n

    def summary(self) -> str:
        verdict = "at or below" if self.passed else "above"
        bound = "observed rate (every record read)" if self.census else f"upper {self.confidence:.0%} bound"
        return (
            f"{self.leaks} of {self.n} sampled records still showed personal data; {bound} "
            f"{self.upper_bound:.2%} is {verdict} the limit {self.max_rate:.2%}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "leaks": self.leaks,
            "upper_bound": self.upper_bound,
            "max_residual_rate": self.max_rate,
            "confidence": self.confidence,
            "census": self.census,
            "passed": self.passed,
        }


def evaluate(
    n: int, leaks: int, max_rate: float, confidence: float = DEFAULT_CONFIDENCE, *, population: int | None = None
) -> ReviewFigures:
    """The figures of a review of ``n`` records with ``leaks`` marked, against ``max_rate``."""
    census = population is not None and n >= population
    bound = leaks / n if census else upper_bound(leaks, n, confidence)
    return ReviewFigures(n=n, leaks=leaks, upper_bound=bound, max_rate=max_rate, confidence=confidence, census=census)


def draw(population: int, n: int, seed: int) -> list[int]:
    """``min(n, population)`` distinct positions out of ``range(population)``, sorted; the same seed
    gives the same positions (the seed is recorded with the sample)."""
    if population < 0 or n < 0:
        raise ValueError("population and n must not be negative")
    return sorted(random.Random(seed).sample(range(population), min(n, population)))  # noqa: S311 - a reproducible draw, not a secret
