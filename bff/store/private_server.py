"""A private redis-server for the demo and development, when no REDIS_URL is given."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

HOW_TO_GET_REDIS = (
    "no REDIS_URL is set and no redis-server is installed. Either point the BFF at a Redis "
    "(export REDIS_URL=redis://host:6379/0) or install one (Debian/Ubuntu: apt-get install "
    "redis-server; macOS: brew install redis) and run the command again."
)


class RedisUnavailable(RuntimeError):
    """No Redis to use; the message says how to get one."""


@dataclass
class PrivateRedis:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_private_redis(directory: Path, timeout_s: float = 10.0) -> PrivateRedis:
    """Start redis-server on a free loopback port with its files in `directory`."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisUnavailable(HOW_TO_GET_REDIS)
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(directory / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RedisUnavailable(
                    f"redis-server exited with {process.returncode}; see {directory}/redis.log"
                )
            try:
                client.ping()
                return PrivateRedis(process, port)
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    process.kill()
    raise RedisUnavailable(f"redis-server did not answer within {timeout_s:.0f} s; see {directory}/redis.log")
