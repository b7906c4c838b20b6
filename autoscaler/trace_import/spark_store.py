"""Where Spark event logs are: a local file or folder, or an `s3://bucket/prefix`, grouped into one log per app.

The History Server's log folder holds one file per application (`application_..._0001[.codec]
[.inprogress]`), or with rolling logs one folder per application, `eventlog_v2_<app>/`, holding
`events_<N>_<app>[.codec]` parts (read in N order) and an `appstatus_<app>[.inprogress]` marker.
S3 is read with boto3 through `autoscaler.aws` (endpoint and credentials from boto3's own
configuration), never from the simulator. Reads stream in 1 MiB chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
ROLLING_DIR = "eventlog_v2_"
_PART = re.compile(r"events_(\d+)_")


class StoreError(Exception):
    """The logs' location cannot be listed at all (no such folder, bucket, access denied)."""


@dataclass(frozen=True, slots=True)
class LogFile:
    name: str  # shown in messages: a local path or s3://bucket/key
    rel: str  # path below the root, "/"-separated, for grouping


@dataclass
class AppLog:
    """One application's event log: its files in reading order."""

    name: str
    files: list[LogFile] = field(default_factory=list)
    in_progress: bool = False


@dataclass
class Listing:
    apps: list[AppLog]
    ignored: list[str]  # files that are not event logs, named in a warning
    read: Callable[[LogFile], Iterator[bytes]]


def _local(root: Path) -> tuple[list[LogFile], Callable[[LogFile], Iterator[bytes]]]:
    if not root.exists():
        raise StoreError(f"--spark-logs {root}: no such file or folder")
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    files = [LogFile(str(p), p.relative_to(base).as_posix()) for p in paths]

    def read(f: LogFile) -> Iterator[bytes]:
        with open(f.name, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    return files, read


def _s3(url: str) -> tuple[list[LogFile], Callable[[LogFile], Iterator[bytes]]]:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise StoreError(f"--spark-logs {url}: no bucket (s3://bucket/prefix)")
    import boto3  # noqa: PLC0415 - only for S3 sources
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from autoscaler.aws import make_client  # noqa: PLC0415

    region = boto3.session.Session().region_name or "us-east-1"
    s3: Any = make_client("s3", region)
    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as err:
        raise StoreError(f"--spark-logs {url}: {err}") from None
    base = prefix[: prefix.rfind("/") + 1]  # rel paths start below the prefix's folder
    files = [LogFile(f"s3://{bucket}/{k}", k.removeprefix(base)) for k in sorted(keys) if not k.endswith("/")]

    def read(f: LogFile) -> Iterator[bytes]:
        key = f.name.removeprefix(f"s3://{bucket}/")
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            yield from body.iter_chunks(CHUNK)
        except (BotoCoreError, ClientError) as err:
            raise OSError(f"{f.name}: {err}") from None

    return files, read


def _index(rel: str) -> int:
    m = _PART.match(rel.rsplit("/", 1)[-1])
    return int(m.group(1)) if m else -1


def list_logs(where: str) -> Listing:
    """Every application's log below `where`, each rolling folder as one app."""
    files, read = _s3(where) if where.startswith("s3://") else _local(Path(where))
    single: list[AppLog] = []
    rolling: dict[str, AppLog] = {}
    ignored: list[str] = []
    for f in files:
        parts = f.rel.split("/")
        name = parts[-1]
        folder = next((i for i, p in enumerate(parts[:-1]) if p.startswith(ROLLING_DIR)), None)
        if name.startswith("."):
            ignored.append(f.name)  # Hadoop's .crc checksums and other hidden files
        elif folder is None:
            single.append(AppLog(f.name, [f], name.endswith(".inprogress")))
        else:
            key = "/".join(parts[: folder + 1])
            app = rolling.setdefault(key, AppLog(f.name.removesuffix(f.rel) + key))
            if name.startswith("events_"):
                app.files.append(f)
            elif name.startswith("appstatus_"):
                app.in_progress = name.endswith(".inprogress")
            else:
                ignored.append(f.name)
    for app in rolling.values():
        app.files.sort(key=lambda f: _index(f.rel))
    return Listing(single + [a for a in rolling.values() if a.files], ignored, read)
