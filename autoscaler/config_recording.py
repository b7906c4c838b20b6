"""The `recording:` section of a cluster: the bounds of what `record_dir` may hold.

Apart from `config.py` only to keep that module small; validated the same way (strict, finite).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024


class RecordingConfig(BaseModel):
    """Bounds of the tick recording in `record_dir`: at most `max_files` files of about `max_file_bytes` each."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    max_file_bytes: int = Field(
        64 * MIB,
        ge=4096,
        description="A recording file is closed and the next one started once it holds this many bytes "
        "(a tick's line is never split across files).",
    )
    max_files: int = Field(
        24,
        ge=1,
        le=100_000,
        description="Recording files kept per cluster; when a new one starts, the oldest beyond this are "
        "deleted, so the recording never holds more than max_files x max_file_bytes (plus one line).",
    )
    queue_ticks: int = Field(
        64,
        ge=1,
        le=100_000,
        description="Ticks waiting for the writer thread; when it is this far behind (a slow or stalled disk) "
        "a tick's record is dropped and counted (emr_autoscaler_record_dropped_total{reason=queue_full}), "
        "never waited for.",
    )
