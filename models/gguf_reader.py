"""Read a GGUF file's header (metadata + tensor table) without touching the tensor data.

Why not `gguf.GGUFReader`: it builds numpy views for every field and every tensor, which takes seconds
on a real model (4.5 s for the 98 MiB SmolLM2 here, most of it in the 49k-entry vocabulary arrays) and
fails outright on a file that holds only the header (the first part of the bundled Qwen). This reader
walks the header with `struct` over a memory map, keeps short values, and replaces long arrays
(vocabulary, merges, token types) by their element type and length. It still takes the layout and the
type tables from the `gguf` package, so new quantization types come with a package upgrade.

Layout (GGUF v2/v3): magic "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv pairs
(string key, u32 value type, value), tensor infos (string name, u32 n_dims, u64 dims[n_dims],
u32 ggml type, u64 offset), padding to `general.alignment`, tensor data.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGUF_DEFAULT_ALIGNMENT, GGMLQuantizationType, GGUFValueType

from models.errors import BadModelFileError

GGUF_MAGIC = b"GGUF"

# Arrays longer than this are summarised (type + length): they are vocabularies and merge lists,
# which nobody reads in a details view and which would make every ModelInfo megabytes big.
MAX_KEPT_ARRAY = 64

# Bounds that no real file reaches; a header beyond them is corrupt, not big.
MAX_KV_COUNT = 1_000_000
MAX_TENSOR_COUNT = 10_000_000
MAX_DIMS = 8

_SCALAR_FORMATS = {
    GGUFValueType.UINT8: "B",
    GGUFValueType.INT8: "b",
    GGUFValueType.UINT16: "H",
    GGUFValueType.INT16: "h",
    GGUFValueType.UINT32: "I",
    GGUFValueType.INT32: "i",
    GGUFValueType.FLOAT32: "f",
    GGUFValueType.BOOL: "?",
    GGUFValueType.UINT64: "Q",
    GGUFValueType.INT64: "q",
    GGUFValueType.FLOAT64: "d",
}


@dataclass(frozen=True)
class ArraySummary:
    """Stands in for a long metadata array: what it holds and how many, not the values."""

    element_type: str  # "string", "int32", ...
    length: int

    def __str__(self) -> str:
        return f"[{self.length} x {self.element_type}]"

    def to_json(self) -> dict[str, Any]:
        return {"array_of": self.element_type, "length": self.length}


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor table."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # relative to the start of the data section

    @property
    def n_elements(self) -> int:
        count = 1
        for dim in self.shape:
            count *= dim
        return count

    @property
    def type_name(self) -> str:
        try:
            return GGMLQuantizationType(self.ggml_type).name
        except ValueError:
            return f"type{self.ggml_type}"

    @property
    def nbytes(self) -> int | None:
        """Bytes of data, or None for a type this version of `gguf` does not know."""
        try:
            block_size, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(self.ggml_type)]
        except (ValueError, KeyError):
            return None
        return self.n_elements // block_size * type_size


@dataclass
class GGUFHeader:
    path: Path
    version: int
    file_size: int
    data_offset: int  # where tensor data starts
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: list[TensorEntry] = field(default_factory=list)

    @property
    def data_end(self) -> int:
        """The file size the header promises: end of the last tensor's data."""
        ends = [self.data_offset + t.offset + (t.nbytes or 0) for t in self.tensors]
        return max(ends, default=self.data_offset)

    def array_length(self, key: str) -> int | None:
        value = self.metadata.get(key)
        if isinstance(value, ArraySummary):
            return value.length
        if isinstance(value, list):
            return len(value)
        return None


class _Truncated(Exception):
    """The header runs past the end of the file."""


class _Corrupt(Exception):
    """The header holds values no valid file has."""


class _Cursor:
    """Sequential reads from a buffer; running off its end raises _Truncated."""

    def __init__(self, buf: Any, endian: str) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)
        self.endian = endian
        self._u64 = struct.Struct(endian + "Q")
        self._u32 = struct.Struct(endian + "I")

    def _need(self, n: int) -> None:
        if self.pos + n > self.size:
            raise _Truncated

    def u32(self) -> int:
        self._need(4)
        (value,) = self._u32.unpack_from(self.buf, self.pos)
        self.pos += 4
        return value

    def u64(self) -> int:
        self._need(8)
        (value,) = self._u64.unpack_from(self.buf, self.pos)
        self.pos += 8
        return value

    def string(self) -> str:
        length = self.u64()
        self._need(length)
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def scalar(self, vtype: GGUFValueType) -> Any:
        fmt = struct.Struct(self.endian + _SCALAR_FORMATS[vtype])
        self._need(fmt.size)
        (value,) = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return value

    def value(self, vtype: GGUFValueType) -> Any:
        if vtype == GGUFValueType.STRING:
            return self.string()
        if vtype == GGUFValueType.ARRAY:
            return self.array()
        return self.scalar(vtype)

    def array(self) -> Any:
        elem_type = _value_type(self.u32())
        length = self.u64()
        if length <= MAX_KEPT_ARRAY:
            return [self.value(elem_type) for _ in range(length)]
        self.skip_array(elem_type, length)
        return ArraySummary(elem_type.name.lower(), length)

    def skip_array(self, elem_type: GGUFValueType, length: int) -> None:
        if elem_type in _SCALAR_FORMATS:
            nbytes = length * struct.calcsize(_SCALAR_FORMATS[elem_type])
            self._need(nbytes)
            self.pos += nbytes
        elif elem_type == GGUFValueType.STRING:
            # The hot loop of the whole reader (150k tokens + 150k merges for Qwen): one unpack per string.
            unpack, buf, pos = self._u64.unpack_from, self.buf, self.pos
            try:
                for _ in range(length):
                    pos += 8 + unpack(buf, pos)[0]
            except struct.error as exc:
                raise _Truncated from exc
            self.pos = pos
            self._need(0)
        else:  # arrays of arrays: rare, walk them
            for _ in range(length):
                self.value(elem_type)


