"""CloudWatch (moto), Spot pricing (botocore Stubber) and the interruption queue (moto SQS)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from autoscaler.aws import make_client
from autoscaler.config import PricingConfig
from autoscaler.model import Market
from autoscaler.prices import SpotHistory
from autoscaler.sources import SourceError
from autoscaler.sources.cloudwatch import CloudWatchReader
from autoscaler.sources.interruptions import InterruptionReader, parse_event
from autoscaler.sources.pricing import PriceBook

from .conftest import DATA

REGION = "us-east-1"
NOW = 1_700_000_000.0


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_SQS", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.mark.usefixtures("moto_env")
def test_cloudwatch_one_batched_call_newest_value() -> None:
    """All EMR metrics come from one GetMetricData call; the newest datapoint of each wins."""
    cw = boto3.client("cloudwatch", region_name=REGION)

    def put(name: str, value: float, age_s: float, cluster: str = "j-ABC") -> None:
        cw.put_metric_data(
            Namespace="AWS/ElasticMapReduce",
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "JobFlowId", "Value": cluster}],
                    "Timestamp": datetime.fromtimestamp(NOW - age_s, UTC),
                    "Value": value,
                }
            ],
        )

    put("YARNMemoryAvailablePercentage", 40.0, 600)
    put("YARNMemoryAvailablePercentage", 12.5, 60)
    put("AppsPending", 3.0, 120)
    put("AppsPending", 99.0, 60, cluster="j-OTHER")
    put("IsIdle", 0.0, 3600)  # outside the 15-minute window
    ops: list[str] = []
    reader = CloudWatchReader(make_client("cloudwatch", REGION, observer=lambda _s, op, _t, _e: ops.append(op)))
    got = reader.read("j-ABC", NOW)
    assert got == {"YARNMemoryAvailablePercentage": 12.5, "AppsPending": 3.0}
    assert ops == ["GetMetricData"]


def test_cloudwatch_error_is_source_error() -> None:
    """An API error is a SourceError naming the call."""
    client = boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error("get_metric_data", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(SourceError, match="get_metric_data: AccessDenied"):
            CloudWatchReader(client).read("j-ABC", NOW)


def _ec2() -> Any:
    return boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


def _spot_rows(*rows: tuple[str, str, str, float]) -> dict[str, Any]:
    return {
        "SpotPriceHistory": [
            {
                "AvailabilityZone": az,
                "InstanceType": t,
                "ProductDescription": "Linux/UNIX",
                "SpotPrice": price,
                "Timestamp": datetime.fromtimestamp(NOW - age, UTC),
            }
            for az, t, price, age in ((r[0], r[1], r[2], r[3]) for r in rows)
        ]
    }


def _quote(report: Any, itype: str, market: Market) -> Any:
    return next(q for q in report.quotes if q.instance_type == itype and q.market is market)


def test_pricebook_cheapest_az_latest_row_and_ttl() -> None:
    """Spot = cheapest AZ's latest price in the last hour; cached for spot_ttl_s; on-demand + EMR charge."""
    ec2 = _ec2()
    with Stubber(ec2) as stub:
        stub.add_response(
            "describe_spot_price_history",
            _spot_rows(
                ("us-east-1a", "m5.xlarge", "0.09", 3000),  # superseded by the newer 1a row
                ("us-east-1a", "m5.xlarge", "0.07", 100),
                ("us-east-1b", "m5.xlarge", "0.08", 200),
            ),
            {"InstanceTypes": ["m5.xlarge"], "ProductDescriptions": ["Linux/UNIX"], "StartTime": ANY, "EndTime": ANY},
        )
        book = PriceBook(PricingConfig(spot_ttl_s=300), {"m5.xlarge": 0.192}, ec2)
        report = book.quotes(["m5.xlarge"], NOW)
        assert report.error is None
        spot = _quote(report, "m5.xlarge", Market.SPOT)
        assert spot.ec2_usd_per_hour == 0.07
        assert spot.emr_usd_per_hour == 0.048
        od = _quote(report, "m5.xlarge", Market.ON_DEMAND)
        assert od.usd_per_hour == pytest.approx(0.24)
        # within the TTL: no second call (the stubber would fail on an unexpected call)
        assert _quote(book.quotes(["m5.xlarge"], NOW + 299), "m5.xlarge", Market.SPOT).ec2_usd_per_hour == 0.07
        stub.assert_no_pending_responses()


