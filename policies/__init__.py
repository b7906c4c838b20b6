"""Built-in scaling policies, registered through the `emr_autoscaler.policies` entry-point group."""
