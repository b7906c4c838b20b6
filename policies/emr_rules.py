"""`emr-rules`: an imitation of the default rules the EMR console proposes for automatic scaling with a
custom policy (instance groups, EMR 4.0+).

The console's default policy, as documented in "Using automatic scaling with a custom policy for
instance groups" (https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-automatic-scaling.html):
scale out by 1 instance when YARNMemoryAvailablePercentage is below 15 for one 5-minute evaluation
period, scale in by 1 instance when it is above 75 for one 5-minute period, each rule with a 300 s
cooldown (`SimpleScalingPolicyConfiguration.CoolDown`: "the amount of time, in seconds, after a
scaling activity completes before any further trigger-related scaling activities can start").
Custom-policy evaluation periods come only in five-minute increments (EMR "cluster scaling" overview,
https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-scale-on-demand.html).

How it is imitated: the metric is YARN's availableMB / totalMB x 100 (what EMR publishes as
YARNMemoryAvailablePercentage), averaged over the samples in `ctx.history` of the last evaluation
period (CloudWatch's Average statistic). Like a CloudWatch alarm with insufficient data, it does
nothing until the history covers a whole period. Each managed pool is its own "instance group with
the rule" and moves by `adjustment` units. Outside the thresholds, or in cooldown, it has no opinion
(an alarm that does not fire asks for nothing).

Timing, each rule with the sentence it follows:
- The cooldown counts from completion: CoolDown is "the amount of time, in seconds, after a scaling
  activity completes before any further trigger-related scaling activities can start"
  (SimpleScalingPolicyConfiguration, EMR API reference). So a pool does nothing while its resize is
  in flight (`autoscaler.settling`) nor until `cooldown_s` after it was seen complete, in either
  direction (one CoolDown per activity).
- Evaluation periods of five minutes: custom automatic scaling "You can define the evaluation
  periods only in five-minute increments." (EMR Management Guide, "Scaling cluster resources").
- No other waits: it runs under the "vendor" guard profile (designs/0004), so our scale-in
  confirmations, cooldown_up_s/cooldown_down_s and step limits do not apply unless the policy's
  `guards: ours` asks for them.

Options (console defaults): `scale_out_below_pct` 15, `scale_in_above_pct` 75, `evaluation_period_s`
300, `cooldown_s` 300, `adjustment` 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import Field, model_validator

from autoscaler.model import ClusterSnapshot, MetricSample, Recommendation, Rejection
from autoscaler.policy import PolicyContext
from policies._common import PolicyOptions, observed_since, parse_options, scalable, vendor_cooldown_left, window


class EmrRulesOptions(PolicyOptions):
    scale_out_below_pct: float = Field(15.0, ge=0, le=100, description="Add when average available % is below.")
    scale_in_above_pct: float = Field(75.0, ge=0, le=100, description="Remove when average available % is above.")
    evaluation_period_s: float = Field(300.0, gt=0, le=3600, description="Averaging period of the alarm, seconds.")
    cooldown_s: float = Field(
        300.0, ge=0, le=3600, description="Seconds after a resize of the pool completes before the next."
    )
    adjustment: int = Field(1, ge=1, le=100, description="Units added or removed per trigger.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.scale_in_above_pct <= self.scale_out_below_pct:
            raise ValueError("scale_in_above_pct: must be greater than scale_out_below_pct")
        return self


def average_available_pct(samples: Iterable[MetricSample]) -> float | None:
    """Mean of YARNMemoryAvailablePercentage over the samples that report it."""
    values = [v for s in samples if (v := s.yarn.memory_available_pct) is not None]
    return sum(values) / len(values) if values else None


class EmrRulesPolicy:
    """+adjustment below the low threshold, -adjustment above the high one, averaged, with cooldown."""

    name = "emr-rules"
    guard_profile = "vendor"

    def __init__(self, options: EmrRulesOptions) -> None:
        self.options = options

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        return cls(parse_options(EmrRulesOptions, options))

    def evaluate(self, snapshot: ClusterSnapshot, ctx: PolicyContext) -> Iterable[Recommendation | Rejection]:
        opts = self.options
        now = snapshot.taken_at
        if not observed_since(ctx.history, now - opts.evaluation_period_s):
            return []
        avg = average_available_pct(window(ctx.history, now, opts.evaluation_period_s))
        if avg is None:
            return []
        if avg < opts.scale_out_below_pct:
            step, rule = opts.adjustment, f"< {opts.scale_out_below_pct:g}"
        elif avg > opts.scale_in_above_pct:
            step, rule = -opts.adjustment, f"> {opts.scale_in_above_pct:g}"
        else:
            return []
        out: list[Recommendation | Rejection] = []
        for pool in scalable(ctx.managed_pools):
            if vendor_cooldown_left(ctx, [pool], opts.cooldown_s) is not None:
                continue
            current = pool.requested.total
            target = max(current + step, 0)
            if target == current:
                continue
            out.append(
                Recommendation(
                    policy=self.name,
                    pool_id=pool.pool_id,
                    target_units=target,
                    reason=f"YARNMemoryAvailablePercentage {avg:.1f} {rule} over {opts.evaluation_period_s:g} s: "
                    f"{step:+d}",
                )
            )
        return out
