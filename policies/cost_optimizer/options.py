"""`cost-optimizer`'s options. Every default holds on every trace (none is tuned to one), and every
numeric option declares its range: `tune` derives its search space from these bounds."""

from __future__ import annotations

from pydantic import Field

from policies._common import PolicyOptions

#: Requested → YARN-running when the pool has not been watched booting yet: EMR's 5–6 minutes.
DEFAULT_BOOT_S = 330.0


class CostOptimizerOptions(PolicyOptions):
    target_p95_wait_s: float = Field(
        300, ge=0, le=3600, description="p95 job wait (submit to first container) to hold at the least spend."
    )
    budget_usd_per_hour: float | None = Field(
        None, gt=0, le=1_000_000, description="Ceiling on the estimated spend rate that scale-up never crosses."
    )
    count_vcores: bool = Field(
        False, description="Pack vcores too (true: DominantResourceCalculator); EMR's default places by memory."
    )
    price_improvement_factor: float = Field(
        1.15, ge=1, le=3, description="Leave the pool capacity is bought on only for one this much cheaper."
    )
    rerun_s: float = Field(
        900, ge=0, le=7200, description="Work lost per Spot interruption (killed containers re-run), node-seconds."
    )
    default_boot_s: float = Field(
        DEFAULT_BOOT_S, ge=0, le=3600, description="Boot assumed until a pool's own boots have been measured."
    )
    trend_window_s: float = Field(
        180, ge=30, le=1800, description="History the containers' completion rate (throughput) is measured over."
    )
    arrival_window_s: float = Field(
        900,
        ge=60,
        le=7200,
        description="History the job rate (buffer) and the rate of new asks (backlog) are measured over.",
    )
    rebuy_probability: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Chance a released idle node is bought back within its idle stretch: weighs a boot in "
        "scale-in's cost. 1 keeps an idle node until its idle time has paid for a re-purchase (the "
        "ski-rental rule: never more than twice the hindsight cost of that choice).",
    )
    min_decommission_timeout_s: int = Field(
        300, ge=0, le=86400, description="Least ShrinkPolicy DecommissionTimeout, raised to victims' remaining work."
    )
