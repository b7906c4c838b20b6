"""Java-framed compressed Spark event logs, for tests and benchmarks of `trace import --spark-logs`.

Spark compresses event logs with lz4-java's and snappy-java's own stream framing, not the codecs'
standard frame formats, and no Java-written sample is at hand; these writers follow the Java
libraries' constants so the importer's readers are exercised on the bytes Spark would write. Needs
the `spark-logs` extra (cramjam).
"""

from __future__ import annotations

import struct

_LZ4_MAGIC = b"LZ4Block"
_LZ4_RAW, _LZ4_COMPRESSED = 0x10, 0x20


def lz4_java(data: bytes, block: int = 65536) -> bytes:
    """lz4-java's LZ4BlockOutputStream: per block "LZ4Block", token (method | level), compressed and raw
    lengths, checksum 0, the block; then an empty raw block. Level is log2(block size) - 10, as there."""
    import cramjam  # noqa: PLC0415 (optional extra)

    level = max(0, (block - 1).bit_length() - 10)
    out = bytearray()
    for i in range(0, len(data), block):
        raw = data[i : i + block]
        packed = bytes(cramjam.lz4.compress_block(raw, store_size=False))
        out += _LZ4_MAGIC + bytes([_LZ4_COMPRESSED | level]) + struct.pack("<iii", len(packed), len(raw), 0) + packed
    return bytes(out + _LZ4_MAGIC + bytes([_LZ4_RAW | level]) + struct.pack("<iii", 0, 0, 0))


def snappy_java(data: bytes, block: int = 32768) -> bytes:
    """snappy-java's SnappyOutputStream: a 16-byte header, then per block a big-endian length and a raw
    Snappy block."""
    import cramjam  # noqa: PLC0415 (optional extra)

    out = bytearray(b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1))
    for i in range(0, len(data), block):
        packed = bytes(cramjam.snappy.compress_raw(data[i : i + block]))
        out += struct.pack(">i", len(packed)) + packed
    return bytes(out)
