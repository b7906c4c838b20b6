"""`interruption_band: advisor`: per-instance-type Spot interruption hazards from the Spot Advisor feed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from autoscaler.model import Market
from autoscaler.prices import load_ondemand_table, load_spot_advisor
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.command import load_sim_config
from autoscaler.sim.spec import ClusterSpec, SpecError, band_hazard_per_s, parse_spec

DAY_S = 24 * 3600.0


def _spot_pools(*types: str, initial: int = 0) -> list[dict[str, Any]]:
    pools: list[dict[str, Any]] = [{"id": "ig-master", "role": "MASTER", "initial": 1}]
    pools += [
        {"id": f"ig-{t.replace('.', '-')}", "role": "TASK", "market": "SPOT", "types": [t], "initial": initial}
        for t in types
    ]
    return pools


def _cluster(spec: ClusterSpec, seed: int = 7) -> SimCluster:
    return SimCluster(spec, PriceBook(load_ondemand_table(), start_at=spec.start_at), seed=seed)


def test_default_and_numeric_bands_are_unchanged() -> None:
    """Without the key the band is 1 for every type; a number still applies to every type."""
    assert parse_spec({}).interruption_band == 1
    assert parse_spec({}).advisor_bands == ()
    spec = parse_spec({"interruption_band": 3, "pools": _spot_pools("m5.xlarge", "c5.xlarge")})
    assert {spec.band(p, p.instance_types[0]) for p in spec.pools} == {3}


def test_advisor_reads_each_types_band_from_the_bundled_feed() -> None:
    """`advisor` gives m5.xlarge and c5.xlarge the bands the bundled us-east-1 feed lists for them."""
    feed = load_spot_advisor()
    spec = parse_spec({"interruption_band": "advisor", "pools": _spot_pools("m5.xlarge", "c5.xlarge")})
    bands = {p.instance_types[0]: spec.band(p, p.instance_types[0]) for p in spec.pools[1:]}
    assert bands == {"m5.xlarge": feed["m5.xlarge"][0], "c5.xlarge": feed["c5.xlarge"][0]}
    assert bands["m5.xlarge"] != bands["c5.xlarge"]


def test_advisor_reads_a_given_feed_file(tmp_path: Path) -> None:
    """`spot_advisor_file` replaces the bundled feed; a pool's own band still wins over it."""
    path = tmp_path / "advisor.json"
    feed = {"spot_advisor": {"eu-west-1": {"Linux": {"m5.xlarge": {"r": 0, "s": 70}, "c5.xlarge": {"r": 3, "s": 60}}}}}
    path.write_text(json.dumps(feed))
    pools = _spot_pools("m5.xlarge", "c5.xlarge")
    pools[1]["interruption_band"] = 2
    spec = parse_spec(
        {
            "interruption_band": "advisor",
            "spot_advisor_file": str(path),
            "spot_advisor_region": "eu-west-1",
            "pools": pools,
        }
    )
    assert [spec.band(p, p.instance_types[0]) for p in spec.pools[1:]] == [2, 3]


@pytest.mark.parametrize(
    ("sim", "message"),
    [
        ({"interruption_band": "advisor", "pools": _spot_pools("x9.nonexistent")}, "x9.nonexistent"),
        ({"interruption_band": "advisor", "spot_advisor_file": "/nonexistent/feed.json"}, "/nonexistent/feed.json"),
        ({"interruption_band": 1, "spot_advisor_file": "feed.json"}, "only read with interruption_band: advisor"),
        ({"interruption_band": "high"}, "a band 0..4 or 'advisor'"),
    ],
)
def test_bad_advisor_settings_name_the_problem(sim: dict[str, Any], message: str) -> None:
    """A Spot type the feed lacks, an unreadable feed, a feed without `advisor`, or a word for a band is a SpecError."""
    with pytest.raises(SpecError, match=message.replace(".", r"\.")):
        parse_spec(sim)


def test_band_4_type_is_interrupted_more_than_band_0_type() -> None:
    """Over 60 seeded days, 20 Spot m5.xlarge (band 4) are reclaimed several times as often as 20 c5.xlarge (band 0)."""
    spec = parse_spec({"interruption_band": "advisor", "pools": _spot_pools("m5.xlarge", "c5.xlarge", initial=20)})
    assert {spec.band(p, p.instance_types[0]) for p in spec.pools[1:]} == {4, 0}
    cluster = _cluster(spec)
    cluster.advance_to(spec.start_at + 60 * DAY_S)
    high, low = cluster.interrupted["m5.xlarge"], cluster.interrupted["c5.xlarge"]
    # expected reclaims: 20 nodes x 2 months x -ln(1 - rate): band 4 (25%) ~11.5, band 0 (2.5%) ~1.0
    assert high >= 5
    assert high > 3 * low
    assert cluster.interruptions == high + low


def test_numeric_band_gives_both_types_one_hazard() -> None:
    """With the default band both types' Spot nodes share one hazard; with `advisor` band 4's is ten times band 0's."""
    pools = _spot_pools("m5.xlarge", "c5.xlarge")
    numeric = _cluster(parse_spec({"pools": pools}))
    assert numeric.pools["ig-m5-xlarge"].hazards == {"m5.xlarge": band_hazard_per_s(1)}
    assert numeric.pools["ig-c5-xlarge"].hazards == {"c5.xlarge": band_hazard_per_s(1)}
    advisor = _cluster(parse_spec({"interruption_band": "advisor", "pools": pools}))
    high, low = advisor.pools["ig-m5-xlarge"].hazards["m5.xlarge"], advisor.pools["ig-c5-xlarge"].hazards["c5.xlarge"]
    assert high / low > 10  # -ln(0.75) / -ln(0.975) = 11.4


def test_snapshot_quotes_carry_the_per_type_band() -> None:
    """The daemon-facing Spot quotes show each type's advisor band, as the daemon's own sources would."""
    spec = parse_spec(
        {
            "interruption_band": "advisor",
            "pools": [
                {"id": "ig-master", "role": "MASTER", "initial": 1},
                {"id": "if-task", "role": "TASK", "kind": "INSTANCE_FLEET", "types": ["m5.xlarge", "c5.xlarge"]},
            ],
        }
    )
    snapshot = _cluster(spec).snapshot()
    assert snapshot.price("m5.xlarge", Market.SPOT).interruption_band == 4  # type: ignore[union-attr]
    assert snapshot.price("c5.xlarge", Market.SPOT).interruption_band == 0  # type: ignore[union-attr]


def test_benchmark_config_uses_the_advisor_bands() -> None:
    """bench/fb2009-advisor.yaml differs from bench/fb2009.yaml only in taking m5.xlarge's band (4) from the feed."""
    bench = Path(__file__).resolve().parents[2] / "bench"
    app, spec = load_sim_config(str(bench / "fb2009-advisor.yaml"))
    base_app, base = load_sim_config(str(bench / "fb2009.yaml"))
    assert app == base_app
    assert dict(spec.advisor_bands)["m5.xlarge"] == 4
    assert (base.interruption_band, base.advisor_bands) == (1, ())
    assert replace(spec, advisor_bands=()) == base
