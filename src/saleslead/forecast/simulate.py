"""Monte Carlo of a period's outcome: open deals won or not under a shared period shock, plus new pipeline.

Scenario ``s`` draws one period shock ``z_s ~ N(0, σ²)`` (discretised on :data:`SHOCK_LEVELS` equal-mass
levels) shared by every deal, then each open deal ``i`` is won with probability
``sigmoid(logit p_i + z_s)``; its amount counts toward its owner, every manager above, and its segment.
New pipeline (not yet created, created and won inside the period) adds ``m_seg · e^{z_s} · ε``,
ε log-normal with mean 1. Closed-won so far is added as it is. Scenarios run in chunks so memory stays
bounded by ``chunk × deals`` whatever the number of scenarios.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import optimize, special

from saleslead.context import Progress

__all__ = [
    "SHOCK_LEVELS",
    "Book",
    "Group",
    "Shock",
    "Simulation",
    "estimate_shock",
    "keyed_uniforms",
    "shock_levels",
    "simulate",
    "widen",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
SHOCK_LEVELS = 256
#: log-odds of the 65,536 16-bit uniforms' midpoints: a deal is won when the table at its draw is below its η
_LOGIT_TABLE = special.logit((np.arange(65_536) + 0.5) / 65_536).astype(np.float32)
SHIFT_PRIOR_SD = 0.5  # prior sd of a class's shift of the window-calibration intercept
#: One calibration group: P(won in the window) per deal, whether it won, and its classes: (deals, m) indices
#: into one vector of intercept shifts (the deal's segment).
Group = tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.int64]]
_CHUNK_CELLS = 8_000_000  # scenario × deal cells per chunk (≈ 60 MB of working arrays)


@dataclass(frozen=True)
class Shock:
    """The period-level shock on the log-odds and the window calibration fitted with it.

    Calibrated probability: ``sigmoid(intercept + Σ_c shift[c] + slope · logit p)`` over the deal's classes
    ``c`` (its segment); shock ``z ~ N(0, sd²)`` on top.
    """

    sd: float
    intercept: float
    slope: float
    groups: int
    deals: int
    floor_used: bool
    shift: tuple[float, ...] = ()  # per class, shrunk toward 0 (normal prior, sd SHIFT_PRIOR_SD)

    def calibrate(self, p: Floats, classes: Ints | None = None) -> Floats:
        """``classes``: (deals, m) indices into :attr:`shift` (or none: the common intercept only)."""
        lg = special.logit(np.clip(p, 1e-6, 1 - 1e-6))
        eta = self.intercept + self.slope * lg
        if classes is not None and self.shift:
            eta = eta + np.asarray(self.shift)[np.minimum(classes, len(self.shift) - 1)].sum(axis=1)
        return np.asarray(special.expit(eta), dtype=np.float64)


@dataclass(frozen=True)
class Book:
    """What a simulation needs, already reduced to arrays."""

    p: Floats  # P(won in period) per open deal
    amount: Floats
    owner: Ints  # per deal: index of its owner
    segment: Ints
    closed_owner: Floats  # closed-won so far per owner
    closed_segment: Floats
    new_mean: Floats  # per segment: expected new pipeline created and won inside the period
    new_cv: Floats  # per segment: its coefficient of variation
    new_share: Floats  # (segments, owners): how each segment's new pipeline splits across owners
    rollup: sp.csr_matrix  # (owners, nodes): 1 where the node is the owner or above the owner
    #: per deal: a stable key (the deal id's hash). Deal i's uniform in scenario s is a hash of (key_i, s, seed),
    #: so the same deal draws the same numbers in every forecast (common random numbers: see forecast.bridge)
    key: npt.NDArray[np.uint32] | None = None
    #: per owner: the partially pooled owner effect on the log-odds (posterior mean) and the sd of this
    #: period's draw around it (posterior sd and the period's own owner variance); zeros: no owner effect
    owner_shift: Floats | None = None
    owner_sd: Floats | None = None
    #: per segment: the amounts of deals created and won inside past periods (new pipeline comes as whole
    #: deals drawn from these, a Poisson count per owner); empty: the segment's amount is split by new_share
    new_pool: tuple[Floats, ...] = ()


@dataclass(frozen=True)
class Simulation:
    total: npt.NDArray[np.float32]  # (scenarios,)
    nodes: npt.NDArray[np.float32]  # (nodes, scenarios)
    segments: npt.NDArray[np.float32]  # (segments, scenarios)
    won: npt.NDArray[np.float32]  # per deal: P(won) under the shock, averaged over the shock levels
    #: per segment and per owner: the expectation of new pipeline won (what the scenarios average to)
    new_segment: Floats = field(default_factory=lambda: np.zeros(0))
    new_owner: Floats = field(default_factory=lambda: np.zeros(0))

    @property
    def scenarios(self) -> int:
        return len(self.total)


def shock_levels(shock_sd: float) -> Floats:
    """The :data:`SHOCK_LEVELS` equal-mass levels of the period shock ``N(0, sd²)``."""
    return np.asarray(shock_sd * special.ndtri((np.arange(SHOCK_LEVELS) + 0.5) / SHOCK_LEVELS), dtype=np.float64)


_GOLDEN = np.uint32(0x9E3779B9)


def _mix32(x: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """A 32-bit integer hash (lowbias32), in place: a bijection that scatters nearby inputs."""
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def keyed_uniforms(key: npt.NDArray[np.uint32], scenario: Ints, seed: int) -> npt.NDArray[np.uint16]:
    """(scenarios, deals) 16-bit uniforms, each a hash of (deal key, scenario index, seed): a deal draws the same
    number in a scenario whatever other deals are in the book (common random numbers across forecasts)."""
    deal = _mix32(key.astype(np.uint32) ^ np.uint32(seed & 0xFFFFFFFF))
    scen = _mix32(scenario.astype(np.uint32) * _GOLDEN + np.uint32((seed * 7919) & 0xFFFFFFFF))
    x = deal[None, :] ^ scen[:, None]
    return (_mix32(x) >> np.uint32(16)).astype(np.uint16)


def _gh(deg: int = 24) -> tuple[Floats, Floats]:
    x, w = np.polynomial.hermite.hermgauss(deg)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def _memberships(classes: Ints, k: int) -> sp.csr_matrix:
    """(k, deals): 1 where a deal belongs to a class (a deal may belong to several)."""
    n, m = classes.shape
    return sp.csr_matrix(
        (np.ones(n * m), (np.minimum(classes, k - 1).ravel(), np.repeat(np.arange(n), m))), shape=(k, n)
    )


#: Width of the log-odds bins a calibration group is collapsed to before the fit (see :func:`_collapse`).
LOGIT_BIN = 0.01


@dataclass(frozen=True)
class _Cells:
    """One group collapsed: per (classes, log-odds bin) cell the deal count, wins, mean log-odds; exact sums."""

    lg: Floats  # mean log-odds of the cell's deals
    n: Floats  # deals
    k: Floats  # of them won
    members: sp.csr_matrix | None  # (classes, cells)
    wins: float  # Σ y
    ylg: float  # Σ y · logit p


def _collapse(p: Floats, y: npt.NDArray[np.bool_], classes: Ints, k: int) -> _Cells:
    """Deals with the same classes and log-odds within :data:`LOGIT_BIN` share one cell.

    Everything linear in the deals (Σ y, Σ y·logit p, the wins per class) stays exact; only
    ``Σ log(1 + e^η)`` is taken at the cell's mean log-odds, an error of second order in the bin width
    (≤ b²·LOGIT_BIN²/96 per deal). A 1 M-opportunity book's replay (~1.2 M deal-origins) becomes ~0.1 M cells.
    """
    lg = special.logit(np.clip(p, 1e-6, 1 - 1e-6))
    yf = y.astype(np.float64)
    bins = np.floor(lg / LOGIT_BIN).astype(np.int64)
    bins -= bins.min(initial=0)
    span = np.int64(bins.max(initial=0) + 1)
    if k:
        capped = np.minimum(classes, k - 1).astype(np.int64)
        radix = np.int64(k) ** np.arange(capped.shape[1], dtype=np.int64)  # the deal's classes as one number
        _, first, combo = np.unique(capped @ radix, return_index=True, return_inverse=True)
        combos = capped[first]  # each distinct combination's classes, in the order of its number
        key = combo.reshape(-1).astype(np.int64) * span + bins
    else:
        key = bins
    cells, cell = np.unique(key, return_inverse=True)
    cell = cell.reshape(-1)
    n = np.bincount(cell, minlength=len(cells)).astype(np.float64)
    mean_lg = np.asarray(np.bincount(cell, weights=lg, minlength=len(cells)) / n, dtype=np.float64)
    wins = np.asarray(np.bincount(cell, weights=yf, minlength=len(cells)), dtype=np.float64)
    members = _memberships(combos[cells // span], k) if k else None
    return _Cells(mean_lg, n, wins, members, float(yf.sum()), float(yf @ lg))


def estimate_shock(groups: list[Group], floor: float = 0.05, classes: int = 0, start: Shock | None = None) -> Shock:
    """Maximum likelihood of y ~ Bernoulli(sigmoid(a + δ_c + b·logit p + z_g)), z_g ~ N(0, σ²), δ_c ~ N(0, τ²).

    Each group is the deals open at one origin of a past period, with the model's probability of winning
    inside that period, whether they did, and (with ``classes`` > 0) each deal's classes ``c`` (indices into
    ``classes`` shifts, summed).
    The marginal likelihood integrates z by Gauss–Hermite; the class shifts δ carry a normal prior
    (τ = :data:`SHIFT_PRIOR_SD`), so a class seen little stays near the common intercept. Each group is
    collapsed to log-odds cells first (:func:`_collapse`), and the fit runs to tight tolerances: the
    intercept and the class shifts lie on a ridge only the prior bends (only their sum moves a deal).
    ``start``: a previous fit to start from (a walk-forward's last point; the same optimum, fewer steps).
    """
    k = max(classes, 0)
    usable = [_collapse(p, y, c, k) for p, y, c in groups if len(p)]
    if len(usable) < 3:
        return Shock(sd=max(floor, 0.2), intercept=0.0, slope=1.0, groups=len(usable), deals=0, floor_used=True)
    nodes, weights = _gh()

    def negative(theta: Floats) -> tuple[float, Floats]:
        """Minus the penalised marginal log-likelihood and its gradient in (a, b, log σ, δ_1..δ_k)."""
        a, b, sd = float(theta[0]), float(theta[1]), float(np.exp(theta[2]))
        delta = theta[3:]
        total = -0.5 * float(delta @ delta) / SHIFT_PRIOR_SD**2
        grad = np.concatenate([np.zeros(3), -delta / SHIFT_PRIOR_SD**2])
        for g in usable:
            base = b * g.lg + a
            if g.members is not None:
                base = base + g.members.T @ delta
            eta = base[:, None] + (sd * nodes)[None, :]
            # Σ_i y_i·η_i is exact from the sums; Σ_i log(1 + e^η_i) at the cells' mean log-odds
            linear = b * g.ylg + float(g.k @ (base - b * g.lg)) + sd * nodes * g.wins
            ll = linear - g.n @ np.logaddexp(0.0, eta)
            top = ll.max()
            mass = weights * np.exp(ll - top)
            total += top + np.log(mass.sum())
            post = mass / mass.sum()  # posterior weight of each shock node for this group
            expected = g.n[:, None] * special.expit(eta)  # expected wins per cell and node
            by_node = g.wins - expected.sum(axis=0)
            grad[:3] += [post @ by_node, post @ (g.ylg - g.lg @ expected), post @ (by_node * sd * nodes)]
            if g.members is not None:
                grad[3:] += np.asarray(g.members @ (g.k[:, None] - expected)) @ post
        return -total, -grad

    # a gradient method: Nelder–Mead's first simplex barely moves a coordinate that starts at 0, which left
    # the intercept near 0 and let an inflated σ stand in for it
    x0 = np.concatenate([[0.0, 1.0, np.log(0.2)], np.zeros(k)])
    if start is not None and not start.floor_used and len(start.shift) == k:
        x0 = np.concatenate([[start.intercept, start.slope, np.log(max(start.sd, 2e-3))], start.shift])
    bounds = [(-5.0, 5.0), (0.2, 5.0), (np.log(1e-3), np.log(3.0))] + [(-3.0, 3.0)] * k
    best = optimize.minimize(
        negative, x0, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 1000},
    )  # fmt: skip
    sd = float(np.exp(best.x[2]))
    slope = float(np.clip(best.x[1], 0.5, 2.0))
    return Shock(
        sd=max(sd, floor),
        intercept=float(best.x[0]),
        slope=slope,
        groups=len(usable),
        deals=int(sum(g.n.sum() for g in usable)),
        floor_used=sd < floor,
        shift=tuple(float(v) for v in best.x[3:]),
    )


class _NewDeals:
    """New pipeline as whole deals: per (segment, owner) a Poisson count with mean ``rate × factor`` (the
    scenario's shock and the segment's own noise), each deal's amount drawn from the segment's pool of past
    created-and-won amounts. Rates: the segment's expected amount over its pool's mean amount, split by
    ``new_share`` (the owners' measured share of deal creation). The count's own spread (``cv2``, per segment)
    is taken out of the segment noise so the total's spread stays the run-rate's."""

    def __init__(self, book: Book, rng: np.random.Generator) -> None:
        n_seg, n_own = book.new_share.shape
        self.rng = rng
        self.cv2 = np.zeros(n_seg)
        pools = [np.asarray(p, dtype=np.float64) for p in book.new_pool]
        self.active = len(pools) == n_seg and any(len(p) for p in pools)
        if not self.active:
            return
        mean_amount = np.asarray([p.mean() if len(p) else 0.0 for p in pools])
        rate = np.where(mean_amount > 0, book.new_mean / np.maximum(mean_amount, 1e-9), 0.0)
        second = np.asarray([(p**2).mean() if len(p) else 0.0 for p in pools])
        self.cv2 = np.where(rate > 0, second / np.maximum(mean_amount, 1e-9) ** 2 / np.maximum(rate, 1e-9), 0.0)
        seg, own = np.nonzero(book.new_share * (rate[:, None] > 0))
        self.seg, self.own = seg, own
        self.rate = rate[seg] * book.new_share[seg, own]
        self.start = np.concatenate([[0], np.cumsum([len(p) for p in pools])[:-1]]).astype(np.int64)
        self.size = np.asarray([len(p) for p in pools], dtype=np.int64)
        self.pool = np.concatenate(pools) if pools else np.zeros(0)
        self.n_own, self.n_seg = n_own, n_seg

    def draw(self, factor: Floats) -> tuple[Floats, Floats]:
        """(owners, c) and (segments, c) amounts of new deals for ``factor`` (c, segments)."""
        c = factor.shape[0]
        pairs = len(self.rate)
        counts = self.rng.poisson(self.rate[None, :] * factor[:, self.seg]).ravel()
        cell = np.repeat(np.arange(c * pairs), counts)
        seg = self.seg[cell % pairs]
        amount = self.pool[self.start[seg] + (self.rng.random(len(cell)) * self.size[seg]).astype(np.int64)]
        sums = np.bincount(cell, weights=amount, minlength=c * pairs).reshape(c, pairs)
        by_owner = np.zeros((self.n_own, c))
        by_segment = np.zeros((self.n_seg, c))
        np.add.at(by_owner, self.own, sums.T)
        np.add.at(by_segment, self.seg, sums.T)
        return by_owner, by_segment


class _OpenDeals:
    """The open deals ordered by owner, segment, then key — the same deals give the same sums whatever order they
    come in — with the sparse maps that sum won amounts per (owner, segment) pair, then per owner and segment."""

    def __init__(self, book: Book, n_segments: int) -> None:
        n = len(book.p)
        key = book.key if book.key is not None else np.arange(n, dtype=np.uint32)
        self.order = np.lexsort((key, book.segment, book.owner))
        self.key = key[self.order]
        amount = book.amount[self.order]
        self.owner = book.owner[self.order]
        segment = book.segment[self.order]
        self.logit = special.logit(np.clip(book.p[self.order], 1e-9, 1 - 1e-9))
        self.logit32 = self.logit.astype(np.float32)
        pair = self.owner * max(n_segments, 1) + segment
        first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if n else np.zeros(0, dtype=np.int64)
        pair_index = np.cumsum(np.r_[True, pair[1:] != pair[:-1]]) - 1 if n else np.zeros(0, dtype=np.int64)
        n_pairs = len(first)
        n_owners = book.rollup.shape[0]
        self.deal_to_pair = sp.csc_matrix((amount, (np.arange(n), pair_index)), shape=(n, n_pairs))
        self.to_owner = sp.csr_matrix(
            (np.ones(n_pairs), (self.owner[first], np.arange(n_pairs))), shape=(n_owners, n_pairs)
        )
        self.to_segment = sp.csr_matrix(
            (np.ones(n_pairs), (segment[first], np.arange(n_pairs))), shape=(n_segments, n_pairs)
        )

    def __len__(self) -> int:
        return len(self.order)

    def thresholds(self, level: float) -> npt.NDArray[np.uint16]:
        """Per deal, the 16-bit draw below which it is won at this shock level (resolution 1/65536)."""
        rounded = np.minimum(np.round(special.expit(self.logit + level) * 65536.0), 65535)
        threshold: npt.NDArray[np.uint16] = rounded.astype(np.uint16)
        return threshold

    def won(
        self,
        scenarios: Ints,
        seed: int,
        level: float,
        threshold: npt.NDArray[np.uint16],
        owner_draw: npt.NDArray[np.float32] | None,
    ) -> npt.NDArray[np.bool_]:
        """(scenarios, deals): which deals are won in these scenarios, all at one shock level."""
        draws = keyed_uniforms(self.key, scenarios, seed)
        if owner_draw is None:
            return draws < threshold[None, :]
        # each scenario's owner effects move their deals' log-odds
        eta = self.logit32[None, :] + np.float32(level) + owner_draw[scenarios][:, self.owner]
        won: npt.NDArray[np.bool_] = _LOGIT_TABLE[draws] < eta
        return won

    def sums(self, won: npt.NDArray[np.bool_], book: Book) -> tuple[Floats, Floats]:
        """(owners, c) and (segments, c): the won amounts plus the closed-won so far."""
        by_pair = np.asarray(won.astype(np.float32) @ self.deal_to_pair).T  # (pairs, c)
        owner_sum = np.asarray(self.to_owner @ by_pair) + book.closed_owner[:, None]
        segment_sum = np.asarray(self.to_segment @ by_pair) + book.closed_segment[:, None]
        return owner_sum, segment_sum

    def marginal_won(self, levels: Floats, shift: Floats | None) -> npt.NDArray[np.float32]:
        """Per deal, in the book's order: P(won) averaged over the shock levels (at the owners' mean effect)."""
        moved = self.logit + (shift[self.owner] if shift is not None else 0.0)
        marginal = special.expit(moved[None, :] + levels[:, None]).mean(axis=0)
        back = np.empty(len(self), dtype=np.float32)
        back[self.order] = marginal.astype(np.float32)
        return back


def _owner_effects(book: Book) -> tuple[Floats, Floats] | None:
    """The owners' effect (mean shift, sd of the period's draw), or none when every owner's is zero."""
    n_owners = book.rollup.shape[0]
    shift = book.owner_shift if book.owner_shift is not None else np.zeros(n_owners)
    owner_sd = book.owner_sd if book.owner_sd is not None else np.zeros(n_owners)
    return (shift, owner_sd) if bool(np.any(shift != 0) or np.any(owner_sd > 0)) else None


