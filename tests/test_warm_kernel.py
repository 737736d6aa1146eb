"""The test suite's kernels, forked from a warm process, behave as kernels started afresh.

The session's default provisioner is coursetools.warm_kernel's (tests/conftest.py). Each test
compares what a cell sees in a forked kernel with what it sees in a kernel started by jupyter_client's
local provisioner, in the same folder.
"""

from __future__ import annotations

import os
import sys
import time

import pytest
from jupyter_client.manager import KernelManager

from coursetools import warm_kernel

PROBE = r"""
import json, os, sys, logging
import tensorflow as tf, numpy as np
tf.get_logger().warning("alerte du ruban")
print(json.dumps({
    "cwd": os.getcwd(), "path0": sys.path[0], "marker": os.environ.get("NOYAU_MARQUEUR"),
    "local": __import__("module_local").WHERE, "argv0": os.path.basename(sys.argv[0]),
    "parent": os.environ.get("JPY_PARENT_PID"), "random": float(np.random.rand()),
    "session_leader": os.getsid(0) == os.getpid(),
    "parent_handle": __import__("ipykernel.kernelapp").kernelapp.IPKernelApp.instance().parent_handle,
    "backend": __import__("matplotlib").get_backend(),
}))
"""


def run_cell(manager: KernelManager, code: str, timeout: float = 60) -> tuple[str, str, str | None]:
    """stdout, stderr and the error name (if any) of ``code`` run in the manager's kernel."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        out, err, error = [], [], None

        def output(message):
            nonlocal error
            content = message["content"]
            if message["msg_type"] == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif message["msg_type"] == "error":
                error = content["ename"]

        client.execute_interactive(code, timeout=timeout, output_hook=output)
        return "".join(out), "".join(err), error
    finally:
        client.stop_channels()


def start(folder, provisioner: str) -> KernelManager:
    manager = KernelManager(kernel_name="python3")
    manager.kernel_spec.metadata["kernel_provisioner"] = {"provisioner_name": provisioner}
    manager.start_kernel(cwd=str(folder), env={**os.environ, "NOYAU_MARQUEUR": "vu"})
    return manager


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "module_local.py").write_text("WHERE = 'dossier du carnet'\n", encoding="utf-8")
    return tmp_path


def test_when_a_kernel_is_forked_then_a_cell_sees_what_it_sees_in_a_fresh_kernel(folder):
    import json

    seen = {}
    for provisioner in ("local-provisioner", warm_kernel.NAME):
        manager = start(folder, provisioner)
        try:
            out, err, error = run_cell(manager, PROBE)
            assert error is None, (provisioner, out, err)
            lines = out.strip().splitlines()
            seen[provisioner] = (lines[:-1], json.loads(lines[-1]), err, type(manager.provisioner.process).__name__)
        finally:
            manager.shutdown_kernel(now=True)
    fresh, forked = seen["local-provisioner"], seen[warm_kernel.NAME]
    assert fresh[3] == "Popen" and forked[3] == "ForkedKernel", "the warm provisioner did not fork this kernel"
    # TensorFlow's logger writes to the notebook's stdout in both (it was configured in the warm process first).
    assert fresh[0] == forked[0] == ["WARNING:tensorflow:alerte du ruban"], (fresh[0], forked[0])
    assert fresh[2] == forked[2] == ""
    different = {key for key in fresh[1] if fresh[1][key] != forked[1][key]}
    assert different == {"random"}, {key: (fresh[1][key], forked[1][key]) for key in different}
    assert forked[1]["cwd"] == str(folder) and forked[1]["local"] == "dossier du carnet"
    assert forked[1]["parent_handle"] == os.getpid() and "inline" in forked[1]["backend"]
    assert forked[1]["parent"] == str(os.getpid()) and forked[1]["session_leader"] and forked[1]["marker"] == "vu"


def test_when_two_kernels_are_forked_then_their_random_draws_differ(folder):
    draws = []
    for _ in range(2):
        manager = start(folder, warm_kernel.NAME)
        try:
            out, _, error = run_cell(manager, "import numpy as np; print(np.random.rand())")
            assert error is None
            draws.append(out)
        finally:
            manager.shutdown_kernel(now=True)
    assert draws[0] != draws[1]


def test_when_a_forked_kernel_is_interrupted_then_shut_down_it_ends(folder):
    manager = start(folder, warm_kernel.NAME)
    process = manager.provisioner.process
    assert isinstance(process, warm_kernel.ForkedKernel)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute("import time; time.sleep(600)")
        time.sleep(1.0)
        started = time.monotonic()
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - started < 10
    finally:
        client.stop_channels()
        manager.shutdown_kernel()
    assert process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)


def test_when_the_command_is_not_an_ipython_kernel_then_the_provisioner_does_not_fork_it(folder):
    assert warm_kernel._split([sys.executable, "-c", "pass"], dict(os.environ)) is None
    assert warm_kernel._split([sys.executable, "-c", "x", "-m", "ipykernel_launcher"], dict(os.environ)) is None
    prefix, arguments = warm_kernel._split([sys.executable, "-s", "-m", "ipykernel_launcher", "-f", "c.json"],
                                           dict(os.environ))
    assert prefix == [os.path.abspath(sys.executable), "-s"] and arguments == ["-f", "c.json"]
