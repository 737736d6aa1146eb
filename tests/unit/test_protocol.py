"""The sandbox boundary's wire format: round trips, refusals, and malformed input from the other side."""

from __future__ import annotations

import base64
import json
import math
import os
import random
import struct
import tempfile
import threading

import numpy as np
import pytest

from autograder.execution import protocol

SEED = 20261201
FUZZ_CASES = 3000


def through_the_wire(value):
    """``value`` encoded, serialised as the frame body would be, parsed, decoded."""
    text = json.dumps(protocol.encode(value), separators=(",", ":"), allow_nan=False)
    return protocol.decode(json.loads(text))


def receive_bytes(data: bytes, timeout: float | None = None) -> dict:
    """What ``receive`` makes of ``data`` when the other side wrote exactly that and closed."""
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.seek(0)
        return protocol.receive(handle.fileno(), timeout)


def frame(body: bytes, announced: int | None = None) -> bytes:
    return struct.pack(">I", len(body) if announced is None else announced) + body


class EagerTensor:
    """Stands for a TensorFlow tensor as encode recognises one: its module and a numpy() method."""

    __module__ = "tensorflow.python.framework.ops"

    def __init__(self, array):
        self._array = np.asarray(array)

    def numpy(self):
        return self._array


class ResourceVariable(EagerTensor):
    __module__ = "tensorflow.python.ops.resource_variable_ops"


class Rebuilder:
    """The ``tf`` argument of decode: records what it is asked to build."""

    def constant(self, array):
        return ("constant", array)

    def Variable(self, array):  # noqa: N802 - the name TensorFlow uses
        return ("Variable", array)


# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, False, 0, -1, 7, 2**200, -(2**63), 0.0, -0.0, 1.5, 1e-310, 1.7976931348623157e308,
    math.inf, -math.inf, "", "é « à » \u00a0; 🙂", "a" * 1000,
    [], (), {}, [1, "deux", 3.0, None], (1, (2, (3,))), {"x": [1, 2], "y": {"z": (True, None)}},
])
def test_when_a_plain_value_crosses_the_boundary_then_it_comes_back_equal_and_of_the_same_type(value):
    back = through_the_wire(value)
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


def test_when_nan_crosses_the_boundary_then_it_is_still_nan():
    assert math.isnan(through_the_wire(float("nan")))


def test_when_numpy_scalars_cross_the_boundary_then_they_become_python_numbers():
    assert through_the_wire(np.float32(0.5)) == 0.5 and type(through_the_wire(np.float32(0.5))) is float
    assert through_the_wire(np.int64(-3)) == -3 and type(through_the_wire(np.int64(-3))) is int
    assert through_the_wire(np.bool_(True)) is True


@pytest.mark.parametrize("dtype", sorted(protocol.DTYPES))
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 0, 4)])
def test_when_an_array_of_any_allowed_dtype_crosses_then_dtype_shape_and_values_are_kept(dtype, shape):
    rng = np.random.default_rng(0)
    array = (rng.integers(0, 100, size=shape) if dtype != "bool" else rng.integers(0, 2, size=shape)).astype(dtype)
    back = through_the_wire(array)
    assert isinstance(back, np.ndarray)
    assert back.dtype == np.dtype(dtype) and back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_when_a_non_contiguous_array_crosses_then_its_values_are_those_of_the_view():
    array = np.arange(12, dtype="float64").reshape(3, 4).T[::2]
    np.testing.assert_array_equal(through_the_wire(array), array)


def test_when_a_tensor_or_variable_crosses_then_the_receiver_rebuilds_the_same_kind():
    encoded = protocol.encode([EagerTensor([1.0, 2.0]), ResourceVariable(np.float32(3.0))])
    assert [item["t"] for item in encoded["v"]] == ["tensor", "variable"]
    kinds = protocol.decode(json.loads(json.dumps(encoded)), tf=Rebuilder())
    assert [kind for kind, _ in kinds] == ["constant", "Variable"]
    np.testing.assert_array_equal(kinds[0][1], [1.0, 2.0])
    assert kinds[1][1].dtype == np.float32 and kinds[1][1] == 3.0


