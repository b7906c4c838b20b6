"""Billing is exact for any tick: Spot prices are integrated from the second they change, in one AZ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoscaler.model import Market
from autoscaler.prices import SpotHistory
from autoscaler.sim.billing import Ledger, PriceBook, choose_zone
from autoscaler.sim.command import main

from .conftest import PRICES

T0 = "2022-05-31T18:00:00+00:00"


def _rows(*rows: tuple[str, str, float, str]) -> str:
    return "".join(f"{az}\t{itype}\tLinux/UNIX\t{price}\t{ts}\n" for az, itype, price, ts in rows)


_SPIKE = _rows(
    ("use1-az1", "m5.xlarge", 0.077, T0),
    ("use1-az1", "m5.xlarge", 0.087, "2022-05-31T18:05:30+00:00"),  # +330 s
    ("use1-az1", "m5.xlarge", 0.077, "2022-05-31T18:08:00+00:00"),  # +480 s
    ("use1-az1", "m5.xlarge", 0.077, "2022-05-31T21:00:00+00:00"),  # keeps the history from wrapping
)
_CONFIG = """
poll_interval_s: 600
clusters:
  - cluster_id: j-BILLING
    yarn: {urls: ["http://simulated:8088"]}
    policies: [{type: pending-demand}]
sim:
  interruptions: false
  pools: [{id: ig-core, role: CORE, market: SPOT, types: [m5.xlarge], initial: 1}]
"""
_TASK = {"tasks": 1, "memory_mb": 1024, "vcores": 1, "task_s": 8000}
_TRACE = json.dumps({"id": "long", "submit_s": 0, "am": None, "stages": [_TASK]})


def _simulate(tmp_path: Path, spot: str, config: str = _CONFIG) -> dict[str, object]:
    (tmp_path / "t.jsonl").write_text(_TRACE + "\n")
    (tmp_path / "spot.tsv").write_text(spot)
    (tmp_path / "c.yaml").write_text(config)
    report = tmp_path / "r.json"
    argv = ["--trace", str(tmp_path / "t.jsonl"), "--policy", "pending-demand", "--config", str(tmp_path / "c.yaml")]
    assert main([*argv, "--spot-prices", str(tmp_path / "spot.tsv"), "--report", str(report)]) == 0
    doc: dict[str, object] = json.loads(report.read_text())
    return doc


def test_price_change_at_330_s_with_600_s_ticks_is_billed_from_that_second(tmp_path: Path) -> None:
    """One Spot m5.xlarge core node, 600 s ticks, one 8,000 s task: the run ends at the tick at 8,400 s.

    EMR charges $0.048/h; Spot is $0.077/h, except $0.087/h from 330 s to 480 s.
    Exact: 8400 s x (0.077 + 0.048) $/h + 150 s x 0.010 $/h = (1050 + 1.5) / 3600 = $0.292083.
    Billing each tick at the price at its start would charge 8400 x 0.125 / 3600 = $0.291667:
    the 150 s spike falls inside the first tick and is missed.
    """
    doc = _simulate(tmp_path, _SPIKE)
    (result,) = doc["results"]  # type: ignore[misc]
    assert result["simulated_s"] == 8400.0
    assert result["cost_usd"] == pytest.approx(0.292083, abs=5e-7)
    assert doc["availability_zone"] == "use1-az1"


def _book(text: str, **kw: object) -> PriceBook:
    return PriceBook(PRICES, spot_history=SpotHistory.parse(text), start_at=1000.0, **kw)  # type: ignore[arg-type]


def test_sub_minute_price_steps_are_not_snapped_to_a_minute_grid() -> None:
    """A 10 s price of $1.00/h at 35..45 s is charged for exactly 10 s, and read at 40 s."""
    text = _rows(
        ("use1-az1", "m5.xlarge", 0.1, T0),
        ("use1-az1", "m5.xlarge", 1.0, "2022-05-31T18:00:35+00:00"),
        ("use1-az1", "m5.xlarge", 0.1, "2022-05-31T18:00:45+00:00"),
    )
    book = _book(text)
    assert book.ec2("m5.xlarge", Market.SPOT, 1000.0 + 40) == 1.0
    assert book.ec2("m5.xlarge", Market.SPOT, 1000.0 + 30) == 0.1
    spot = book.usd("m5.xlarge", Market.SPOT, 1000.0, 1000.0 + 100) - 0.048 * 100 / 3600
    assert spot == pytest.approx((90 * 0.1 + 10 * 1.0) / 3600)


def test_history_repeats_a_minute_after_its_last_row() -> None:
    """Rows at 0 s ($0.10) and 60 s ($0.20): one cycle is 120 s, so 120..180 s is $0.10 again."""
    text = _rows(("use1-az1", "m5.xlarge", 0.1, T0), ("use1-az1", "m5.xlarge", 0.2, "2022-05-31T18:01:00+00:00"))
    book = _book(text)
    spot = book.usd("m5.xlarge", Market.SPOT, 1000.0, 1000.0 + 240) - 0.048 * 240 / 3600
    assert spot == pytest.approx((60 * 0.1 + 60 * 0.2 + 60 * 0.1 + 60 * 0.2) / 3600)
    assert book.ec2("m5.xlarge", Market.SPOT, 1000.0 + 150) == 0.1


def test_a_node_under_a_minute_pays_the_first_minutes_prices() -> None:
    """Closed after 10 s, a node pays 0..60 s: 30 s at $0.10 and 30 s at $0.70 (plus EMR)."""
    text = _rows(("use1-az1", "m5.xlarge", 0.1, T0), ("use1-az1", "m5.xlarge", 0.7, "2022-05-31T18:00:30+00:00"))
    ledger = Ledger(_book(text))
    ledger.open("n", "m5.xlarge", Market.SPOT, 1000.0)
    assert ledger.close("n", 1010.0) == pytest.approx((30 * 0.1 + 30 * 0.7 + 60 * 0.048) / 3600)


_TWO_AZ = _rows(
    ("use1-az2", "m5.xlarge", 0.05, T0),
    ("use1-az2", "m5.2xlarge", 0.30, T0),
    ("use1-az1", "m5.xlarge", 0.09, T0),  # az1 sorts first but has no m5.2xlarge row
    ("use1-az3", "m5.xlarge", 0.01, T0),  # az3 is cheaper; cheapest-AZ billing would take it
    ("use1-az3", "m5.2xlarge", 0.02, T0),
)


def test_default_zone_is_the_first_in_sort_order_with_every_spot_type() -> None:
    """Spot types m5.xlarge and m5.2xlarge: use1-az1 lacks one, so use1-az2 (not the cheaper az3)."""
    history = SpotHistory.parse(_TWO_AZ)
    assert choose_zone(history, ["m5.xlarge", "m5.2xlarge"]) == "use1-az2"
    assert choose_zone(history, ["m5.xlarge"]) == "use1-az1"
    assert choose_zone(history, ["m5.xlarge", "c5.xlarge"]) == "use1-az1"  # types without any row are ignored
    book = PriceBook(PRICES, spot_history=history, spot_types=["m5.xlarge", "m5.2xlarge"])
    assert book.availability_zone == "use1-az2"
    assert book.ec2("m5.xlarge", Market.SPOT, 0.0) == 0.05
    assert book.min_usd_per_hour("m5.2xlarge", Market.SPOT) == pytest.approx(0.30 + 0.096)


def test_configured_zone_is_used_and_reported(tmp_path: Path) -> None:
    """`sim.availability_zone: use1-az3` bills az3's price; the report says which AZ."""
    config = _CONFIG.replace("interruptions: false", "interruptions: false\n  availability_zone: use1-az3")
    doc = _simulate(tmp_path, _TWO_AZ, config)
    (result,) = doc["results"]  # type: ignore[misc]
    assert doc["availability_zone"] == "use1-az3"
    assert result["cost_usd"] == pytest.approx(8400 * (0.01 + 0.048) / 3600, abs=1e-6)


