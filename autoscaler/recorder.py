"""`record_dir`: every tick's snapshot and decision, as JSON lines, written by a thread beside the loop.

Why a thread and a bounded queue: a tick must never wait for a disk. `submit` only puts the tick's
immutable values on a queue of `recording.queue_ticks`; when the writer is that far behind (a slow,
stalled or full disk) the tick's record is dropped, counted
(`emr_autoscaler_record_dropped_total{reason="queue_full"}`) and logged once per run of drops,
never waited for. Encoding (`record_codec`) happens on the writer thread too.

Files: `<cluster>-<seq>.jsonl` (seq 6+ digits, increasing; a restart continues after the highest
found), one compact line per tick, flushed per line, each beside `<cluster>-<seq>.config.json`: the
cluster's config it was written under (RM URLs redacted), from which a replay takes the guards,
limits and managed pools the daemon decided with. A file that has reached
`recording.max_file_bytes` is closed and the next started; then the oldest files beyond
`recording.max_files` are deleted, so the directory never holds more than
max_files x max_file_bytes plus one line. A write error (disk full, permission denied, read-only
file system) drops that record (`reason="write_error"`) and logs one `record_error` event per run of
failures; the next record is written to the same file cut back to its last whole line, so a full
disk leaves no half line behind and rotates no good file away. (A line cut short by a crash is
counted and named by the readers as a bad line, never read as data.) It never raises into the tick,
and never crashes the daemon.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, Final

from autoscaler.config_recording import RecordingConfig
from autoscaler.logs import EventLogger
from autoscaler.record_codec import FILE_NAME, TickRecord, config_name, dumps, file_name

Count = Callable[[str, str], None]
"""(cluster, reason) → count one dropped record; reason: queue_full, write_error, encode_error."""

_STOP: Final = object()


def recording_files(directory: Path, cluster_id: str) -> list[tuple[int, Path]]:
    """(seq, path) of a cluster's recording files, oldest first."""
    found = []
    with contextlib.suppress(OSError):  # no folder yet: no files
        for path in directory.iterdir():
            m = FILE_NAME.fullmatch(path.name)
            if m and m.group("cluster") == cluster_id:
                found.append((int(m.group("seq")), path))
    return sorted(found)