def test_pricebook_keeps_last_good_on_failure() -> None:
    """After the TTL a failed fetch reports an error but keeps the last good Spot price."""
    ec2 = _ec2()
    with Stubber(ec2) as stub:
        stub.add_response("describe_spot_price_history", _spot_rows(("us-east-1a", "m5.xlarge", "0.07", 10)))
        stub.add_client_error("describe_spot_price_history", service_error_code="RequestLimitExceeded")
        book = PriceBook(PricingConfig(spot_ttl_s=60), {"m5.xlarge": 0.192}, ec2)
        book.quotes(["m5.xlarge"], NOW)
        later = book.quotes(["m5.xlarge"], NOW + 120)
    assert later.error is not None
    assert "RequestLimitExceeded" in later.error
    spot = _quote(later, "m5.xlarge", Market.SPOT)
    assert spot.ec2_usd_per_hour == 0.07
    assert spot.observed_at == NOW


def test_pricebook_static_fallback_without_fetching() -> None:
    """With describe_spot_history off, Spot comes from the price file (last price when the file is older)."""
    history = SpotHistory.load(
        DATA / "prices" / "spot" / "ericpauley_2022-05-31_1820-2359Z_all-regions.tsv", region=REGION
    )
    cfg = PricingConfig(describe_spot_history=False)
    ec2 = _ec2()
    with Stubber(ec2):  # any call would fail: none is expected
        book = PriceBook(cfg, {"m5.xlarge": 0.192, "zz.none": 1.0}, ec2, history, advisor={"m5.xlarge": (4, 66.0)})
        report = book.quotes(["m5.xlarge", "zz.none", "no.ondemand"], NOW)
    spot = _quote(report, "m5.xlarge", Market.SPOT)
    assert spot.ec2_usd_per_hour == history.price_at("m5.xlarge", history.end)
    assert spot.interruption_band == 4
    assert {(q.instance_type, q.market) for q in report.quotes} == {
        ("m5.xlarge", Market.ON_DEMAND),
        ("m5.xlarge", Market.SPOT),
        ("zz.none", Market.ON_DEMAND),
    }


def _event(kind: str, instance: str, when: str, **detail: Any) -> str:
    return json.dumps(
        {"detail-type": kind, "source": "aws.ec2", "time": when, "detail": {"instance-id": instance, **detail}}
    )


def test_parse_event_variants() -> None:
    """Interruption warnings give 2 minutes; SNS-wrapped events parse; unrelated bodies are None."""
    warn = parse_event(
        _event(
            "EC2 Spot Instance Interruption Warning", "i-1", "2024-01-01T00:00:00Z", **{"instance-action": "terminate"}
        )
    )
    assert warn is not None
    assert warn.action == "terminate"
    assert warn.effective_at - warn.notice_at == 120
    wrapped = json.dumps(
        {
            "Type": "Notification",
            "Message": _event("EC2 Instance Rebalance Recommendation", "i-2", "2024-01-01T00:00:00Z"),
        }
    )
    rebalance = parse_event(wrapped)
    assert rebalance is not None
    assert rebalance.action == "rebalance"
    assert parse_event("not json") is None
    assert parse_event(json.dumps({"detail-type": "EC2 Instance State-change Notification", "detail": {}})) is None


@pytest.mark.usefixtures("moto_env")
def test_interruption_queue_drained_and_notices_expire() -> None:
    """Messages are read and deleted; notices are kept until effective_at passes."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="spot-events")["QueueUrl"]
    t0 = datetime.fromtimestamp(NOW, UTC).isoformat()
    sqs.send_message(
        QueueUrl=url,
        MessageBody=_event("EC2 Spot Instance Interruption Warning", "i-1", t0, **{"instance-action": "terminate"}),
    )
    sqs.send_message(QueueUrl=url, MessageBody="garbage")
    reader = InterruptionReader(make_client("sqs", REGION), url)
    (notice,) = reader.poll(NOW + 5)
    assert notice.instance_id == "i-1"
    assert reader.ignored_messages == 1
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "0"
    )
    assert reader.poll(NOW + 60) == (notice,)  # remembered without a new message
    assert reader.poll(NOW + 121) == ()