def test_when_a_tensor_arrives_without_tensorflow_then_it_is_a_numpy_array():
    back = protocol.decode(protocol.encode(EagerTensor(np.eye(2, dtype="float32"))))
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_array_equal(back, np.eye(2))


def test_when_a_remote_function_is_sent_then_only_its_name_crosses_and_the_other_side_resolves_it():
    class Remote:
        __remote_name__ = "gradient_affine"

    encoded = protocol.encode([Remote()])
    assert encoded == {"t": "list", "v": [{"t": "ref", "name": "gradient_affine"}]}
    assert protocol.decode(encoded, resolve=lambda name: f"<{name}>") == ["<gradient_affine>"]
    with pytest.raises(protocol.ProtocolError):  # a side without a resolver never follows a reference
        protocol.decode(encoded)


def test_when_messages_are_sent_through_a_pipe_then_they_are_received_in_order_and_intact():
    read_fd, write_fd = os.pipe()
    messages = [{"op": "ping", "id": 1}, {"id": 2, "result": protocol.encode(np.arange(50_000.0))}]
    writer = threading.Thread(target=lambda: [protocol.send(write_fd, m) for m in messages])
    writer.start()
    try:
        received = [protocol.receive(read_fd, timeout=10), protocol.receive(read_fd, timeout=10)]
    finally:
        writer.join()
        os.close(write_fd)
    try:
        assert received[0] == messages[0]
        np.testing.assert_array_equal(protocol.decode(received[1]["result"]), np.arange(50_000.0))
        with pytest.raises(EOFError):  # the writer closed: the stream ends
            protocol.receive(read_fd, timeout=10)
    finally:
        os.close(read_fd)


def test_when_nothing_arrives_before_the_deadline_then_receive_times_out():
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(TimeoutError):
            protocol.receive(read_fd, timeout=0.05)
    finally:
        os.close(read_fd)
        os.close(write_fd)


# --------------------------------------------------------------------------
# Refusals on the sending side
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    object(), {1, 2}, b"bytes", {1: "int key"}, np.array(["a", "b"]), np.array([object()]),
    np.datetime64("2026-12-01"), "x" * (protocol.MAX_STRING + 1), [[object()]],
])
def test_when_a_value_is_not_plain_data_then_encode_refuses_it(value):
    with pytest.raises(protocol.Unsupported):
        protocol.encode(value)


