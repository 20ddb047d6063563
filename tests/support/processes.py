"""Start the real processes tests need: a private redis-server and the simulators."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        _terminate(self.process)


def start_redis(directory: Path, *extra: str) -> RedisServer:
    """A redis-server of our own on a free loopback port (never the shared 6379)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: install it (Debian: apt-get install redis-server)")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory), "--daemonize", "no", "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen([*args, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}; see {directory}/redis.log")
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    wait_until(ready, 10, "redis-server")
    client.close()
    return RedisServer(process, port, directory)


@dataclass
class Simulators:
    process: subprocess.Popen[bytes]
    topology: dict[str, Any]
    topology_file: Path

    @property
    def control_url(self) -> str:
        return str(self.topology["control_url"])

    def url(self, service: str, dc: str) -> str:
        return str(self.topology["services"][service][dc])

    def stop(self) -> None:
        _terminate(self.process)


def start_simulators(directory: Path) -> Simulators:
    """`python -m sim` on free ports, as a separate process, like the real services."""
    directory.mkdir(parents=True, exist_ok=True)
    topology_file = directory / "topology.json"
    topology_file.unlink(missing_ok=True)
    log = (directory / "sim.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "--base-port", "0", "--topology-file", str(topology_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"simulators exited with {process.returncode}; see {directory}/sim.log")
        return topology_file.exists()

    wait_until(ready, 30, "simulators")
    return Simulators(process, json.loads(topology_file.read_text()), topology_file)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
