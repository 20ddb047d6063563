"""The real processes tests need, started by the product's own launchers.

The private redis-server and the simulators come from the same code the demo
uses (`bff.store.private_server`, `bff.demo`), so the tests exercise it too.
"""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bff.demo import start_simulators as launch_simulators
from bff.store.private_server import PrivateRedis, free_port, start_private_redis

__all__ = ["RedisServer", "Simulators", "free_port", "start_redis", "start_simulators"]

RedisServer = PrivateRedis


def start_redis(directory: Path) -> RedisServer:
    """A redis-server of our own on a free loopback port (never the shared 6379)."""
    return start_private_redis(directory)


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
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_simulators(directory: Path) -> Simulators:
    """`python -m sim` on free ports, as a separate process, like the real services."""
    process, topology_file = launch_simulators(directory, timeout_s=30)
    return Simulators(process, json.loads(topology_file.read_text()), topology_file)
