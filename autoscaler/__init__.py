"""emr-autoscaler: a cost-optimizing, explainable autoscaler for Amazon EMR."""

__version__ = "0.1.0"
