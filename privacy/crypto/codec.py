"""Plaintext encoding of cell values: one type tag byte, then the value's bytes.

The tag lets the privileged decrypt path give back the column's original kind of value (an integer
customer number comes back as an integer, not as text) without a side channel, and it makes the empty
string a non-empty plaintext.
"""

from __future__ import annotations

import pyarrow as pa

from clearhouse.errors import ProtectionError

Cell = str | bytes | int | float | bool

_STR, _BYTES, _INT, _FLOAT, _BOOL = b"s", b"b", b"i", b"f", b"?"


def encode(value: Cell) -> bytes:
    """Tagged bytes of a Python cell value (str, bytes, int, float, bool)."""
    # bool before int: bool is an int subclass
    if isinstance(value, str):
        return _STR + value.encode("utf-8")
    if isinstance(value, bool):
        return _BOOL + (b"1" if value else b"0")
    if isinstance(value, int):
        return _INT + str(value).encode("ascii")
    if isinstance(value, float):
        return _FLOAT + repr(value).encode("ascii")
    if isinstance(value, bytes | bytearray | memoryview):
        return _BYTES + bytes(value)
    raise ProtectionError(f"cannot encrypt values of type {type(value).__name__}")


def decode(data: bytes) -> Cell:
    """Inverse of :func:`encode`. Raises ``ValueError`` on an unknown tag (authenticated data, so a bug)."""
    tag, body = data[:1], data[1:]
    if tag == _STR:
        return body.decode("utf-8")
    if tag == _BYTES:
        return body
    if tag == _INT:
        return int(body)
    if tag == _FLOAT:
        return float(body)
    if tag == _BOOL:
        return body == b"1"
    raise ValueError("unknown plaintext tag")


def arrow_type_for(values: list[Cell | None]) -> pa.DataType:
    """Arrow type for decrypted values: the common kind, or string if kinds are mixed or all null."""
    kinds = {type(v) for v in values if v is not None}
    by_kind: dict[type, pa.DataType] = {
        str: pa.string(),
        bytes: pa.binary(),
        int: pa.int64(),
        float: pa.float64(),
        bool: pa.bool_(),
    }
    if len(kinds) == 1:
        return by_kind[kinds.pop()]
    return pa.string()


def python_values(array: pa.Array | pa.ChunkedArray) -> list[Cell | None]:
    """Cell values of an Arrow column as Python objects the codec can encode.

    Strings, binaries, integers, floats and booleans pass through; anything else (dates, timestamps,
    decimals, …) is cast to its canonical Arrow string form first, so it is encrypted as text.
    """
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    ):
        return array.to_pylist()  # type: ignore[no-any-return]
    try:
        return array.cast(pa.string()).to_pylist()  # type: ignore[no-any-return]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ProtectionError(f"cannot protect a column of Arrow type {kind}") from exc
