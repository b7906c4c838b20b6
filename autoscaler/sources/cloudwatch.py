"""CloudWatch reader: EMR's own cluster metrics in one batched GetMetricData call per tick.

EMR publishes AWS/ElasticMapReduce metrics every five minutes, so each is read as the latest
5-minute average within the last 15 minutes; policies that imitate EMR's automatic scaling rules
(which alarm on these same figures) read them from `snapshot.cloudwatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

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


class CloudWatchReader:
    """Reads the cluster's EMR metrics; values are the newest datapoint of each metric."""

    def __init__(self, client: Any, metrics: Sequence[str] = DEFAULT_METRICS) -> None:
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
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": datetime.fromtimestamp(now - LOOKBACK_S, UTC),
            "EndTime": datetime.fromtimestamp(now, UTC),
            "ScanBy": "TimestampDescending",
        }
        names = {f"m{i}": name for i, name in enumerate(self._metrics)}
        out: dict[str, float] = {}
        try:
            while True:
                resp = self._cw.get_metric_data(**kwargs)
                for result in resp.get("MetricDataResults", []):
                    name = names.get(result.get("Id", ""))
                    stamps, values = result.get("Timestamps", []), result.get("Values", [])
                    if name and values and name not in out:
                        newest = max(range(len(values)), key=lambda k: stamps[k] if k < len(stamps) else 0)
                        out[name] = float(values[newest])
                token = resp.get("NextToken")
                if not token:
                    return out
                kwargs["NextToken"] = token
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "?")
            raise SourceError(f"cloudwatch get_metric_data: {code}") from err
        except BotoCoreError as err:
            raise SourceError(f"cloudwatch get_metric_data: {type(err).__name__}: {err}") from err
