"""Structurally different demo orgs: the shape knobs of a world, and a named set of them.

:class:`Shape` bends the demo company's process — seasonality, cycle length, the number of stages, win
rates drifting or changing regime, booms and slumps, big-deal concentration, thin reps, habitual pushers,
optimistic or sandbagging forecast categories. ``Shape()`` is the standard demo, drawn exactly as before
(every knob at its neutral value; the extra randomness some knobs need comes from a second generator, so
the standard world's draws are untouched). :func:`worlds` names a set of orgs that differ in structure, for
checking a forecast on orgs it was not tuned on (``benchmarks/bench_calibration.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from saleslead.demo.knobs import STAGE_PROBABILITY

__all__ = ["Shape", "held_out", "stage_ladder", "worlds"]

_NAMES = {
    4: ("Qualification", "Discovery", "Proposal", "Negotiation"),
    5: ("Qualification", "Discovery", "Solution", "Proposal", "Negotiation"),
    6: ("Prospecting", "Qualification", "Discovery", "Solution", "Proposal", "Negotiation"),
    7: ("Prospecting", "Qualification", "Discovery", "Solution", "Proposal", "Negotiation", "Contracting"),
}


@dataclass(frozen=True)
class Shape:
    """How a demo world's process differs from the standard one (every default is the standard demo)."""

    name: str = "standard"
    open_stages: int = 5  # 4..7 open stages (Closed Won and Closed Lost follow)
    seasonality: float = 1.0  # scales the quarter win factors, quarter-end pull and monthly creation (0: flat)
    cycle: float = 1.0  # multiplies every stage's dwell
    win_drift: float = 0.0  # per year, on the log of the final stage's win chance
    regime_at: date | None = None  # from this day (deal creation), the process changes:
    regime_win: float = 1.0  # the final stage's win chance multiplied by this
    regime_cycle: float = 1.0  # and the dwells by this
    wave: float = 0.0  # booms and slumps: log-amplitude of a slow wave on creation and win chance
    wave_days: float = 540.0  # its period
    quarter_shock: float = 0.13  # sd of the log of the common per-quarter win multiplier
    skill_sd: float = 0.12  # sd of the log of a rep's win skill
    whale_share: float = 0.0  # share of deals that are big (amount × whale_factor)
    whale_factor: float = 8.0
    headcount: float = 1.0  # AE headcount multiplier at the same deal volume (thin reps above 1)
    pushers: float = 0.0  # share of reps who set early close dates and push them often
    optimism: tuple[float, float] = (2.0, 4.0)  # beta of a rep's urge to call Commit / Best Case early
    sandbag: float = 0.0  # share of deals reaching the last stage still called Best Case, not Commit

    def __post_init__(self) -> None:
        if self.open_stages not in _NAMES:
            raise ValueError(f"open_stages must be one of {sorted(_NAMES)}, got {self.open_stages}")

    @property
    def standard(self) -> bool:
        return self == Shape(name=self.name)

    def stage_profile(
        self, stage_days: tuple[float, ...], advance: tuple[float, ...]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """A segment's 5-stage dwell and advance chances resampled onto :attr:`open_stages` stages: the
        same total dwell and the same chance of passing every stage."""
        days = np.asarray(stage_days, dtype=np.float64)
        adv = np.asarray(advance, dtype=np.float64)
        k = self.open_stages
        if k == len(days):
            return days * self.cycle, adv
        x_old, x_new = np.linspace(0, 1, len(days)), np.linspace(0, 1, k)
        new_days = np.interp(x_new, x_old, days)
        new_days *= days.sum() / new_days.sum()
        log_adv = np.interp(x_new, x_old, np.log(adv))
        log_adv += (np.log(adv).sum() - log_adv.sum()) / k
        return new_days * self.cycle, np.exp(log_adv)

    def season(self, factors: tuple[float, ...], floor: float = 0.3) -> npt.NDArray[np.float64]:
        """Seasonal multipliers with their deviation from 1 scaled by :attr:`seasonality`."""
        raw = np.asarray(factors, dtype=np.float64)
        return raw if self.seasonality == 1.0 else np.maximum(1.0 + self.seasonality * (raw - 1.0), floor)

    def waves(self, day: npt.NDArray[np.int64] | npt.NDArray[np.float64], start_day: int) -> npt.NDArray[np.float64]:
        """Boom/slump multiplier on ``day`` (1 without a wave)."""
        if not self.wave:
            return np.ones(np.shape(day))
        phase = 2.0 * math.pi * (np.asarray(day, dtype=np.float64) - start_day) / self.wave_days
        return np.asarray(np.exp(self.wave * np.sin(phase)), dtype=np.float64)


def stage_ladder(open_stages: int) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """Stage names (open ones, then Closed Won, Closed Lost), their CRM probability, and the forecast category
    (index into FORECAST_CATEGORIES) each stage sets when entered."""
    names = _NAMES[open_stages] + ("Closed Won", "Closed Lost")
    k = open_stages
    spread = (*tuple(int(v) for v in np.round(np.linspace(10, 80, k) / 5) * 5), 100, 0)
    probability = STAGE_PROBABILITY if k == len(STAGE_PROBABILITY) - 2 else spread
    category = (*tuple(0 if j < k - 2 else 1 if j == k - 2 else 2 for j in range(k)), 3, 4)
    return names, probability, category


def worlds() -> dict[str, Shape]:
    """Named orgs that differ in structure. The standard demo is not among them (it has its own benchmark)."""
    return {
        "seasonal-short": Shape(name="seasonal-short", seasonality=2.5, cycle=0.6, open_stages=4, quarter_shock=0.18),
        "flat-long": Shape(name="flat-long", seasonality=0.0, cycle=1.8, open_stages=7, quarter_shock=0.08),
        "drift-whales": Shape(name="drift-whales", win_drift=-0.18, whale_share=0.04, whale_factor=10.0),
        "regime-thin": Shape(
            name="regime-thin",
            regime_at=date(2025, 1, 1),
            regime_win=0.7,
            regime_cycle=1.4,
            headcount=3.0,
            skill_sd=0.3,
        ),
        "boom-bust-optimists": Shape(name="boom-bust-optimists", wave=0.35, optimism=(6.0, 2.0), open_stages=6),
        "pushers-sandbag": Shape(name="pushers-sandbag", pushers=0.5, optimism=(1.0, 8.0), sandbag=0.6),
        "long-sandbag-thin": Shape(
            name="long-sandbag-thin",
            cycle=1.5,
            sandbag=0.4,
            headcount=2.5,
            seasonality=1.8,
            open_stages=6,
            whale_share=0.02,
        ),
        "short-optimist-drift": Shape(
            name="short-optimist-drift",
            cycle=0.7,
            optimism=(5.0, 2.0),
            win_drift=0.15,
            pushers=0.3,
            wave=0.2,
            wave_days=400.0,
            open_stages=4,
        ),
    }


def held_out() -> tuple[str, ...]:
    """Worlds kept out of every tuning decision (looked at only in the final table)."""
    return ("long-sandbag-thin", "short-optimist-drift")
