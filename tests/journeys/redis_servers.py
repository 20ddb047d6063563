"""redis-server processes the journey tests configure themselves: durable (AOF) ones and a 3-master cluster.

The suite's shared server (tests/conftest.py) runs without persistence; the
journey store needs `appendonly yes` + `appendfsync always`, and some tests
kill their server and start it again on the same port and directory.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.processes import free_port

DURABLE = ("--appendonly", "yes", "--appendfsync", "always", "--save", "")


@dataclass
class RedisProcess:
    """One redis-server; `kill` and `start` again keep its port, directory and settings."""

    directory: Path
    port: int
    settings: tuple[str, ...]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        assert binary, "the journey tests need redis-server on PATH (Debian: apt-get install redis-server)"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--logfile",
                "redis.log",
                *self.settings,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_ready(timeout_s)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync; what the AOF holds is what survives."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _wait_ready(self, timeout_s: float) -> None:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                assert self.process is not None
                assert self.process.poll() is None, f"redis-server exited; see {self.directory}/redis.log"
                try:
                    client.ping()  # BusyLoadingError (a ConnectionError) while the AOF loads
                    return
                except redis.ConnectionError:
                    time.sleep(0.02)
        finally:
            client.close()
        raise AssertionError(
            f"redis-server did not answer within {timeout_s} s; see {self.directory}/redis.log"
        )


def start_durable_redis(directory: Path, *, appendfsync: str = "always") -> RedisProcess:
    """A redis-server with append-only persistence, on a free loopback port."""
    settings = ("--appendonly", "yes", "--appendfsync", appendfsync, "--save", "")
    server = RedisProcess(directory, free_port(), settings)
    server.start()
    return server


@dataclass
class RedisClusterProcesses:
    nodes: list[RedisProcess]

    @property
    def url(self) -> str:
        """Any node's URL: the cluster client learns the others from it."""
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(directory: Path, masters: int = 3, timeout_s: float = 20.0) -> RedisClusterProcesses:
    """A Redis Cluster of `masters` durable primaries on loopback, slots split evenly, without redis-cli."""
    nodes = []
    for index in range(masters):
        # The bus port is chosen too: port + 10000 (the default) may be taken or above 65535.
        settings = (*DURABLE, "--cluster-enabled", "yes", "--cluster-port", str(free_port()))
        settings += ("--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
        node = RedisProcess(directory / f"node-{index}", free_port(), settings)
        node.start()
        nodes.append(node)
    _form_cluster(nodes, timeout_s)
    return RedisClusterProcesses(nodes)


def _form_cluster(nodes: list[RedisProcess], timeout_s: float) -> None:
    clients = [redis.Redis(port=node.port, decode_responses=True) for node in nodes]
    try:
        share = 16384 // len(nodes)
        for index, client in enumerate(clients):
            last = 16383 if index == len(nodes) - 1 else (index + 1) * share - 1
            client.execute_command("CLUSTER ADDSLOTSRANGE", index * share, last)
            # Distinct epochs, as redis-cli sets them, so no node has to win a collision first.
            client.execute_command("CLUSTER SET-CONFIG-EPOCH", index + 1)
        for node in nodes[1:]:
            bus_port = node.settings[node.settings.index("--cluster-port") + 1]
            clients[0].execute_command("CLUSTER MEET", "127.0.0.1", node.port, bus_port)
        deadline = time.monotonic() + timeout_s
        while not all(_cluster_ready(client, len(nodes)) for client in clients):
            assert time.monotonic() < deadline, "the cluster did not form in time"
            time.sleep(0.05)
    finally:
        for client in clients:
            client.close()


def _cluster_ready(client: redis.Redis, size: int) -> bool:
    info = client.execute_command("CLUSTER INFO")
    return bool(info["cluster_state"] == "ok" and int(info["cluster_known_nodes"]) == size)
