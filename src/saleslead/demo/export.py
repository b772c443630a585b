"""Exporting the demo world as it stood at the end of one day, as Salesforce-shaped CSV files.

The world holds every deal's whole life (some of it after the snapshot); an export at day D keeps
what existed by the end of D: opportunities created by then in their state after their last history
row at or before then, the history and tasks up to then, the users hired by then with their status
then, and the quotas of the quarters begun by then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.demo.deals import Created
from saleslead.demo.knobs import (
    ACCOUNT_ADJECTIVES,
    ACCOUNT_NOUNS,
    ACCOUNT_SUFFIXES,
    CHANNELS,
    COUNTRIES,
    COUNTRY_SHARE,
    FIRST_NAMES,
    FORECAST_CATEGORIES,
    INDUSTRIES,
    LAST_NAMES,
    PRODUCTS,
    SEGMENTS,
    TASK_SUBJECTS,
    TYPES,
)
from saleslead.demo.lifecycle import DAY, Lifecycle
from saleslead.demo.people import NEVER, ROLE_NAMES, Roster, owner_as_of, owner_changes, quota_rows
from saleslead.demo.worlds import stage_ladder
from saleslead.demo.writer import dates, labels, salesforce_ids, timestamps, write

__all__ = ["FILES", "World", "write_export"]

FILES = ("Opportunity.csv", "OpportunityHistory.csv", "OpportunityFieldHistory.csv", "Task.csv", "User.csv",
         "Account.csv", "ForecastingQuota.csv")  # fmt: skip
IntArray = npt.NDArray[np.int64]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class World:
    roster: Roster
    created: Created
    life: Lifecycle
    quota_base: npt.NDArray[np.float64]  # full quarterly quota of a ramped AE, per segment
    quarter_bounds: IntArray
    account_employees: IntArray
    account_industry: IntArray
    account_country: IntArray
    open_stages: int = 5


def account_traits(rng: np.random.Generator, segment: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """NumberOfEmployees (consistent with the segment), industry and country of each account."""
    low = np.asarray([p.employees[0] for p in SEGMENTS])[segment]
    high = np.asarray([p.employees[1] for p in SEGMENTS])[segment]
    median = np.asarray([p.employees[2] for p in SEGMENTS])[segment]
    employees = np.clip(np.round(median * np.exp(0.8 * rng.standard_normal(len(segment)))), low, high)
    industry = rng.integers(0, len(INDUSTRIES), size=len(segment))
    country = rng.choice(len(COUNTRIES), size=len(segment), p=COUNTRY_SHARE)
    return employees.astype(np.int64), industry.astype(np.int64), country.astype(np.int64)


def _business(seconds: IntArray) -> IntArray:
    """World time to wall-clock time: each day's 24 hours squeezed, in order, into 07:00..19:00 UTC."""
    return np.asarray(seconds // DAY * DAY + 7 * 3600 + seconds % DAY // 2, dtype=np.int64)


def _last_of_each(group: IntArray) -> IntArray:
    """Positions of the last row of each run of equal values in a sorted array."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(group[1:] != group[:-1], True)).astype(np.int64)


def _account_names(count: int) -> pa.Array:
    combos = [f"{a} {n} {s}" for s in ACCOUNT_SUFFIXES for n in ACCOUNT_NOUNS for a in ACCOUNT_ADJECTIVES]
    index = np.arange(count, dtype=np.int64)
    base = labels(combos, index * 7919 % len(combos))
    round_ = index // len(combos)
    numbered = pc.binary_join_element_wise(base, pa.array((round_ + 1).astype(str)), " ")
    return pc.if_else(pa.array(round_ > 0), numbered, base)


def _person_names(count: int) -> list[str]:
    names = []
    for i in range(count):
        first = FIRST_NAMES[i * 7 % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 11 + i // len(FIRST_NAMES)) % len(LAST_NAMES)]
        middle = "" if i < 700 else f" {chr(65 + i // 700 % 26)}."
        names.append(f"{first}{middle} {last}")
    return names


@dataclass(frozen=True)
class _Cut:
    """The world as it stood at the end of ``day``: the deals and accounts created by then, the history rows and
    tasks known then, and the ids and names every file shares."""

    world: World
    day: int
    s: int  # the day's last second
    n: int  # deals created by then (the first n: deals are in creation order)
    n_accounts: int
    history_rows: IntArray  # rows of the history known then
    state: IntArray  # each deal's last history row known then
    task_rows: IntArray
    user_ids: pa.Array
    account_ids: pa.Array
    opportunity_ids: pa.Array
    account_names: pa.Array

    @classmethod
    def of(cls, world: World, day: int) -> _Cut:
        created, hist, life = world.created, world.life.history, world.life
        cut_s = day * DAY + DAY - 1
        n = int(np.searchsorted(created.created_s, cut_s, side="right"))
        h_end = int(np.searchsorted(hist.deal, n, side="left"))
        h_rows = np.flatnonzero(hist.at_s[:h_end] <= cut_s).astype(np.int64)
        t_end = int(np.searchsorted(life.task_deal, n, side="left"))
        n_accounts = int(np.searchsorted(created.account_first_deal, n, side="left"))
        return cls(
            world=world,
            day=day,
            s=cut_s,
            n=n,
            n_accounts=n_accounts,
            history_rows=h_rows,
            state=h_rows[_last_of_each(hist.deal[h_rows])],
            task_rows=np.flatnonzero(life.task_day[:t_end] <= day).astype(np.int64),
            user_ids=salesforce_ids("005", np.arange(len(world.roster), dtype=np.int64)),
            account_ids=salesforce_ids("001", np.arange(len(created.account_first_deal), dtype=np.int64)),
            opportunity_ids=salesforce_ids("006", np.arange(n, dtype=np.int64)),
            account_names=_account_names(n_accounts),
        )

    def last_activity(self) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Each deal's last logged activity day by then, and whether it has one."""
        life = self.world.life
        t_last = self.task_rows[_last_of_each(life.task_deal[self.task_rows])]
        last_activity = np.zeros(self.n, dtype=np.int64)
        has_activity = np.zeros(self.n, dtype=bool)
        last_activity[life.task_deal[t_last]] = life.task_day[t_last]
        has_activity[life.task_deal[t_last]] = True
        return last_activity, has_activity


def _write_opportunities(cut: _Cut, path: Path) -> int:
    """Opportunity: every deal created by the cut, in its state then, owned by whoever held it then."""
    world, n, state = cut.world, cut.n, cut.state
    created, life, hist = world.created, world.life, world.life.history
    owner = owner_as_of(world.roster, created.owner[:n], life.closed_s[:n], cut.s)
    last_activity, has_activity = cut.last_activity()
    stage = hist.stage[state]
    stage_names, stage_probability, _ = stage_ladder(world.open_stages)
    won_stage = world.open_stages
    motion_product = [f"{p} {t}" for p in PRODUCTS for t in TYPES]
    opportunity_names = pc.binary_join_element_wise(
        pc.take(cut.account_names, pa.array(created.account[:n])),
        labels(motion_product, life.product[:n] * len(TYPES) + created.motion[:n]),
        " - ",
    )
    return write(path, {
        "Id": cut.opportunity_ids,
        "AccountId": pc.take(cut.account_ids, pa.array(created.account[:n])),
        "OwnerId": pc.take(cut.user_ids, pa.array(owner)),
        "Name": opportunity_names,
        "Amount": hist.amount[state],
        "StageName": labels(stage_names, stage),
        "Probability": np.asarray(stage_probability, dtype=np.int64)[stage],
        "ForecastCategoryName": labels(FORECAST_CATEGORIES, hist.category[state]),
        "CloseDate": dates(hist.close_day[state]),
        "CreatedDate": timestamps(_business(created.created_s[:n])),
        "IsClosed": stage >= won_stage,
        "IsWon": stage == won_stage,
        "Type": labels(TYPES, created.motion[:n]),
        "LeadSource": labels(CHANNELS, created.channel[:n]),
        "LastActivityDate": dates(last_activity, has_activity),
        "LastModifiedDate": timestamps(np.full(n, cut.s, dtype=np.int64)),
        "Segment__c": labels([p.name for p in SEGMENTS], created.segment[:n]),
        "Product__c": labels(PRODUCTS, life.product[:n]),
    })  # fmt: skip


def _write_history(cut: _Cut, path: Path) -> int:
    """OpportunityHistory: every stage, amount, close-date and category change known by the cut."""
    hist, h_rows = cut.world.life.history, cut.history_rows
    stage_names, stage_probability, _ = stage_ladder(cut.world.open_stages)
    h_stage = hist.stage[h_rows]
    return write(path, {
        "Id": salesforce_ids("008", h_rows),
        "OpportunityId": pc.take(cut.opportunity_ids, pa.array(hist.deal[h_rows])),
        "CreatedDate": timestamps(_business(hist.at_s[h_rows])),
        "StageName": labels(stage_names, h_stage),
        "Amount": hist.amount[h_rows],
        "CloseDate": dates(hist.close_day[h_rows]),
        "Probability": np.asarray(stage_probability, dtype=np.int64)[h_stage],
        "ForecastCategory": labels(FORECAST_CATEGORIES, hist.category[h_rows]),
    })  # fmt: skip


def _write_owner_changes(cut: _Cut, path: Path) -> int:
    """OpportunityFieldHistory for the owner: each change twice, as Salesforce writes a lookup field.

    One row holds the users' ids (DataType EntityId), the next their names (DataType Text).
    """
    created, life, roster, n = cut.world.created, cut.world.life, cut.world.roster, cut.n
    record, when, old, new = owner_changes(roster, created.owner[:n], life.closed_s[:n], created.created_s[:n], cut.s)
    names = pa.array(_person_names(len(roster)), pa.string())
    pair = np.repeat(np.arange(len(record), dtype=np.int64), 2)
    # Ids stay the same in every cut: a change is numbered by its deal and its place among the deal's changes.
    first = np.r_[True, record[1:] != record[:-1]] if len(record) else np.zeros(0, bool)
    nth = np.arange(len(record)) - np.maximum.accumulate(np.where(first, np.arange(len(record)), 0))
    as_name = np.tile(np.array([False, True]), len(record))

    def ids_or_names(who: IntArray) -> pa.Array:
        rows = pa.array(who[pair])
        return pc.if_else(pa.array(as_name), pc.take(names, rows), pc.take(cut.user_ids, rows))

    return write(path, {
        "Id": salesforce_ids("017", (record[pair] * 64 + nth[pair]) * 2 + as_name),
        "OpportunityId": pc.take(cut.opportunity_ids, pa.array(record[pair])),
        "CreatedDate": timestamps(_business(when[pair])),
        "Field": labels(["Owner"], np.zeros(len(pair), dtype=np.int64)),
        "DataType": labels(["EntityId", "Text"], as_name.astype(np.int64)),
        "OldValue": ids_or_names(old),
        "NewValue": ids_or_names(new),
    })  # fmt: skip


def _write_tasks(cut: _Cut, path: Path) -> int:
    """Task: the activities logged on the deals by the cut."""
    life, t_rows = cut.world.life, cut.task_rows
    return write(path, {
        "Id": salesforce_ids("00T", t_rows),
        "WhatId": pc.take(cut.opportunity_ids, pa.array(life.task_deal[t_rows])),
        "ActivityDate": dates(life.task_day[t_rows]),
        "Subject": labels(TASK_SUBJECTS, life.task_subject[t_rows]),
        "Status": labels(["Completed"], np.zeros(len(t_rows), dtype=np.int64)),
    })  # fmt: skip


def _write_users(cut: _Cut, path: Path) -> int:
    """User: everyone hired by the cut, inactive once their last day has passed."""
    roster = cut.world.roster
    hired = np.flatnonzero(roster.hire_day <= cut.day).astype(np.int64)
    last_day = roster.end_day[hired] - 1
    gone = (roster.end_day[hired] < NEVER) & (last_day <= cut.day)
    manager = roster.manager[hired]
    segment = roster.segment[hired]
    return write(path, {
        "Id": pc.take(cut.user_ids, pa.array(hired)),
        "Name": labels(_person_names(len(roster)), hired),
        "Title": labels(roster.title, hired),
        "ManagerId": pc.if_else(pa.array(manager >= 0), pc.take(cut.user_ids, pa.array(np.maximum(manager, 0))),
                                pa.scalar(None, pa.string())),
        "IsActive": ~gone,
        "CreatedDate": timestamps(roster.hire_day[hired] * DAY + 8 * 3600),
        "StartDate__c": dates(roster.hire_day[hired]),
        "EndDate__c": dates(np.where(gone, last_day, 0), gone),
        "Role__c": labels(ROLE_NAMES, roster.role[hired].astype(np.int64)),
        "Segment__c": labels([p.name for p in SEGMENTS], np.maximum(segment, 0), segment >= 0),
    })  # fmt: skip


def _write_accounts(cut: _Cut, path: Path) -> int:
    """Account: the accounts opened by the cut, owned by whoever then holds the first deal's owner's book."""
    world, n_accounts = cut.world, cut.n_accounts
    created = world.created
    first = created.account_first_deal[:n_accounts]
    account_owner = owner_as_of(world.roster, created.owner[first], np.full(n_accounts, NEVER), cut.s)
    return write(path, {
        "Id": cut.account_ids[:n_accounts],
        "Name": cut.account_names,
        "Industry": labels(INDUSTRIES, world.account_industry[:n_accounts]),
        "NumberOfEmployees": world.account_employees[:n_accounts],
        "BillingCountry": labels(COUNTRIES, world.account_country[:n_accounts]),
        "OwnerId": pc.take(cut.user_ids, pa.array(account_owner)),
        "Segment__c": labels([p.name for p in SEGMENTS], created.account_segment[:n_accounts]),
        "CreatedDate": timestamps(_business(created.created_s[first])),
    })  # fmt: skip


def _write_quotas(cut: _Cut, path: Path) -> int:
    """ForecastingQuota: the quotas of the quarters begun by the cut."""
    q_owner, q_start, q_amount = quota_rows(cut.world.roster, cut.world.quota_base, cut.world.quarter_bounds, cut.day)
    order = np.lexsort((q_owner, q_start))
    return write(path, {
        "Id": salesforce_ids("0J9", np.arange(len(order), dtype=np.int64)),
        "QuotaOwnerId": pc.take(cut.user_ids, pa.array(q_owner[order])),
        "StartDate": dates(q_start[order]),
        "QuotaAmount": q_amount[order],
    })  # fmt: skip


#: Each export file and its writer, in the order they are written (that of FILES).
_WRITERS: dict[str, Callable[[_Cut, Path], int]] = {
    "Opportunity.csv": _write_opportunities,
    "OpportunityHistory.csv": _write_history,
    "OpportunityFieldHistory.csv": _write_owner_changes,
    "Task.csv": _write_tasks,
    "User.csv": _write_users,
    "Account.csv": _write_accounts,
    "ForecastingQuota.csv": _write_quotas,
}


def write_export(world: World, out_dir: Path, cut_day: int, step: Callable[[str], None]) -> dict[str, int]:
    """Write the export files as of the end of ``cut_day``; returns row counts by file (and ``users``)."""
    cut = _Cut.of(world, cut_day)
    counts: dict[str, int] = {}
    for name in FILES:
        counts[name] = _WRITERS[name](cut, out_dir / name)
        step(name)
    counts["users"] = counts["User.csv"]  # one row per user hired by the cut
    return counts
