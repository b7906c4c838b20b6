"""Compressed and S3-held Spark event logs: built from the real fixture (tests/fixtures/spark-events/README.md)
by compressing it as Spark's codecs frame it, and by uploading it to a moto S3 server."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import zstandard
from moto.server import ThreadedMotoServer

from autoscaler.testing import free_port
from autoscaler.testing_spark import lz4_java, snappy_java
from autoscaler.trace_import.spark import import_spark_logs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spark-events"
COMPLETE = FIXTURES / "application_1578436911597_0052"
APP = COMPLETE.name


ENCODERS = {
    "lz4": lambda d: lz4_java(d, block=4096),
    "snappy": lambda d: snappy_java(d, block=4096),
    "zstd": lambda d: zstandard.ZstdCompressor().compress(d[:9000]) + zstandard.ZstdCompressor().compress(d[9000:]),
    "gz": gzip.compress,
}


@pytest.mark.parametrize("codec", sorted(ENCODERS))
def test_a_compressed_log_reads_as_the_plain_one(codec: str, tmp_path: Path) -> None:
    (tmp_path / f"{APP}.{codec}").write_bytes(ENCODERS[codec](COMPLETE.read_bytes()))
    jobs, stats = import_spark_logs(str(tmp_path))
    plain, plain_stats = import_spark_logs(str(COMPLETE))
    assert jobs == plain
    assert (stats.lines, sum(stats.bad.values())) == (plain_stats.lines, 0)


def test_a_rolling_log_of_compressed_in_progress_parts(tmp_path: Path) -> None:
    lines = COMPLETE.read_bytes().splitlines(keepends=True)
    folder = tmp_path / f"eventlog_v2_{APP}"
    folder.mkdir()
    (folder / f"events_1_{APP}.zstd").write_bytes(zstandard.ZstdCompressor().compress(b"".join(lines[:10])))
    (folder / f"events_2_{APP}.zstd").write_bytes(zstandard.ZstdCompressor().compress(b"".join(lines[10:])))
    (folder / f"appstatus_{APP}.inprogress").write_bytes(b"")
    jobs, _ = import_spark_logs(str(tmp_path))
    assert jobs == import_spark_logs(str(COMPLETE))[0]


def test_a_compressed_log_cut_inside_a_block_keeps_what_came_before(tmp_path: Path) -> None:
    packed = lz4_java(COMPLETE.read_bytes(), block=2048)
    cut = tmp_path / f"{APP}.lz4.inprogress"
    cut.write_bytes(packed[: len(packed) // 2])
    jobs, stats = import_spark_logs(str(tmp_path))
    assert stats.bad["lz4 log cannot be decoded (what came before is used)"] == 1
    assert stats.first["record: lz4 log cannot be decoded (what came before is used)"].startswith(
        f"{cut}: stream ends inside a block at byte"
    )
    assert 0 < stats.lines < 27  # the lines before the cut were read
    assert jobs == []  # the cut fell before job 0 ended


def test_lzf_and_a_missing_extra_are_clear_per_file_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / f"{APP}.lzf").write_bytes(b"ZV\x00")
    (tmp_path / "application_1578436911597_0053.snappy").write_bytes(snappy_java(COMPLETE.read_bytes(), block=4096))
    monkeypatch.setitem(sys.modules, "cramjam", None)  # as if the spark-logs extra were not installed
    _, stats = import_spark_logs(str(tmp_path))
    summary = stats.summary()
    assert "1 bad record: lzf log cannot be decoded" in summary
    assert "lzf: no maintained Python LZF decoder" in summary
    assert f"{tmp_path}/application_1578436911597_0053.snappy: snappy logs need the spark-logs extra" in summary
    assert "pip install 'emr-autoscaler[spark-logs]'" in summary


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    boto3.client("s3").create_bucket(Bucket="history")
    yield "history"
    server.stop()


def test_logs_under_an_s3_prefix(s3_bucket: str, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    lines = COMPLETE.read_bytes().splitlines(keepends=True)
    s3.put_object(
        Bucket=s3_bucket, Key=f"spark/{APP}.zstd", Body=zstandard.ZstdCompressor().compress(COMPLETE.read_bytes())
    )
    rolled = "application_1578436911597_0054"
    part = b"".join(lines).replace(APP.encode(), rolled.encode())
    s3.put_object(Bucket=s3_bucket, Key=f"spark/eventlog_v2_{rolled}/events_1_{rolled}", Body=part)
    s3.put_object(Bucket=s3_bucket, Key=f"spark/eventlog_v2_{rolled}/appstatus_{rolled}", Body=b"")
    s3.put_object(Bucket=s3_bucket, Key="other/ignored", Body=b"{}")
    jobs, stats = import_spark_logs(f"s3://{s3_bucket}/spark/")
    assert (stats.read, stats.kept, stats.files) == (2, 2, 2)
    assert sorted(j["id"] for j in jobs) == sorted([f"{APP}:am", f"{APP}:job0", f"{rolled}:am", f"{rolled}:job0"])
    (single,) = [j for j in jobs if j["id"] == f"{APP}:job0"]
    local = next(j for j in import_spark_logs(str(COMPLETE))[0] if j["id"] == f"{APP}:job0")
    assert single["stages"] == local["stages"]


def test_a_missing_bucket_is_one_clear_error(s3_bucket: str) -> None:
    from autoscaler.trace_import.spark_store import StoreError  # noqa: PLC0415

    with pytest.raises(StoreError, match=r"--spark-logs s3://no-such-bucket/x: .*NoSuchBucket"):
        import_spark_logs("s3://no-such-bucket/x")


@pytest.mark.parametrize("codec", sorted(ENCODERS))
def test_every_codec_reports_a_log_cut_inside_its_stream(codec: str, tmp_path: Path) -> None:
    packed = ENCODERS[codec](COMPLETE.read_bytes())
    cut = tmp_path / f"{APP}.{codec}"
    cut.write_bytes(packed[: len(packed) - 7])
    _, stats = import_spark_logs(str(tmp_path))
    why = f"{codec} log cannot be decoded (what came before is used)"
    assert stats.bad[why] == 1
    assert stats.first[f"record: {why}"].startswith(f"{cut}: ")
