"""On-demand table, EMR charge, Spot history replay and Spot Advisor bands."""

from __future__ import annotations

import csv
import time
from datetime import datetime
from pathlib import Path

import pytest

from autoscaler.prices import (
    SpotHistory,
    az_in_region,
    emr_charge_usd_per_hour,
    load_ondemand_table,
    load_spot_advisor,
    parse_ondemand_csv,
)

from .conftest import DATA

SPOT = DATA / "prices" / "spot"
FIVEGT = SPOT / "5gt_eu-west-3a_spot_2020-02-29_to_2020-07-31.csv"
PAULEY = SPOT / "ericpauley_2022-05-31_1820-2359Z_all-regions.tsv"


def _ts(s: str) -> float:
    return datetime.fromisoformat(s).timestamp()


def test_bundled_ondemand_matches_shared_source() -> None:
    """The bundled table holds the same prices as the shared Karpenter-generated file for its types."""
    bundled = load_ondemand_table()
    source = load_ondemand_table(DATA / "prices" / "ondemand" / "ec2_ondemand_linux_us-east-1_karpenter_2026-07-20.csv")
    assert bundled["m5.xlarge"] == 0.192
    assert bundled["r5.xlarge"] == 0.252
    assert bundled["c5.xlarge"] == 0.17
    assert {"m6g.xlarge", "r6g.2xlarge", "c6g.4xlarge", "m5d.xlarge"} <= bundled.keys()
    assert all(source[t] == p for t, p in bundled.items())


def test_ondemand_parse_error_names_row() -> None:
    """A malformed price row is reported with its row number."""
    with pytest.raises(ValueError, match="row 3"):
        parse_ondemand_csv("instance_type,region,ondemand_usd_per_hour\na.x,r,1.0\nb.x,r,abc\n")


def test_emr_charge_published_override_and_fallback() -> None:
    """Overrides beat published figures, which beat 25% of on-demand."""
    assert emr_charge_usd_per_hour("m5.xlarge", 0.192) == 0.048
    assert emr_charge_usd_per_hour("r5.xlarge", 0.252) == 0.063
    assert emr_charge_usd_per_hour("c5.xlarge", 0.17) == 0.043
    assert emr_charge_usd_per_hour("m5.xlarge", 0.192, {"m5.xlarge": 0.05}) == 0.05
    assert emr_charge_usd_per_hour("m7g.xlarge", 0.1632) == pytest.approx(0.0408)


def _last_linux_row(path: Path, delimiter: str, itype: str, az: str, t: float) -> float | None:
    """Independent reading of the file: the latest Linux/UNIX row at or before t."""
    best: tuple[float, float] | None = None
    with path.open() as f:
        for rec in csv.reader(f, delimiter=delimiter):
            if rec[0] == "AvailabilityZone" or rec[1] != itype or rec[0] != az or rec[2] != "Linux/UNIX":
                continue
            at = _ts(rec[4])
            if at <= t and (best is None or at >= best[0]):
                best = (at, float(rec[3]))
    return best[1] if best else None


def test_5gt_csv_replays_rows() -> None:
    """The 5gt CSV: a price holds from its row until the next row of the same AZ/type/product."""
    h = SpotHistory.load(FIVEGT)
    assert "c5.2xlarge" in h.instance_types()
    assert h.start < h.end
    t = _ts("2020-05-15T12:00:00+00:00")
    expected = _last_linux_row(FIVEGT, ",", "c5.2xlarge", "eu-west-3a", t)
    assert expected is not None
    assert h.price_at("c5.2xlarge", t, "eu-west-3a") == expected
    assert h.price_at("c5.2xlarge", t) == expected  # one AZ: cheapest is that AZ
    assert h.price_at("c5.2xlarge", h.start - 1) is None
    assert h.price_at("no.such", t) is None


def test_pauley_tsv_cheapest_az_and_region_filter() -> None:
    """The headerless TSV: cheapest AZ of a region at t, AZ ids mapped to their region."""
    h = SpotHistory.load(PAULEY, region="us-east-1")
    assert all(az.startswith("use1-") for az in h.availability_zones("m5.xlarge"))
    # rows in the file: use1-az5 0.0696 @20:18:01, use1-az4 0.0680 @20:56:46, use1-az1 0.0717 @21:35:19
    assert h.price_at("m5.xlarge", _ts("2022-05-31T20:30:00+00:00")) == 0.0696
    assert h.price_at("m5.xlarge", _ts("2022-05-31T21:40:00+00:00")) == 0.068
    assert h.price_at("m5.xlarge", _ts("2022-05-31T21:40:00+00:00"), "use1-az1") == 0.0717
    t = _ts("2022-05-31T22:00:00+00:00")
    assert h.price_at("r5.2xlarge", t, "use1-az2") == _last_linux_row(PAULEY, "\t", "r5.2xlarge", "use1-az2", t)
    everywhere = SpotHistory.load(PAULEY)
    assert len(everywhere.instance_types()) > len(h.instance_types()) // 2


def test_az_in_region() -> None:
    """AZ names and AZ ids both resolve to their region."""
    assert az_in_region("us-east-1a", "us-east-1")
    assert az_in_region("use1-az4", "us-east-1")
    assert az_in_region("apse2-az1", "ap-southeast-2")
    assert az_in_region("euw3-az2", "eu-west-3")
    assert not az_in_region("use2-az1", "us-east-1")
    assert not az_in_region("us-east-2a", "us-east-1")


def test_price_at_is_fast() -> None:
    """100k cheapest-AZ lookups take well under a second (the simulator calls this per billing step)."""
    h = SpotHistory.load(PAULEY, region="us-east-1")
    t0, span = h.start, h.end - h.start
    h.price_at("m5.xlarge", t0)
    started = time.perf_counter()
    for i in range(100_000):
        h.price_at("m5.xlarge", t0 + (i % 1000) * span / 1000)
    assert time.perf_counter() - started < 1.0


def test_malformed_spot_row_names_line() -> None:
    """A bad price row is reported with the file and line number."""
    with pytest.raises(ValueError, match=r"f\.csv:2"):
        SpotHistory.parse(
            "eu-west-3a,m5.xlarge,Linux/UNIX,0.1,2020-01-01T00:00:00+00:00\nx,y,Linux/UNIX,abc,zz\n", "f.csv"
        )


def test_spot_advisor_bands() -> None:
    """Spot Advisor gives (band, savings) per type for the region."""
    adv = load_spot_advisor(DATA / "prices" / "spot_interruption" / "spot-advisor-data_spotinfo_2025-06-28.json")
    assert adv["m5.xlarge"] == (4, 66.0)
    assert all(0 <= band <= 4 for band, _ in adv.values())
