"""Decompressing Spark event logs as Spark writes them, block by block, so a large log never sits in memory.

Spark names a compressed log by its codec's short name (`app_123.lz4`, `events_1_app_123.zstd`) and
writes each codec's Java stream format, which is not always the codec's standard frame format:

- `lz4`: lz4-java's `LZ4BlockOutputStream`: blocks of "LZ4Block" magic, a token (0x10 raw, 0x20 LZ4),
  compressed and original lengths (little-endian) and a checksum, then the block; decoded with
  cramjam's raw LZ4 block decoder. The checksum is not verified (a corrupt block fails to decode).
- `snappy`: snappy-java's `SnappyOutputStream`: a 16-byte header (0x82 "SNAPPY" 0, two versions),
  then blocks of a big-endian length and raw Snappy data; cramjam's raw Snappy decoder.
- `zstd`: zstd-jni writes standard Zstandard frames; the `zstandard` package streams them.
- `gz`: not a Spark codec, but how logs are often archived; the standard library reads it.
- `lzf`: a Spark codec with no maintained Python decoder: a clear per-file error, never a guess.

A stream that ends inside a block (a log cut short, an app still writing) yields everything before
the cut and then raises `TruncatedStream`, so the caller reports it with the file and keeps the rest.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

EXTRA = "pip install 'emr-autoscaler[spark-logs]'"
CODECS = ("lz4", "snappy", "zstd", "gz", "lzf")
_LZ4_MAGIC = b"LZ4Block"
_LZ4_HEADER = 21  # magic, token, compressed length, original length, checksum
_SNAPPY_MAGIC = b"\x82SNAPPY\x00"
_SNAPPY_HEADER = 16  # magic, version, compatible version


class CodecError(Exception):
    """A compressed log that cannot be decoded (unknown codec, missing extra, corrupt data)."""


class TruncatedStream(CodecError):
    """The compressed stream ends inside a block: what came before it was decoded."""


def codec_of(name: str) -> str | None:
    """The codec a log's name declares (Spark's rule: the last dot-suffix, after `.inprogress`)."""
    base = name.rsplit("/", 1)[-1].removesuffix(".inprogress")
    suffix = base.rsplit(".", 1)[-1] if "." in base else ""
    if suffix == "zst":
        return "zstd"
    return suffix if suffix in CODECS else None


def _cramjam(codec: str) -> Any:
    try:
        import cramjam  # noqa: PLC0415 - optional extra, only for compressed logs
    except ImportError:
        raise CodecError(f"{codec} logs need the spark-logs extra: {EXTRA}") from None
    return cramjam


def decode(codec: str | None, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The log's bytes, decompressed as they arrive."""
    if codec is None:
        return chunks
    if codec == "lzf":
        raise CodecError("lzf: no maintained Python LZF decoder; re-compress the log with zstd, lz4 or snappy")
    decoders: dict[str, Callable[[Iterator[bytes]], Iterator[bytes]]] = {
        "lz4": _lz4_blocks,
        "snappy": _snappy_blocks,
        "zstd": _zstd,
        "gz": _gzip,
    }
    return decoders[codec](chunks)


class _Buffer:
    """Bytes from `chunks`, taken `n` at a time; None when the stream ends exactly there."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self.offset = 0

    def take(self, n: int) -> bytes | None:
        while len(self._buf) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                if self._buf:
                    raise TruncatedStream(f"stream ends inside a block at byte {self.offset + len(self._buf)}")
                return None
            self._buf += chunk
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self.offset += n
        return out

    def need(self, n: int) -> bytes:
        out = self.take(n)
        if out is None:
            raise TruncatedStream(f"stream ends inside a block at byte {self.offset}")
        return out


def _lz4_blocks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    cramjam = _cramjam("lz4")
    buf = _Buffer(chunks)
    while (header := buf.take(_LZ4_HEADER)) is not None:
        if header[:8] != _LZ4_MAGIC:
            raise CodecError(f"lz4: no LZ4Block magic at byte {buf.offset - _LZ4_HEADER} (not lz4-java's block stream)")
        method = header[8] & 0xF0
        compressed, original = struct.unpack_from("<ii", header, 9)
        if compressed < 0 or original < 0 or method not in (0x10, 0x20):
            raise CodecError(f"lz4: bad block header at byte {buf.offset - _LZ4_HEADER}")
        if original == 0:
            continue  # lz4-java's end-of-stream block; another stream may follow
        data = buf.need(compressed)
        if method == 0x10:
            yield data
            continue
        try:
            yield bytes(cramjam.lz4.decompress_block(data, output_len=original))
        except Exception as err:  # cramjam raises its own DecompressionError
            raise CodecError(f"lz4: corrupt block at byte {buf.offset - compressed}: {err}") from None


def _snappy_blocks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    cramjam = _cramjam("snappy")
    buf = _Buffer(chunks)
    while (head := buf.take(4)) is not None:
        if head == _SNAPPY_MAGIC[:4]:  # a (possibly repeated) stream header
            rest = buf.need(_SNAPPY_HEADER - 4)
            if head + rest[:4] != _SNAPPY_MAGIC:
                raise CodecError(f"snappy: bad stream header at byte {buf.offset - _SNAPPY_HEADER}")
            continue
        (length,) = struct.unpack(">i", head)
        if length < 0:
            raise CodecError(f"snappy: bad block length at byte {buf.offset - 4}")
        data = buf.need(length)
        try:
            yield bytes(cramjam.snappy.decompress_raw(data))
        except Exception as err:  # cramjam raises its own DecompressionError
            raise CodecError(f"snappy: corrupt block at byte {buf.offset - length}: {err}") from None


def _zstd(chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        import zstandard  # noqa: PLC0415 - optional extra, only for zstd logs
    except ImportError:
        raise CodecError(f"zstd logs need the spark-logs extra: {EXTRA}") from None
    decompressor = zstandard.ZstdDecompressor()
    return _members(chunks, decompressor.decompressobj, zstandard.ZstdError, "zstd", "frame")


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    return _members(chunks, lambda: zlib.decompressobj(wbits=31), zlib.error, "gz", "member")


def _members(
    chunks: Iterator[bytes], new: Callable[[], Any], error: type[Exception], codec: str, unit: str
) -> Iterator[bytes]:
    """A stream of concatenated frames (zstd) or members (gzip), each decoded as it arrives."""
    obj = new()
    pending = False  # inside a frame
    for chunk in chunks:
        data = chunk
        while data:
            try:
                out = obj.decompress(data)
            except error as err:
                raise CodecError(f"{codec}: corrupt data: {err}") from None
            pending = not obj.eof
            if out:
                yield out
            data = obj.unused_data if obj.eof else b""
            if obj.eof:
                obj = new()
    if pending:
        raise TruncatedStream(f"{codec}: stream ends inside a {unit}")
