"""The scorecard on the Maven CRM sample: products and sectors as dimensions, names normalised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.strategy.scorecard import ScoreRequest

from .conftest import shared_data

AS_OF = date(2017, 12, 31)


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seat]:
    folder = shared_data("maven-crm")
    with open_seat(Path(tmp_path_factory.mktemp("maven")) / "maven.duckdb") as seat:
        seat.ingest(IngestRequest(path=folder, mapping="maven"))
        yield seat


def test_products_and_sectors(maven: Seat) -> None:
    card = maven.strategy_score(ScoreRequest(as_of=AS_OF, by=("product",)))
    products = {c.product: c for c in card.cells}
    assert "GTX Pro" in products
    assert "GTXPro" not in products  # the pipeline's spelling is normalised to products.csv's
    assert len(products) == 7
    assert card.company.deals == sum(c.deals for c in card.cells)
    gtk = products["GTK 500"]
    assert (gtk.deals, gtk.won, gtk.recommendation, gtk.win_rate) == (25, 15, "insufficient-evidence", None)
    pro = products["GTX Pro"]
    assert (pro.deals, pro.won) == (1147, 729)
    assert pro.win_rate == pytest.approx(729 / 1147)
    # MG Special sells at $55 a unit: a velocity of a few hundred dollars a day against the median's tens of thousands
    special = products["MG Special"]
    assert special.recommendation == "deprioritise"
    assert special.rules_fired == ["deprioritise_velocity"]
    judged = [c for c in card.cells if c.recommendation != "insufficient-evidence"]
    assert len(judged) >= 5
    assert all(c.evidence.startswith(f"Won {c.won} of {c.deals} deals decided") for c in judged)

    sectors = maven.strategy_score(ScoreRequest(as_of=AS_OF, by=("product", "sector")))
    assert sectors.dimensions == ["product", "industry"]
    industries = {c.industry for c in sectors.cells}
    assert "technology" in industries
    assert "technolgy" not in industries
    assert sum(c.deals for c in sectors.cells) == card.company.deals
    assert all(c.segment is None for c in sectors.cells)
    assert {c.recommendation for c in sectors.cells} >= {"insufficient-evidence"}


def test_maven_has_no_motion_or_channel_and_a_short_trend(maven: Seat) -> None:
    card = maven.strategy_score(ScoreRequest(as_of=AS_OF))
    assert {(c.motion, c.channel) for c in card.cells} == {("Unknown", "Unknown")}
    assert {c.segment for c in card.cells} <= {"GTX", "MG", "GTK"}
    # fifteen months of deals: the four quarters before the last four hold nothing decided
    assert card.company.trend.direction == "insufficient-evidence"
    assert card.company.trend.prior_deals == 0