def test_unknown_zone_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.jsonl").write_text(_TRACE + "\n")
    (tmp_path / "spot.tsv").write_text(_TWO_AZ)
    (tmp_path / "c.yaml").write_text(
        _CONFIG.replace("interruptions: false", "interruptions: false\n  availability_zone: use1-az9")
    )
    argv = ["--trace", str(tmp_path / "t.jsonl"), "--policy", "pending-demand", "--config", str(tmp_path / "c.yaml")]
    assert main([*argv, "--spot-prices", str(tmp_path / "spot.tsv"), "--report", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "sim.availability_zone: availability zone 'use1-az9' has no Spot price rows" in err
    assert "Traceback" not in err


def test_history_types_without_an_on_demand_price_are_ignored_until_asked_for() -> None:
    """A price file covers every type of a region; only the cluster's types need an on-demand price."""
    text = _TWO_AZ + _rows(("use1-az2", "c1.exotic", 0.5, "2022-05-31T18:10:00+00:00"))
    book = PriceBook(PRICES, spot_history=SpotHistory.parse(text), spot_types=["m5.xlarge"])
    assert book.ec2("m5.xlarge", Market.SPOT, 0.0) == 0.09


def test_price_file_without_rows_for_the_region_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A price file of another region would silently bill the fallback fraction: it is refused instead."""
    (tmp_path / "t.jsonl").write_text(_TRACE + "\n")
    (tmp_path / "spot.tsv").write_text(_rows(("euw3-az1", "m5.xlarge", 0.05, T0)))
    (tmp_path / "c.yaml").write_text(_CONFIG)
    argv = ["--trace", str(tmp_path / "t.jsonl"), "--policy", "pending-demand", "--config", str(tmp_path / "c.yaml")]
    assert main([*argv, "--spot-prices", str(tmp_path / "spot.tsv"), "--report", str(tmp_path / "r.json")]) == 2
    assert "no Linux/UNIX rows for region us-east-1" in capsys.readouterr().err
