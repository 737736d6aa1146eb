"""Plain data across the sandbox boundary: length-prefixed JSON, never a pickle.

Values crossing the boundary are numbers, strings, None, booleans, NumPy arrays
of numeric or boolean dtype, TensorFlow tensors and variables (sent as arrays
and rebuilt on the other side), and lists, tuples and dicts of these. Anything
else is refused. Every message has a size limit.
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import struct
import time
from typing import Any

import numpy as np

MAX_MESSAGE = 64 * 1024 * 1024
MAX_DEPTH = 20
MAX_STRING = 1_000_000
#: Bytes of data an array may hold: base 64 makes them a third larger in a message.
MAX_ARRAY_BYTES = MAX_MESSAGE * 3 // 4
DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


class Unsupported(TypeError):
    """A value that cannot cross the boundary as plain data."""


class TooLarge(Unsupported):
    """An array whose data alone would exceed a message's size limit."""


# --------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------


def send(fd: int, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise ProtocolError("message trop volumineux")
    payload = struct.pack(">I", len(data)) + data
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, count: int, deadline: float | None) -> bytes:
    chunks, missing = [], count
    while missing:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise TimeoutError
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, timeout: float | None = None) -> dict:
    """Read one message; raise TimeoutError, EOFError or ProtocolError."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (length,) = struct.unpack(">I", _read_exact(fd, 4, deadline))
    if length > MAX_MESSAGE:
        raise ProtocolError(f"message annoncé de {length} octets : limite dépassée")
    try:
        message = json.loads(_read_exact(fd, length, deadline).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"message illisible ({exc})") from None
    except RecursionError:
        raise ProtocolError("message illisible (structure JSON imbriquée trop profondément)") from None
    if not isinstance(message, dict):
        raise ProtocolError("message qui n'est pas un objet JSON")
    return message


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.0f}\u00a0Mo".replace(",", "\u202f")  # 1 600 Mo


def _array(value: np.ndarray, copy: bool = False) -> dict:
    """``copy``: work on a copy (an array the sender's code may still change); refused before copying."""
    value = np.asarray(value)  # not ascontiguousarray: it turns a 0-d array into shape (1,); tobytes() is C order
    if value.dtype.name not in DTYPES:
        raise Unsupported(f"tableau de type {value.dtype.name}")
    # Refused before any copy: encoding a huge array would cost seconds and gigabytes, then fail in send().
    if value.nbytes > MAX_ARRAY_BYTES:
        raise TooLarge(f"tableau de {_megabytes(value.nbytes)}, au plus {_megabytes(MAX_ARRAY_BYTES)}")
    if copy:
        value = np.array(value)
    return {"t": "array", "dtype": value.dtype.name, "shape": list(value.shape),
            "data": base64.b64encode(value.tobytes()).decode("ascii")}


def encode(value: Any, depth: int = 0) -> dict:
    """Plain-data form of ``value`` (raises Unsupported)."""
    if depth > MAX_DEPTH:
        raise Unsupported("structure trop profonde")
    if value is None:
        return {"t": "none"}
    remote = getattr(value, "__remote_name__", None)
    if isinstance(remote, str):
        return {"t": "ref", "name": remote}
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": float(value).hex()}
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise Unsupported("chaîne trop longue")
        return {"t": "str", "v": str(value)}
    if isinstance(value, np.ndarray):
        return _array(value, copy=True)
    module = type(value).__module__ or ""
    if module.startswith(("tensorflow", "keras")) and hasattr(value, "numpy"):
        kind = "variable" if "Variable" in type(value).__name__ else "tensor"
        return {"t": kind, "v": _array(np.asarray(value.numpy()))}
    if isinstance(value, (list, tuple)):
        return {"t": "list" if isinstance(value, list) else "tuple", "v": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unsupported("dictionnaire dont les clés ne sont pas des chaînes")
        return {"t": "dict", "v": [[str(k), encode(v, depth + 1)] for k, v in value.items()]}
    raise Unsupported(type(value).__name__)


def _decode_array(item: Any) -> np.ndarray:
    if not isinstance(item, dict) or item.get("t") != "array":
        raise ProtocolError("tableau attendu")
    dtype, shape, data = item.get("dtype"), item.get("shape"), item.get("data")
    if (not isinstance(dtype, str) or dtype not in DTYPES or not isinstance(shape, list)
            or not all(isinstance(d, int) and d >= 0 for d in shape)):
        raise ProtocolError("tableau mal décrit")
    if not isinstance(data, str):
        raise ProtocolError("données de tableau absentes")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:  # binascii.Error, or characters that are not ASCII
        raise ProtocolError("données de tableau qui ne sont pas en base 64") from None
    expected = math.prod(shape) * np.dtype(dtype).itemsize  # Python integers: no overflow
    if len(raw) != expected:
        raise ProtocolError("taille de tableau incohérente")
    try:
        return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape).copy()
    except (ValueError, OverflowError):  # too many dimensions, or a dimension NumPy cannot hold
        raise ProtocolError("tableau mal décrit") from None


def _number(parse: Any, text: str) -> int | float:
    try:
        return parse(text)
    except (ValueError, OverflowError):
        raise ProtocolError(f"nombre illisible : {text[:40]!r}") from None


def decode(item: Any, depth: int = 0, tf: Any = None, resolve: Any = None) -> Any:
    """Value of a plain-data form (raises ProtocolError).

    ``tf`` rebuilds tensors and variables; ``resolve`` turns a reference to a
    function of the student's process (by name) into that function, on that side only.
    """
    if depth > MAX_DEPTH or not isinstance(item, dict):
        raise ProtocolError("valeur mal formée")
    kind = item.get("t")
    if kind == "none":
        return None
    if kind == "bool" and isinstance(item.get("v"), bool):
        return item["v"]
    if kind == "int" and isinstance(item.get("v"), str) and len(item["v"]) < 400:
        return _number(int, item["v"])
    if kind == "float" and isinstance(item.get("v"), str):
        return _number(float.fromhex, item["v"])
    if kind == "str" and isinstance(item.get("v"), str):
        return item["v"]
    if kind == "array":
        return _decode_array(item)
    if kind == "ref" and resolve is not None and isinstance(item.get("name"), str):
        return resolve(item["name"])
    if kind in ("tensor", "variable"):
        array = _decode_array(item.get("v"))
        if tf is None:
            return array
        return tf.Variable(array) if kind == "variable" else tf.constant(array)
    if kind in ("list", "tuple") and isinstance(item.get("v"), list):
        values = [decode(v, depth + 1, tf, resolve) for v in item["v"]]
        return values if kind == "list" else tuple(values)
    if kind == "dict" and isinstance(item.get("v"), list):
        result = {}
        for pair in item["v"]:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ProtocolError("dictionnaire mal formé")
            result[pair[0]] = decode(pair[1], depth + 1, tf, resolve)
        return result
    raise ProtocolError(f"type de valeur inconnu : {kind!r}")
