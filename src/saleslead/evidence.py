"""Evidence travels with every number: method, sample size, interval, and whether it is thin."""

from __future__ import annotations

import functools
import math
import statistics

from pydantic import BaseModel, ConfigDict

__all__ = ["Evidence", "Rate", "wilson"]


class Evidence(BaseModel):
    """What a number rests on."""

    model_config = ConfigDict(frozen=True)

    method: str
    sample_size: int
    thin: bool
    note: str = ""


class Rate(BaseModel):
    """A proportion with its interval and sample size (``value`` is None when there is no sample)."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    low: float | None
    high: float | None
    successes: float
    trials: float
    method: str = "wilson"
    thin: bool = False


@functools.lru_cache(maxsize=32)
def _z(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level (the standard library's, exact to double precision)."""
    return statistics.NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: float, trials: float, confidence: float = 0.9, min_sample: int = 30) -> Rate:
    """Wilson score interval of ``successes / trials``."""
    if trials <= 0:
        return Rate(value=None, low=None, high=None, successes=0, trials=0, thin=True)
    z = _z(confidence)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return Rate(
        value=p,
        low=max(0.0, centre - half),
        high=min(1.0, centre + half),
        successes=successes,
        trials=trials,
        thin=trials < min_sample,
    )
