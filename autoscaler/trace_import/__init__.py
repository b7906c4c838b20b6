"""`emr-autoscaler trace import`: a cluster's history (a ResourceManager, Spark event logs) as a native trace.

It lives outside `autoscaler.sim` because its sources do I/O the simulator must never do: the YARN
source reads through the daemon's `YarnClient` (its TLS CA bundle, Kerberos and RM HA), and Spark
event logs may sit in S3. The simulator only ever sees the JSONL trace it writes.
"""
