"""CloudWatch reader: EMR's own cluster metrics in one batched GetMetricData call per tick.

EMR publishes AWS/ElasticMapReduce metrics every five minutes, so each is read as the latest
5-minute average within the last 15 minutes; policies that imitate EMR's automatic scaling rules
(which alarm on these same figures) read them from `snapshot.cloudwatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from autoscaler.ports import CloudWatchPort
from autoscaler.sources import SourceError

NAMESPACE = "AWS/ElasticMapReduce"

DEFAULT_METRICS: tuple[str, ...] = (
    "YARNMemoryAvailablePercentage",
    "ContainerPendingRatio",
    "ContainerPending",
    "ContainerAllocated",
    "AppsPending",
    "AppsRunning",
    "IsIdle",
    "HDFSUtilization",
    "CapacityRemainingGB",
    "MRUnhealthyNodes",
    "MRLostNodes",
)

PERIOD_S = 300
LOOKBACK_S = 900
SCAN_BY = "TimestampDescending"


class CloudWatchReader:
    """Reads the cluster's EMR metrics; values are the newest datapoint of each metric."""

    def __init__(self, client: CloudWatchPort, metrics: Sequence[str] = DEFAULT_METRICS) -> None:
        self._cw = client
        self._metrics = tuple(metrics)

    def read(self, cluster_id: str, now: float) -> dict[str, float]:
        queries = [
            {
                "Id": f"m{i}",
                "Label": name,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": name,
                        "Dimensions": [{"Name": "JobFlowId", "Value": cluster_id}],
                    },
                    "Period": PERIOD_S,
                    "Stat": "Average",
                },
                "ReturnData": True,
            }
            for i, name in enumerate(self._metrics)
        ]
        start, end = datetime.fromtimestamp(now - LOOKBACK_S, UTC), datetime.fromtimestamp(now, UTC)
        names = {f"m{i}": name for i, name in enumerate(self._metrics)}
        out: dict[str, float] = {}
        try:
            token: str | None = None
            while True:
                resp = (
                    self._cw.get_metric_data(
                        MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy=SCAN_BY, NextToken=token
                    )
                    if token
                    else self._cw.get_metric_data(
                        MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy=SCAN_BY
                    )
                )
                for result in resp.get("MetricDataResults", []):
                    name = names.get(result.get("Id", ""))
                    stamps, values = result.get("Timestamps", []), result.get("Values", [])
                    if name and values and name not in out:
                        newest = max(range(len(values)), key=lambda k: stamps[k] if k < len(stamps) else 0)
                        out[name] = float(values[newest])
                token = resp.get("NextToken")
                if not token:
                    return out
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "?")
            raise SourceError(f"cloudwatch get_metric_data: {code}") from err
        except BotoCoreError as err:
            raise SourceError(f"cloudwatch get_metric_data: {type(err).__name__}: {err}") from err
