"""Small GGUF files for tests, written with the `gguf` package's own writer.

`write_gguf` makes a header-correct file of any architecture in a few kilobytes. Metadata values
are typed from their Python type (int -> uint32, or int64 when it does not fit; float -> float32;
bool; str; list -> array typed by its first element; a 1-D numpy array -> array of its dtype, e.g.
np.int32 token types, np.float32 scores); pass `(value, GGUFValueType.X)` to choose a scalar's type,
or `(values, GGUFValueType.ARRAY, GGUFValueType.X)` an array's element type. Keys may
contain "{arch}", filled in with the architecture ("{arch}.block_count" -> "llama.block_count").
Tensors are numpy arrays (F32/F16/int types as numpy knows them) or `(uint8 bytes array,
GGMLQuantizationType)` for pre-quantized raw data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from gguf import GGMLQuantizationType, GGUFEndian, GGUFValueType, GGUFWriter

TensorSpec = np.ndarray | tuple[np.ndarray, GGMLQuantizationType]


def default_tensors() -> dict[str, TensorSpec]:
    """One 2-D weight and one 1-D norm: enough for a file with a real data section."""
    return {
        "token_embd.weight": np.arange(32 * 8, dtype=np.float32).reshape(32, 8),
        "output_norm.weight": np.ones(8, dtype=np.float32),
    }


def _value_type(value: Any) -> GGUFValueType:
    if isinstance(value, bool):
        return GGUFValueType.BOOL
    if isinstance(value, int):
        if 0 <= value < 2**32:
            return GGUFValueType.UINT32
        return GGUFValueType.INT64 if value < 0 or value < 2**63 else GGUFValueType.UINT64
    if isinstance(value, float):
        return GGUFValueType.FLOAT32
    if isinstance(value, str):
        return GGUFValueType.STRING
    if isinstance(value, list | tuple):
        return GGUFValueType.ARRAY
    raise TypeError(f"cannot store {type(value).__name__} in GGUF metadata; pass (value, GGUFValueType)")


_NUMPY_TYPES = {
    np.dtype(np.uint8): GGUFValueType.UINT8,
    np.dtype(np.int8): GGUFValueType.INT8,
    np.dtype(np.uint16): GGUFValueType.UINT16,
    np.dtype(np.int16): GGUFValueType.INT16,
    np.dtype(np.uint32): GGUFValueType.UINT32,
    np.dtype(np.int32): GGUFValueType.INT32,
    np.dtype(np.float32): GGUFValueType.FLOAT32,
    np.dtype(np.uint64): GGUFValueType.UINT64,
    np.dtype(np.int64): GGUFValueType.INT64,
    np.dtype(np.float64): GGUFValueType.FLOAT64,
    np.dtype(np.bool_): GGUFValueType.BOOL,
}


def _add(writer: GGUFWriter, key: str, value: Any) -> None:
    sub_type: GGUFValueType | None = None
    if isinstance(value, tuple) and len(value) == 3 and value[1] == GGUFValueType.ARRAY:
        value, vtype, sub_type = value
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], GGUFValueType):
        value, vtype = value
    elif isinstance(value, np.ndarray):
        vtype, sub_type = GGUFValueType.ARRAY, _NUMPY_TYPES[value.dtype]
    else:
        vtype = _value_type(value)
    if vtype == GGUFValueType.ARRAY:
        items = value.tolist() if isinstance(value, np.ndarray) else list(value)
        if sub_type is None:
            sub_type = _value_type(items[0]) if items else GGUFValueType.UINT32
        writer.add_key_value(key, items, vtype, sub_type=sub_type)
    else:
        writer.add_key_value(key, value, vtype)


def write_gguf(
    path: Path | str,
    arch: str = "llama",
    name: str | None = "tiny test model",
    metadata: Mapping[str, Any] | None = None,
    tensors: Mapping[str, TensorSpec] | None = None,
    chat_template: str | None = None,
    context_length: int | None = 2048,
    file_type: int | None = None,
    license: str | None = None,
    big_endian: bool = False,
) -> Path:
    """Write a GGUF file at `path` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(path, arch, endianess=GGUFEndian.BIG if big_endian else GGUFEndian.LITTLE)
    if name is not None:
        writer.add_name(name)
    if context_length is not None:
        writer.add_context_length(context_length)
    if file_type is not None:
        writer.add_file_type(file_type)
    if license is not None:
        writer.add_license(license)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    for key, value in (metadata or {}).items():
        _add(writer, key.replace("{arch}", arch), value)
    for tensor_name, spec in (default_tensors() if tensors is None else tensors).items():
        if isinstance(spec, tuple):
            data, raw_type = spec
            writer.add_tensor(tensor_name, data, raw_dtype=raw_type)
        else:
            writer.add_tensor(tensor_name, spec)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
