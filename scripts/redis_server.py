"""A throwaway Redis server on a loopback port, for the benchmark and the multi-instance tests.

``redis-server`` comes from Debian (``scripts/system_deps.sh`` installs it). The
server keeps nothing on disk, listens on 127.0.0.1 only, and stops with its
owner: the caller stops it, and it is in the caller's process group otherwise.
"""

import shutil
import socket
import subprocess
import time
from pathlib import Path


def redis_available() -> bool:
    """Whether ``redis-server`` is installed."""
    return shutil.which("redis-server") is not None


def start_redis(port: int, work_dir: Path) -> "subprocess.Popen[bytes]":
    """Starts redis-server on 127.0.0.1:<port> and waits until it answers."""
    work_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(work_dir), "--protected-mode", "yes", "--logfile", str(work_dir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode}; see {work_dir / 'redis.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise TimeoutError("redis-server did not answer within 20 s")


def stop_redis(process: "subprocess.Popen[bytes]") -> None:
    """Stops the server."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