class Recorder:
    """One cluster's recording: `submit` from the tick thread, a writer thread started on first use."""

    def __init__(
        self,
        cluster_id: str,
        directory: str | Path,
        limits: RecordingConfig,
        logger: EventLogger,
        *,
        dropped: Count | None = None,
        written: Callable[[str, int], None] | None = None,
        clock: Callable[[], float] = time.time,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.cluster_id = cluster_id
        self.directory = Path(directory)
        self.limits = limits
        self._logger = logger
        self._dropped = dropped
        self._written = written
        self._clock = clock
        self._config = None if config is None else (json.dumps(config, sort_keys=True, indent=1) + "\n").encode()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=limits.queue_ticks)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._file: IO[bytes] | None = None
        self._size = 0
        self._seq: int | None = None
        self._path: Path | None = None  # the current file, and its size after the last whole line
        self._good = 0
        self._cut_back = False  # the next write goes to `_path`, first cut back to `_good`
        self._failing: str | None = None  # the error of the current run of write failures
        self._queue_full = 0  # records dropped in the current run of full-queue drops
        self.counts: dict[str, int] = {"written": 0, "queue_full": 0, "write_error": 0, "encode_error": 0}

    # -- tick thread ---------------------------------------------------------------------------

    def submit(self, record: TickRecord) -> bool:
        """Queue a tick's record, or drop and count it; never blocks, never raises."""
        try:
            self._start()
            self._queue.put_nowait(record)
        except queue.Full:
            self._drop("queue_full")
            if self._queue_full == 0:
                self._logger.warning(
                    "record_dropped",
                    cluster=self.cluster_id,
                    reason="queue_full",
                    detail=f"the writer is {self.limits.queue_ticks} ticks behind (slow or stalled disk at "
                    f"{self.directory}); ticks are not recorded until it catches up",
                )
            self._queue_full += 1
            return False
        except Exception as err:  # e.g. no thread can be started: a recorder must never fail a tick
            self._drop("write_error")
            self._logger.warning("record_dropped", cluster=self.cluster_id, reason="write_error", detail=str(err))
            return False
        if self._queue_full:
            self._logger.info("record_resumed", cluster=self.cluster_id, dropped=self._queue_full)
            self._queue_full = 0
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (waiting at most `timeout_s`), then stop the writer and close the file."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout_s
        while thread.is_alive() and time.monotonic() < deadline:
            try:
                self._queue.put(_STOP, timeout=0.05)
                break
            except queue.Full:
                continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            self._logger.warning(
                "record_error", cluster=self.cluster_id, error=f"writer still busy after {timeout_s:g}s at shutdown"
            )

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"recorder-{self.cluster_id}", daemon=True)
                self._thread.start()

    def _drop(self, reason: str) -> None:
        self.counts[reason] += 1
        if self._dropped is not None:
            with contextlib.suppress(Exception):
                self._dropped(self.cluster_id, reason)

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            assert isinstance(item, TickRecord)
            try:
                line = (dumps(item) + "\n").encode()
            except Exception as err:  # a value the codec cannot hold: this tick only
                self._drop("encode_error")
                self._logger.warning("record_dropped", cluster=self.cluster_id, reason="encode_error", detail=str(err))
                continue
            self._write(line)
        self._close_file()

    def _write(self, line: bytes) -> None:
        try:
            if self._file is not None and self._size and self._size + len(line) > self.limits.max_file_bytes:
                self._close_file()
            if self._file is None:
                self._reopen() if self._cut_back else self._open_next()
            assert self._file is not None
            self._file.write(line)
            self._file.flush()
            self._size += len(line)
        except OSError as err:
            self._cut_back = self._file is not None  # a write to our open file failed: cut it back, retry there
            self._close_file()
            self._drop("write_error")
            why = str(err.strerror or err)
            if self._failing != why:  # one event per run of failures, not one per tick
                where = err.filename or self._path or self.directory
                self._logger.error(
                    "record_error", cluster=self.cluster_id, error=f"{why}: {where}", dropped=self.counts
                )
            self._failing = why
            return
        self._good = self._size
        self.counts["written"] += 1
        if self._written is not None:
            with contextlib.suppress(Exception):
                self._written(self.cluster_id, len(line))
        if self._failing is not None:
            self._logger.info("record_resumed", cluster=self.cluster_id, after=self._failing)
            self._failing = None

    def _reopen(self) -> None:
        """After a failed write: the same file, cut back to its last whole line (a full disk may have
        taken half a line), so a disk-full spell neither leaves a cut line nor rotates good files away."""
        assert self._path is not None
        try:
            fh = self._path.open("r+b")
        except FileNotFoundError:
            self._open_next()
            return
        fh.truncate(self._good)
        fh.seek(self._good)
        self._file, self._size, self._cut_back = fh, self._good, False

    def _open_next(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._seq is None:
            existing = recording_files(self.directory, self.cluster_id)
            self._seq = existing[-1][0] if existing else 0
        self._seq += 1
        path = self.directory / file_name(self.cluster_id, self._seq)
        self._file = path.open("xb")  # never append to a file another run (or replica) left, maybe mid-line
        self._path, self._size, self._good = path, 0, 0
        if self._config is not None:  # the guards, limits and pools its ticks were decided under, for --replay
            path.with_name(config_name(path.name)).write_bytes(self._config)
        self._prune()

    def _prune(self) -> None:
        files = recording_files(self.directory, self.cluster_id)
        for _, path in files[: max(0, len(files) - self.limits.max_files)]:
            try:
                path.with_name(config_name(path.name)).unlink(missing_ok=True)
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as err:
                self._logger.warning("record_error", cluster=self.cluster_id, error=f"cannot delete {path}: {err}")

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
            self._size = 0