@dataclass(frozen=True)
class _Draws:
    """What each scenario draws up front: its shock level, its new-pipeline factor per segment (the shock and the
    segment's own noise) with the expected amount that gives, and its owner effects (none: no owner effect)."""

    level_of: Ints  # (scenarios,)
    new_factor: Floats  # (scenarios, segments)
    new_amount: Floats  # (scenarios, segments): new_mean × new_factor
    owner: npt.NDArray[np.float32] | None  # (scenarios, owners)

    @classmethod
    def of(
        cls,
        book: Book,
        rng: np.random.Generator,
        shape: tuple[int, int],
        levels: Floats,
        new_sd: Floats,
        owners: tuple[Floats, Floats] | None,
    ) -> _Draws:
        """``shape``: (scenarios, segments)."""
        scenarios, n_segments = shape
        level_of = rng.integers(0, SHOCK_LEVELS, size=scenarios)
        eps = np.exp(rng.standard_normal((scenarios, n_segments)) * new_sd[None, :] - new_sd[None, :] ** 2 / 2)
        new_factor = np.exp(levels[level_of])[:, None] * eps
        owner = None
        if owners is not None:
            shift, owner_sd = owners
            n_owners = book.rollup.shape[0]
            owner = (shift[None, :] + owner_sd[None, :] * rng.standard_normal((scenarios, n_owners))).astype(np.float32)
        return cls(level_of, new_factor, book.new_mean[None, :] * new_factor, owner)