def test_when_an_array_is_over_the_size_limit_then_encode_refuses_it_before_copying_it():
    # A view of one number as a huge array: nothing is allocated unless encode copies it.
    huge = np.broadcast_to(np.float64(0.0), (4 * 10**8,))
    with pytest.raises(protocol.TooLarge, match="tableau de 3\u202f200\u00a0Mo, au plus 50\u00a0Mo"):
        protocol.encode([1.0, huge])
    largest = np.broadcast_to(np.float32(1.0), (protocol.MAX_ARRAY_BYTES // 4,))
    assert protocol.decode(protocol.encode(largest)).shape == largest.shape
    with pytest.raises(protocol.TooLarge):
        protocol.encode(np.broadcast_to(np.float32(1.0), (protocol.MAX_ARRAY_BYTES // 4 + 1,)))


def test_when_a_structure_is_deeper_than_the_limit_then_encode_refuses_it_and_decode_too():
    value = []
    for _ in range(protocol.MAX_DEPTH + 2):
        value = [value]
    with pytest.raises(protocol.Unsupported, match="profonde"):
        protocol.encode(value)
    item = {"t": "none"}
    for _ in range(protocol.MAX_DEPTH + 2):
        item = {"t": "list", "v": [item]}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(item)


def test_when_a_message_is_over_the_size_limit_then_send_refuses_it_before_writing(monkeypatch):
    monkeypatch.setattr(protocol, "MAX_MESSAGE", 100)
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(protocol.ProtocolError, match="volumineux"):
            protocol.send(write_fd, {"v": "x" * 200})
        os.set_blocking(read_fd, False)
        with pytest.raises(BlockingIOError):  # nothing was written
            os.read(read_fd, 1)
    finally:
        os.close(read_fd)
        os.close(write_fd)


# --------------------------------------------------------------------------
# Malformed input from the other side
# --------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    frame(b"", announced=protocol.MAX_MESSAGE + 1),
    frame(b"", announced=0xFFFFFFFF),
    frame(b"\xff\xfe{}"),
    frame(b"{\"a\": "),
    frame(b"[]"),
    frame(b"42"),
    frame(b"null"),
    frame(b""),
    frame(b"[" * 100_000 + b"]" * 100_000),
    frame(b"{\"a\":" * 50_000 + b"1" + b"}" * 50_000),
    frame(b"NaN"),
])
def test_when_a_frame_is_malformed_then_receive_raises_a_protocol_error(data):
    with pytest.raises(protocol.ProtocolError):
        receive_bytes(data)


@pytest.mark.parametrize("data", [b"", b"\x00\x00", frame(b"{}", announced=10), frame(b"", announced=1)])
def test_when_the_stream_ends_inside_a_frame_then_receive_raises_eof(data):
    with pytest.raises(EOFError):
        receive_bytes(data)


@pytest.mark.parametrize("item", [
    None, [], "int", {"t": "int", "v": "abc"}, {"t": "int", "v": "1" * 500}, {"t": "int", "v": 3},
    {"t": "float", "v": "zz"}, {"t": "float", "v": "0x1p99999"}, {"t": "float", "v": 1.5},
    {"t": "bool", "v": 1}, {"t": "str", "v": None}, {"t": ["list"]}, {"t": {"dict": 1}}, {"t": "pickle"},
    {"t": "array", "dtype": ["int8"], "shape": [1], "data": "AA=="},
    {"t": "array", "dtype": "object", "shape": [1], "data": "AA=="},
    {"t": "array", "dtype": "int8", "shape": [1], "data": "!!"},
    {"t": "array", "dtype": "int8", "shape": [2], "data": "AA=="},
    {"t": "array", "dtype": "int8", "shape": [-1], "data": "AA=="},
    {"t": "array", "dtype": "int8", "shape": [1.0], "data": "AA=="},
    {"t": "array", "dtype": "int8", "shape": 1, "data": "AA=="},
    {"t": "array", "dtype": "int8", "shape": [2**40, 2**40], "data": ""},
    {"t": "array", "dtype": "int8", "shape": [2**70], "data": ""},
    {"t": "array", "dtype": "int8", "shape": [0, 2**70], "data": ""},
    {"t": "array", "dtype": "int8", "shape": [1] * 70, "data": "AA=="},
    {"t": "array", "dtype": "int8", "shape": [1], "data": None},
    {"t": "tensor", "v": {"t": "int", "v": "1"}}, {"t": "variable"},
    {"t": "list", "v": {"t": "none"}}, {"t": "list", "v": [{"t": "int", "v": "x"}]},
    {"t": "dict", "v": [["a"]]}, {"t": "dict", "v": [[1, {"t": "none"}]]}, {"t": "dict", "v": {"a": 1}},
    {"t": "ref", "name": "f"},
])
def test_when_a_value_is_malformed_then_decode_raises_a_protocol_error(item):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(item)


# Fuzzing: seeded, so that a failure is reproducible; every case is either accepted or refused
# with ProtocolError (EOFError only when the bytes end before the frame announced by its header).

def _random_json(rng: random.Random, depth: int = 0):
    choice = rng.randrange(9 if depth < 4 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**70), rng.randrange(-10**6, 10**6)])
    if choice == 3:
        return rng.choice([0.5, -1e308, 1e-300, rng.random()])
    if choice == 4:
        return rng.choice(["", "t", "int", "array", "int8", "float64", "0x1p3", "12", "AA==", "!!", "é",
                           "\ud800", "nan", "inf", "-0x1.8p1", "1_000", " 7 "])
    if choice == 5:
        return "".join(rng.choice("0123456789abcdefxp.-+_ =/") for _ in range(rng.randrange(12)))
    if choice == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 7:
        keys = ["t", "v", "dtype", "shape", "data", "name", "x"]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}
    return _random_value_form(rng, depth + 1)


