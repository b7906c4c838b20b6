"""`cost-optimizer`: one small pure module per component (see `policy`)."""

from policies.cost_optimizer.policy import CostOptimizerPolicy

__all__ = ["CostOptimizerPolicy"]