def _new_noise_sd(book: Book, shock_sd: float, count_cv2: Floats) -> Floats:
    """Per segment, the log-sd of new pipeline's own noise: the run-rate's spread across past periods already
    holds the shared shock (and whole-deal draws their count's spread), so only the rest is drawn."""
    shock_var = np.expm1(shock_sd**2)
    own_cv2 = np.maximum(np.minimum(book.new_cv, 2.0) ** 2 - shock_var - count_cv2, 0.01)
    return np.asarray(np.sqrt(np.log1p(own_cv2)), dtype=np.float64)


def _by_level(level_of: Ints, chunk: int) -> Iterator[tuple[int, list[Ints]]]:
    """Each shock level some scenario drew, with its scenarios in chunks of at most ``chunk``."""
    for lv in range(SHOCK_LEVELS):
        members = np.flatnonzero(level_of == lv)
        if len(members):
            yield lv, [members[start : start + chunk] for start in range(0, len(members), chunk)]


def simulate(
    book: Book,
    shock_sd: float,
    scenarios: int,
    seed: int,
    n_segments: int,
    progress: Progress | None = None,
) -> Simulation:
    """Run ``scenarios`` seeded scenarios; deterministic for a given seed and input.

    Scenarios are grouped by their shock level, so each group compares fresh 16-bit uniform draws with one
    row of thresholds ``round(65536 · sigmoid(logit p + z_level))`` (probability resolution 1/65536), and
    sums won amounts per (owner, segment) with one sparse product.
    """
    rng = np.random.default_rng(seed)
    deals = _OpenDeals(book, n_segments)
    owners = _owner_effects(book)
    levels = shock_levels(shock_sd)
    rollup_t = book.rollup.T.tocsr()
    deals_new = _NewDeals(book, rng)
    draws = _Draws.of(book, rng, (scenarios, n_segments), levels, _new_noise_sd(book, shock_sd, deals_new.cv2), owners)
    total = np.zeros(scenarios, dtype=np.float32)
    nodes = np.zeros((book.rollup.shape[1], scenarios), dtype=np.float32)
    segments = np.zeros((n_segments, scenarios), dtype=np.float32)
    done = 0
    for lv, chunks in _by_level(draws.level_of, max(1, _CHUNK_CELLS // max(len(deals), 1))):
        threshold = deals.thresholds(levels[lv])
        for sub in chunks:
            owner_sum, segment_sum = deals.sums(deals.won(sub, seed, levels[lv], threshold, draws.owner), book)
            if deals_new.active:
                by_new_owner, by_new_segment = deals_new.draw(draws.new_factor[sub])
                owner_sum += by_new_owner
                segment_sum += by_new_segment
            else:
                owner_sum += book.new_share.T @ draws.new_amount[sub].T
                segment_sum += draws.new_amount[sub].T
            nodes[:, sub] = np.asarray(rollup_t @ owner_sum, dtype=np.float32)
            segments[:, sub] = segment_sum.astype(np.float32)
            total[sub] = segment_sum.sum(axis=0)
            done += len(sub)
            if progress is not None:
                progress("scenarios", done, scenarios)
    new_segment = book.new_mean * float(np.exp(levels).mean())  # ε has mean 1
    return Simulation(
        total=total,
        nodes=nodes,
        segments=segments,
        won=deals.marginal_won(levels, owners[0] if owners is not None else None),
        new_segment=new_segment,
        new_owner=np.asarray(book.new_share.T @ new_segment, dtype=np.float64),
    )


def widen(sim: Simulation, book: Book, target_cv2: float, seed: int) -> Simulation:
    """Bring the relative variance (CV²) of the total's still-to-book part up to ``target_cv2`` (measured out of
    sample on past periods): each scenario's still-to-book part of every node, segment and the total is
    multiplied by one factor ``exp(τ·Z − τ²/2)`` (mean 1: the means stay). An independent mean-1 factor
    multiplies ``1 + CV²``, so ``e^{τ²} = (1 + target_cv2) / (1 + own)``, ``own`` the scenarios' own CV².
    Closed-won so far is never scaled. Nothing changes when the scenarios already reach it."""
    closed_total = float(book.closed_segment.sum())
    rest = sim.total.astype(np.float64) - closed_total
    mean = float(rest.mean()) if len(rest) else 0.0
    if target_cv2 <= 0 or len(rest) < 10 or mean <= 0:
        return sim
    tau2 = float(np.log1p(target_cv2) - np.log1p(float(rest.var()) / mean**2))
    if tau2 <= 0:
        return sim
    tau = float(np.sqrt(tau2))
    factor = np.exp(tau * np.random.default_rng([seed, 1]).standard_normal(len(rest)) - tau2 / 2)
    closed_nodes = np.asarray(book.rollup.T @ book.closed_owner, dtype=np.float64)[:, None]
    closed_segments = np.asarray(book.closed_segment, dtype=np.float64)[:, None]
    nodes = closed_nodes + (sim.nodes.astype(np.float64) - closed_nodes) * factor[None, :]
    segments = closed_segments + (sim.segments.astype(np.float64) - closed_segments) * factor[None, :]
    return Simulation(
        total=(closed_total + rest * factor).astype(np.float32),
        nodes=nodes.astype(np.float32),
        segments=segments.astype(np.float32),
        won=sim.won,
        new_segment=sim.new_segment,
        new_owner=sim.new_owner,
    )
