"""The market sections of a cluster's config: how it buys Spot (`spot:`) and what it pays (`pricing:`);
apart from `config.py` to keep each module short. Keys are a contract: extend, never rename.
"""

from __future__ import annotations

from pydantic import Field

from autoscaler.config_daemon import DAY_S, WEEK_S, Strict


class SpotConfig(Strict):
    prefer_spot: bool = Field(True, description="Scale task fleets/groups on Spot when a Spot pool exists.")
    on_demand_base_units: int = Field(0, ge=0, description="Fleet units kept on-demand before any Spot.")
    max_interruption_band: int = Field(
        4,
        ge=0,
        le=4,
        description=(
            "Don't grow a Spot group whose type is above this Spot Advisor band (0 <5% .. 4 >20%) while an"
            " on-demand group of the same role has room. Default 4 allows every band: EMR task nodes"
            " tolerate interruptions, and a lower limit leaves demand to the on-demand group."
        ),
    )
    replace_on_notice: bool = Field(
        True,
        description=(
            "On a two-minute Spot warning for an instance of a managed pool, raise the pool at once by the"
            " noticed units (counted against the policies' target, not on top of it) and lower it again when"
            " the instance is gone, cancelling the unit EMR launches to refill it (README, Spot interruptions)."
            " Needs interruptions_queue_url (the simulator has its own notices)."
        ),
    )
    failover_after_notices: int = Field(
        3,
        ge=1,
        le=1000,
        description=(
            "After this many two-minute warnings in one pool within failover_window_s, its replacements are"
            " bought in another managed pool of the same role (cheapest known $/unit with room: a Spot pool of"
            " another type, an on-demand group, or a fleet's on-demand side) and its own units are given back."
        ),
    )
    failover_window_s: float = Field(
        1800, gt=0, le=DAY_S, description="The window spot.failover_after_notices counts warnings in."
    )


class PricingConfig(Strict):
    ondemand_file: str | None = Field(
        None, description="CSV instance_type,region,ondemand_usd_per_hour; default: bundled table."
    )
    emr_charge_usd_per_hour: dict[str, float] = Field(
        default_factory=dict, description="EMR charge per type; default 25% of on-demand, published figures built in."
    )
    spot_price_file: str | None = Field(None, description="Static Spot fallback (DescribeSpotPriceHistory CSV/TSV).")
    spot_advisor_file: str | None = Field(
        None,
        description="Spot Advisor JSON (spot-advisor-data.json) giving each Spot type's interruption band for "
        "spot.max_interruption_band; default: bundled us-east-1 Linux slice (2025-06-28), no bands elsewhere.",
    )
    spot_ttl_s: float = Field(300, gt=0, le=WEEK_S, description="How long a fetched Spot price is reused.")
    describe_spot_history: bool = Field(
        True, description="Fetch DescribeSpotPriceHistory; false uses spot_price_file or on-demand prices only."
    )
