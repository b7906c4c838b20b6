from __future__ import annotations

from pathlib import Path

import pytest

from autoscaler.model import Market, PoolRole
from autoscaler.sim.billing import PriceBook
from autoscaler.sim.cluster import SimCluster
from autoscaler.sim.spec import ClusterSpec, PoolSpec, group

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# m5.xlarge: EC2 0.192 + EMR 0.048 (AWS's published EMR charge) = 0.24 USD/h
PRICES = {"m5.xlarge": 0.192, "m5.2xlarge": 0.384}


def book(spec: ClusterSpec) -> PriceBook:
    return PriceBook(PRICES, start_at=spec.start_at, spot_price_fraction=0.5)


def spec_with(*pools: PoolSpec, **kw: object) -> ClusterSpec:
    master = group("ig-master", PoolRole.MASTER, Market.ON_DEMAND, 1)
    return ClusterSpec(pools=(master, *pools), boot_s=(300.0, 300.0), **kw)  # type: ignore[arg-type]


def cluster(spec: ClusterSpec, seed: int = 0) -> SimCluster:
    return SimCluster(spec, book(spec), seed=seed)


@pytest.fixture
def data() -> Path:
    return DATA
