"""The demo company generator: determinism, Salesforce shape, realism, slump and as-of cuts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from saleslead.demo import DemoConfig, DemoSummary, Slump, generate
from saleslead.errors import InputError

FILES = ("Opportunity.csv", "OpportunityHistory.csv", "OpportunityFieldHistory.csv", "User.csv", "Account.csv",
         "ForecastingQuota.csv", "Task.csv")  # fmt: skip
COLUMNS = {
    "Opportunity.csv": ["Id", "AccountId", "OwnerId", "Name", "Amount", "StageName", "Probability",
                        "ForecastCategoryName", "CloseDate", "CreatedDate", "IsClosed", "IsWon", "Type",
                        "LeadSource", "LastActivityDate", "LastModifiedDate", "Segment__c", "Product__c"],
    "OpportunityHistory.csv": ["Id", "OpportunityId", "CreatedDate", "StageName", "Amount", "CloseDate",
                               "Probability", "ForecastCategory"],
    "OpportunityFieldHistory.csv": ["Id", "OpportunityId", "CreatedDate", "Field", "DataType", "OldValue",
                                    "NewValue"],
    "User.csv": ["Id", "Name", "Title", "ManagerId", "IsActive", "CreatedDate", "StartDate__c", "EndDate__c",
                 "Role__c", "Segment__c"],
    "Account.csv": ["Id", "Name", "Industry", "NumberOfEmployees", "BillingCountry", "OwnerId", "Segment__c"],
    "ForecastingQuota.csv": ["QuotaOwnerId", "StartDate", "QuotaAmount"],
    "Task.csv": ["Id", "WhatId", "ActivityDate", "Subject"],
}  # fmt: skip
STATE = ["StageName", "Amount", "CloseDate", "Probability"]
END = date(2026, 11, 24)


def read(folder: Path, name: str) -> pd.DataFrame:
    """A file as text; ISO dates and timestamps compare correctly as strings."""
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def last_rows(history: pd.DataFrame) -> pd.DataFrame:
    """History in file order is by opportunity then time: the last row per opportunity."""
    return history.groupby("OpportunityId", sort=False).tail(1).set_index("OpportunityId")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out, DemoConfig())


@pytest.fixture(scope="module")
def opps(world: tuple[Path, DemoSummary]) -> pd.DataFrame:
    frame = read(world[0], "Opportunity.csv")
    frame["amount"] = frame.Amount.astype(float)
    frame["won"] = frame.IsWon == "true"
    frame["closed"] = frame.IsClosed == "true"
    frame["cycle"] = (pd.to_datetime(frame.CloseDate) - pd.to_datetime(frame.CreatedDate.str[:10])).dt.days
    return frame


@pytest.fixture(scope="module")
def history(world: tuple[Path, DemoSummary]) -> pd.DataFrame:
    return read(world[0], "OpportunityHistory.csv")


def test_same_seed_gives_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    config = DemoConfig(opportunities=1_500, seed=3, start=date(2024, 1, 1), end=date(2025, 6, 30))
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config)
    generate(tmp_path / "c", DemoConfig(opportunities=1_500, seed=4, start=config.start, end=config.end))
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "Opportunity.csv").read_bytes() != (tmp_path / "c" / "Opportunity.csv").read_bytes()


def test_summary_counts_rows_and_progress_advances(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = generate(tmp_path, DemoConfig(opportunities=800, start=date(2025, 1, 1), end=date(2025, 12, 31)),
                       progress=lambda label, done, total: seen.append((label, done, total)))  # fmt: skip
    assert summary.opportunities == len(read(tmp_path, "Opportunity.csv"))
    assert summary.history_rows == len(read(tmp_path, "OpportunityHistory.csv"))
    assert summary.activities == len(read(tmp_path, "Task.csv"))
    assert summary.users == len(read(tmp_path, "User.csv"))
    assert summary.accounts == len(read(tmp_path, "Account.csv"))
    assert summary.quotas == len(read(tmp_path, "ForecastingQuota.csv"))
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert seen[-1][1] == seen[-1][2]
    assert 600 < summary.opportunities < 1_000


def test_every_file_has_the_salesforce_columns_and_unique_ids(world: tuple[Path, DemoSummary]) -> None:
    folder = world[0]
    prefixes = {"Opportunity.csv": "006", "OpportunityHistory.csv": "008", "OpportunityFieldHistory.csv": "017",
                "User.csv": "005",
                "Account.csv": "001", "Task.csv": "00T"}  # fmt: skip
    for name, columns in COLUMNS.items():
        frame = read(folder, name)
        assert set(columns) <= set(frame.columns), name
        if name in prefixes:
            assert frame.Id.is_unique, name
            assert frame.Id.str.len().eq(18).all(), name
            assert frame.Id.str.startswith(prefixes[name]).all(), name


def test_references_resolve_and_history_ends_in_the_opportunity_state(
    world: tuple[Path, DemoSummary], opps: pd.DataFrame, history: pd.DataFrame
) -> None:
    folder = world[0]
    users, accounts = read(folder, "User.csv"), read(folder, "Account.csv")
    tasks, quotas = read(folder, "Task.csv"), read(folder, "ForecastingQuota.csv")
    assert set(history.OpportunityId) == set(opps.Id)
    assert set(tasks.WhatId) <= set(opps.Id)
    assert set(opps.OwnerId) | set(accounts.OwnerId) <= set(users.Id)
    assert set(opps.AccountId) <= set(accounts.Id)
    assert set(quotas.QuotaOwnerId) <= set(users.Id[users.Role__c == "AE"])
    managers = users.ManagerId[users.ManagerId != ""]
    assert set(managers) <= set(users.Id)

    last = last_rows(history).loc[opps.Id]
    for column in STATE:
        assert (last[column].to_numpy() == opps[column].to_numpy()).all(), column
    assert (last.ForecastCategory.to_numpy() == opps.ForecastCategoryName.to_numpy()).all()
    first = history.groupby("OpportunityId", sort=False).head(1).set_index("OpportunityId").loc[opps.Id]
    assert (first.CreatedDate.to_numpy() == opps.CreatedDate.to_numpy()).all()
    created = opps.set_index("Id").CreatedDate
    assert (history.CreatedDate.to_numpy() >= created.loc[history.OpportunityId].to_numpy()).all()
    same = history.OpportunityId.eq(history.OpportunityId.shift())
    assert (history.CreatedDate[same] >= history.CreatedDate.shift()[same]).all()
    task_created = created.loc[tasks.WhatId].str[:10].to_numpy()
    assert (tasks.ActivityDate.to_numpy() >= task_created).all()


def test_closed_deals_are_consistent_and_in_the_past(opps: pd.DataFrame) -> None:
    closed = opps[opps.closed]
    assert set(closed.StageName) == {"Closed Won", "Closed Lost"}
    assert (closed.won == (closed.StageName == "Closed Won")).all()
    assert (closed.CloseDate <= END.isoformat()).all()
    assert (opps.CreatedDate.str[:10] <= END.isoformat()).all()
    assert not opps[~opps.closed].won.any()
    assert opps.LastModifiedDate.eq(f"{END.isoformat()}T23:59:59.000Z").all()
    assert set(opps.Probability[opps.won]) == {"100"}
    assert opps.CreatedDate.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z").all()


def test_hierarchy_roles_attrition_and_accounts(world: tuple[Path, DemoSummary]) -> None:
    users = read(world[0], "User.csv").set_index("Id")
    depth = {}
    for uid in users.index:
        steps, cur = 0, uid
        while users.at[cur, "ManagerId"]:
            cur, steps = users.at[cur, "ManagerId"], steps + 1
        depth[uid] = steps
    assert max(depth.values()) >= 3  # CRO > VP > manager > AE: four levels
    assert {"AE", "SDR", "Manager", "VP"} <= set(users.Role__c)
    aes = users[users.Role__c == "AE"]
    first, last = pd.Timestamp(2023, 1, 1), pd.Timestamp(END)
    hired = pd.to_datetime(aes.StartDate__c).clip(lower=first)
    gone = pd.to_datetime(aes.EndDate__c.replace("", END.isoformat()))
    exposure_years = (gone - hired).dt.days.clip(lower=0).sum() / 365.25
    left = ((aes.EndDate__c != "") & (gone >= first) & (gone <= last)).sum()
    assert 0.12 < left / exposure_years < 0.3  # about 20 % of the AEs leave each year
    assert ((aes.IsActive == "false") == (aes.EndDate__c != "")).all()
    accounts = read(world[0], "Account.csv")
    employees = accounts.NumberOfEmployees.astype(int)
    assert employees[accounts.Segment__c == "SMB"].max() < 200
    assert employees[accounts.Segment__c == "Enterprise"].min() >= 2_000


def test_segments_differ_in_win_rate_size_and_cycle(opps: pd.DataFrame) -> None:
    closed = opps[opps.closed]
    win = closed.groupby("Segment__c").won.mean()
    assert win.between(0.2, 0.35).all(), win
    won = closed[closed.won]
    size = won.groupby("Segment__c").amount.median()
    cycle = won.groupby("Segment__c").cycle.median()
    assert 10_000 <= size["SMB"] <= 20_000
    assert 50_000 <= size["Mid-Market"] <= 80_000
    assert 200_000 <= size["Enterprise"] <= 400_000
    assert 30 <= cycle["SMB"] <= 45
    assert 120 <= cycle["Enterprise"] <= 180
    channel = closed.groupby("LeadSource").won.mean()
    assert channel["Customer Referral"] > channel["Outbound SDR"] + 0.05


def test_stale_deals_lose_more_and_commit_is_optimistic(opps: pd.DataFrame, history: pd.DataFrame) -> None:
    when = pd.to_datetime(history.CreatedDate)
    nxt = when.groupby(history.OpportunityId).shift(-1)
    in_proposal = history.assign(days=(nxt - when).dt.total_seconds() / 86_400)
    in_proposal = in_proposal[(in_proposal.StageName == "Proposal") & in_proposal.days.notna()]
    dwell = in_proposal.groupby("OpportunityId").days.sum()
    outcome = opps.set_index("Id").loc[dwell.index]
    closed = outcome.closed.to_numpy()
    dwell, won = dwell[closed], outcome.won[closed]
    slow = dwell > dwell.median()
    assert won[slow.to_numpy()].mean() < 0.75 * won[~slow.to_numpy()].mean()

    committed = set(history.OpportunityId[history.ForecastCategory == "Commit"])
    commit_closed = opps[opps.closed & opps.Id.isin(committed)]
    assert 0.15 < 1 - commit_closed.won.mean() < 0.5

    same = history.OpportunityId.eq(history.OpportunityId.shift())
    pushed = same & (history.CloseDate > history.CloseDate.shift())
    pushes = pushed.groupby(history.OpportunityId).sum()
    late = opps.set_index("Id").loc[dwell.index]
    late_pushes = pushes.loc[late.index]
    assert late_pushes[~late.won.to_numpy()].mean() > late_pushes[late.won.to_numpy()].mean()

    open_ = opps[~opps.closed]
    quiet = open_.LastActivityDate < (END - timedelta(days=30)).isoformat()
    assert 0.05 < quiet.mean() < 0.9  # some open deals are stale at the snapshot


def test_quarters_share_a_shock_and_quarter_ends_spike(opps: pd.DataFrame) -> None:
    closed = opps[opps.closed & (opps.CloseDate < "2026-10-01") & (opps.CloseDate >= "2023-04-01")]
    quarter = pd.PeriodIndex(closed.CloseDate, freq="Q")
    by_quarter = closed.groupby(quarter).won.agg(["mean", "size"])
    p = closed.won.mean()
    binomial = (p * (1 - p) / by_quarter["size"]).mean()
    assert by_quarter["mean"].var() > 3 * binomial

    won = opps[opps.won]
    close = pd.to_datetime(won.CloseDate)
    to_end = (pd.PeriodIndex(close, freq="Q").end_time.normalize() - pd.DatetimeIndex(close)).days
    assert (to_end < 10).mean() > 0.25  # vs 11 % if uniform


def test_creation_grows_follows_seasons_and_reacts_to_a_slump(tmp_path: Path, opps: pd.DataFrame) -> None:
    created = pd.to_datetime(opps.CreatedDate.str[:10])
    per_year = created.dt.year.value_counts().sort_index()
    assert per_year[2025] > 1.1 * per_year[2023]
    month = created.dt.month.value_counts()
    assert month[8] < 0.85 * (month[7] + month[9]) / 2

    slump = Slump(start=date(2025, 3, 3), weeks=8, depth=0.5)
    config = DemoConfig(opportunities=20_000, slump=slump)
    generate(tmp_path, config)
    cut = read(tmp_path, "Opportunity.csv")
    week = pd.to_datetime(cut.CreatedDate.str[:10]).dt.to_period("W-SUN")
    weekly = cut.Amount.astype(float).groupby(week).sum()
    first = pd.Period(slump.start, freq="W-SUN")
    inside = weekly[(weekly.index >= first) & (weekly.index < first + slump.weeks)].mean()
    before = weekly[(weekly.index >= first - 8) & (weekly.index < first)].mean()
    assert inside < 0.7 * before
    counts = cut.groupby(week).size()
    assert (
        counts[(counts.index >= first) & (counts.index < first + slump.weeks)].mean()
        < 0.7 * counts[(counts.index >= first - 8) & (counts.index < first)].mean()
    )


def test_a_segment_slump_cuts_only_that_segment(tmp_path: Path) -> None:
    slump = Slump(start=date(2024, 4, 1), weeks=6, depth=0.8, segment="SMB")
    generate(tmp_path, DemoConfig(opportunities=8_000, start=date(2023, 6, 1), end=date(2024, 12, 31), slump=slump))
    frame = read(tmp_path, "Opportunity.csv")
    day = frame.CreatedDate.str[:10]
    inside = (day >= "2024-04-01") & (day < "2024-05-13")
    before = (day >= "2024-02-19") & (day < "2024-04-01")
    counts = frame.groupby(
        [frame.Segment__c, inside.map({True: "in", False: "x"}) + before.map({True: "b", False: ""})]
    ).size()
    assert counts["SMB", "in"] < 0.4 * counts["SMB", "xb"]
    assert counts["Mid-Market", "in"] > 0.7 * counts["Mid-Market", "xb"]


def _cut_pair(tmp_path: Path, cut: date) -> tuple[Path, Path]:
    config = DemoConfig(opportunities=6_000, seed=11, start=date(2024, 1, 1), end=date(2025, 12, 31))
    generate(tmp_path / "full", config)
    generate(tmp_path / "cut", config, cut_at=cut)
    return tmp_path / "full", tmp_path / "cut"


@pytest.mark.parametrize("cut", [date(2024, 2, 10), date(2025, 3, 31), date(2025, 8, 17)])
def test_an_export_cut_at_a_day_is_what_the_full_export_says_about_that_day(tmp_path: Path, cut: date) -> None:
    full, cut_dir = _cut_pair(tmp_path, cut)
    day = cut.isoformat()
    late = (cut + timedelta(days=1)).isoformat()
    opp = read(cut_dir, "Opportunity.csv")
    hist = read(cut_dir, "OpportunityHistory.csv")
    tasks, users = read(cut_dir, "Task.csv"), read(cut_dir, "User.csv")
    quotas = read(cut_dir, "ForecastingQuota.csv")
    assert (opp.CreatedDate < late).all()
    assert (hist.CreatedDate < late).all()
    assert (tasks.ActivityDate <= day).all()
    assert (opp.LastActivityDate <= day).all()
    assert (opp.CloseDate[opp.IsClosed == "true"] <= day).all()
    assert (users.StartDate__c <= day).all()
    assert (users.EndDate__c <= day).all()
    assert (quotas.StartDate <= day).all()
    assert opp.LastModifiedDate.eq(f"{day}T23:59:59.000Z").all()

    full_opp, full_hist = read(full, "Opportunity.csv"), read(full, "OpportunityHistory.csv")
    assert list(opp.Id) == list(full_opp.Id[full_opp.CreatedDate < late])
    known = full_hist[full_hist.CreatedDate < late]
    assert known.reset_index(drop=True).equals(hist)
    state = last_rows(known).loc[opp.Id]
    for column in STATE:
        assert (state[column].to_numpy() == opp[column].to_numpy()).all(), column
    assert (state.ForecastCategory.to_numpy() == opp.ForecastCategoryName.to_numpy()).all()
    for column in ("AccountId", "Name", "CreatedDate", "Type", "LeadSource", "Segment__c", "Product__c"):
        assert (full_opp.set_index("Id").loc[opp.Id, column].to_numpy() == opp[column].to_numpy()).all()
    full_tasks = read(full, "Task.csv")
    assert full_tasks[full_tasks.ActivityDate <= day].reset_index(drop=True).equals(tasks)
    full_users = read(full, "User.csv").set_index("Id")
    assert (full_users.loc[users.Id, "Name"].to_numpy() == users.Name.to_numpy()).all()
    # Owner changes: the cut holds those made by then, and replaying them gives the owner the cut export shows.
    changes, full_changes = read(cut_dir, "OpportunityFieldHistory.csv"), read(full, "OpportunityFieldHistory.csv")
    assert full_changes[full_changes.CreatedDate < late].reset_index(drop=True).equals(changes)
    assert (changes.DataType == "EntityId").sum() * 2 == len(changes)
    by_id = full_changes[full_changes.DataType == "EntityId"]
    assert by_id.NewValue.isin(full_users.index).all()
    # The owner at the cut: the last change made by then, else the first change's old owner, else today's.
    owner = full_opp.set_index("Id").OwnerId.copy()
    first_old = by_id.groupby("OpportunityId").OldValue.first()
    owner.loc[first_old.index] = first_old
    made = by_id[by_id.CreatedDate < late].groupby("OpportunityId").NewValue.last()
    owner.loc[made.index] = made
    owner = owner.loc[opp.Id]
    assert (owner.to_numpy() == opp.OwnerId.to_numpy()).all()


def test_cut_at_the_end_is_the_full_export_and_bad_arguments_are_refused(tmp_path: Path) -> None:
    config = DemoConfig(opportunities=1_000, start=date(2025, 1, 1), end=date(2025, 9, 30))
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config, cut_at=config.end)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    with pytest.raises(InputError):
        generate(tmp_path / "c", config, cut_at=date(2026, 1, 1))
    with pytest.raises(InputError):
        generate(tmp_path / "c", DemoConfig(slump=Slump(date(2024, 1, 1), segment="Galactic")))
    with pytest.raises(InputError):
        generate(tmp_path / "c", DemoConfig(opportunities=0))


@pytest.mark.slow
def test_fifty_thousand_opportunities_generate(tmp_path: Path) -> None:
    summary = generate(tmp_path, DemoConfig(opportunities=50_000, seed=1, fiscal_start_month=2))
    assert 45_000 < summary.opportunities < 55_000
    assert summary.history_rows > 4 * summary.opportunities
    quotas = read(tmp_path, "ForecastingQuota.csv")
    assert set(quotas.StartDate.str[5:7]) == {"02", "05", "08", "11"}
    assert np.isfinite(quotas.QuotaAmount.astype(float)).all()
