"""One door to HiGHS for the roster's integer programs: a model in matrix form in, a solution and its gap out.

Built with ``highspy``'s ``HighsLp`` (column-wise sparse matrix) and solved quietly: the Python wrapper
``highspy.Highs`` prints a banner on construction, so the core class is used with ``output_flag`` off —
``--json`` output stays clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from highspy._core import HighsLp, HighsVarType, MatrixFormat, _Highs, kHighsInf

__all__ = ["INF", "MipOutcome", "solve_mip"]

INF = kHighsInf
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MipOutcome:
    values: FloatArray
    status: str  # HiGHS model status, e.g. "Optimal", "Time limit reached"
    objective: float
    bound: float  # best dual bound
    gap: float  # relative gap (objective − bound) ÷ |objective|; 0 when proven optimal
    seconds: float
    feasible: bool


def solve_mip(
    cost: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    integer: npt.NDArray[np.bool_],
    matrix: sp.csc_matrix,
    row_lower: FloatArray,
    row_upper: FloatArray,
    *,
    time_limit: float,
    mip_rel_gap: float,
    threads: int | None = None,
    start: FloatArray | None = None,
) -> MipOutcome:
    """Minimise ``cost @ x`` s.t. ``row_lower ≤ matrix @ x ≤ row_upper``, ``lower ≤ x ≤ upper``.

    ``start`` — a feasible point handed to HiGHS as the first incumbent (the MIP then only improves it).
    """
    n_rows, n_cols = matrix.shape
    h = _Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if threads:
        h.setOptionValue("threads", int(threads))
    lp = HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    csc = matrix.tocsc()
    csc.sort_indices()
    lp.a_matrix_.format_ = MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    if integer.any():
        lp.integrality_ = [HighsVarType.kInteger if i else HighsVarType.kContinuous for i in integer]
    h.passModel(lp)
    if start is not None:
        h.setSolution(n_cols, np.arange(n_cols, dtype=np.int32), np.asarray(start, dtype=np.float64))
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    solution = h.getSolution()
    feasible = bool(solution.value_valid) and int(info.primal_solution_status) >= 2
    values = np.asarray(solution.col_value, dtype=np.float64) if feasible else np.zeros(n_cols)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if integer.any() else objective
    gap = float(info.mip_gap) if integer.any() else 0.0
    if not np.isfinite(gap) or gap < 0:
        gap = 1.0 if feasible else float("inf")
    return MipOutcome(
        values=values,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=float(h.getRunTime()),
        feasible=feasible,
    )