def _random_value_form(rng: random.Random, depth: int = 0):
    """A valid encoding, mostly mutated: a field changed, removed, or replaced by random JSON."""
    samples = [None, True, 3, -2.5, "texte", [1, 2.0], (1, "a"), {"a": [None]},
               (np.arange(6) % 2).astype(rng.choice(sorted(protocol.DTYPES))).reshape(2, 3), EagerTensor([1.0])]
    form = protocol.encode(rng.choice(samples))
    if rng.random() < 0.2:
        return form
    target = form
    while isinstance(target.get("v"), (list, dict)) and rng.random() < 0.5:
        inner = target["v"]
        candidate = inner if isinstance(inner, dict) else (rng.choice(inner) if inner else None)
        if isinstance(candidate, list) and len(candidate) == 2:  # a dict's [key, value] pair
            candidate = candidate[1]
        if not isinstance(candidate, dict):
            break
        target = candidate
    key = rng.choice(sorted(target) or ["t"])
    action = rng.randrange(4)
    if action == 0:
        target.pop(key, None)
    elif action == 1 or depth > 3:
        target[key] = _random_json(rng, 4)
    elif action == 2 and key == "shape" and isinstance(target.get(key), list):
        target[key] = [rng.choice([0, 1, 2, 3, 6, -1, 2**31, 2**63, 2**64 + 1]) for _ in range(rng.randrange(5))]
    elif action == 2 and key == "data" and isinstance(target.get(key), str):
        raw = base64.b64decode(target[key])
        target[key] = base64.b64encode(raw[: rng.randrange(len(raw) + 1)]).decode() + rng.choice(["", "=", "A", "*"])
    else:
        target[key] = _random_json(rng, depth + 1)
    return form


def test_when_decode_is_fuzzed_with_mutated_values_then_only_protocol_errors_are_raised():
    rng = random.Random(SEED)
    accepted = refused = 0
    for case in range(FUZZ_CASES):
        item = _random_value_form(rng) if case % 3 else _random_json(rng)
        try:
            protocol.decode(item, tf=Rebuilder(), resolve=lambda name: name)
            accepted += 1
        except protocol.ProtocolError:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - what the test is about
            pytest.fail(f"case {case}: {type(exc).__name__}: {exc} for {json.dumps(item)[:300]}")
    assert accepted > FUZZ_CASES // 10 and refused > FUZZ_CASES // 10  # both paths were exercised


def _random_frame(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    valid = json.dumps({"id": rng.randrange(100), "result": _random_value_form(rng)}).encode()
    if kind == 0:  # truncated anywhere
        whole = frame(valid)
        return whole[: rng.randrange(len(whole))]
    if kind == 1:  # wrong length header, shorter or longer than the body
        return frame(valid, announced=max(0, len(valid) + rng.choice([-5, -1, 1, 7])))
    if kind == 2:  # garbage bytes
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        return frame(body) if rng.random() < 0.7 else body
    if kind == 3:  # JSON of the wrong type
        return frame(json.dumps(_random_json(rng)).encode())
    if kind == 4:  # huge length header
        return struct.pack(">I", rng.randrange(protocol.MAX_MESSAGE + 1, 2**32)) + valid
    body = bytearray(valid)  # one byte flipped
    if body:
        body[rng.randrange(len(body))] = rng.randrange(256)
    return frame(bytes(body))


def test_when_receive_is_fuzzed_with_malformed_frames_then_only_protocol_errors_or_eof_are_raised():
    rng = random.Random(SEED + 1)
    outcomes = {"message": 0, "ProtocolError": 0, "EOFError": 0}
    for case in range(FUZZ_CASES):
        data = _random_frame(rng)
        announced = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else None
        ends_early = announced is None or (announced <= protocol.MAX_MESSAGE and len(data) - 4 < announced)
        try:
            message = receive_bytes(data)
            assert isinstance(message, dict)
            outcomes["message"] += 1
        except protocol.ProtocolError:
            assert not ends_early, f"case {case}: a complete frame was expected to be read: {data[:80]!r}"
            outcomes["ProtocolError"] += 1
        except EOFError:
            assert ends_early, f"case {case}: EOFError on a complete frame: {data[:80]!r}"
            outcomes["EOFError"] += 1
        except Exception as exc:  # noqa: BLE001 - what the test is about
            pytest.fail(f"case {case}: {type(exc).__name__}: {exc} for {data[:300]!r}")
    assert all(count > FUZZ_CASES // 20 for count in outcomes.values()), outcomes