def _value_type(raw: int) -> GGUFValueType:
    try:
        return GGUFValueType(raw)
    except ValueError as exc:
        raise _Corrupt(f"unknown metadata value type {raw}") from exc


def read_header(path: Path | str, *, require_complete: bool = True) -> GGUFHeader:
    """Parse the header of the GGUF file at `path`.

    With `require_complete` (the default) a file shorter than its header promises is an error;
    without it only the header itself must be present (used to describe the first part of a
    multi-part bundled model before assembly).
    Raises BadModelFileError (one line naming the file) for a missing, unreadable, non-GGUF,
    corrupt or truncated file.
    """
    path = Path(path)
    if not path.exists():
        raise BadModelFileError(f"{path}: no such file")
    if path.is_dir():
        raise BadModelFileError(f"{path}: is a directory, not a GGUF file")
    try:
        with open(path, "rb") as fh:
            file_size = path.stat().st_size
            if file_size < 4 or fh.read(4) != GGUF_MAGIC:
                raise BadModelFileError(f"{path}: not a GGUF file (it does not start with the GGUF magic)")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                header = _parse(path, buf, file_size)
    except OSError as exc:
        raise BadModelFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except _Truncated as exc:
        raise BadModelFileError(
            f"{path}: truncated GGUF file: the header ends past the end of the file ({file_size} bytes)"
        ) from exc
    except _Corrupt as exc:
        raise BadModelFileError(f"{path}: corrupt GGUF header: {exc}") from exc
    if require_complete and header.data_end > file_size:
        raise BadModelFileError(
            f"{path}: truncated GGUF file: its header describes {header.data_end} bytes but the file has "
            f"{file_size} (an interrupted download or copy?)"
        )
    return header


def _parse(path: Path, buf: Any, file_size: int) -> GGUFHeader:
    # The version tells the byte order: a little-endian reader sees a big-endian 3 as 0x03000000.
    (version,) = struct.unpack_from("<I", buf, 4) if file_size >= 8 else (None,)
    if version is None:
        raise _Truncated
    endian = "<"
    if version & 0xFFFF == 0 and version > 0xFFFF:
        endian = ">"
        (version,) = struct.unpack_from(">I", buf, 4)
    if version not in (2, 3):
        raise _Corrupt(f"GGUF version {version} is not supported (only 2 and 3)")
    cur = _Cursor(buf, endian)
    cur.pos = 8
    tensor_count, kv_count = cur.u64(), cur.u64()
    if kv_count > MAX_KV_COUNT or tensor_count > MAX_TENSOR_COUNT:
        raise _Corrupt(f"implausible counts ({kv_count} metadata keys, {tensor_count} tensors)")
    metadata: dict[str, Any] = {
        "GGUF.version": version,
        "GGUF.tensor_count": tensor_count,
        "GGUF.kv_count": kv_count,
    }
    for _ in range(kv_count):
        key = cur.string()
        metadata[key] = cur.value(_value_type(cur.u32()))
    tensors = []
    for _ in range(tensor_count):
        name = cur.string()
        n_dims = cur.u32()
        if n_dims > MAX_DIMS:
            raise _Corrupt(f"tensor {name!r} has {n_dims} dimensions")
        shape = tuple(cur.u64() for _ in range(n_dims))
        tensors.append(TensorEntry(name, shape, cur.u32(), cur.u64()))
    alignment = metadata.get("general.alignment", GGUF_DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0:
        raise _Corrupt(f"invalid general.alignment {alignment!r}")
    data_offset = -(-cur.pos // alignment) * alignment
    return GGUFHeader(path, version, file_size, data_offset, metadata, tensors)


def jsonable_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata with long-array summaries turned into plain dicts (for --json)."""
    return {k: (v.to_json() if isinstance(v, ArraySummary) else v) for k, v in metadata.items()}
