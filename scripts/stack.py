"""Starts and stops the three processes (Rasa, action server, service) as one unit.

Used by the run command (``scripts/run.py``) and by the end-to-end tests, which
start their own stack on other ports with a temporary database.

Rasa and the action server listen on 127.0.0.1 only. Secrets travel in the
environment, never on a command line (where ``ps`` would show them): Rasa is
started through ``bot/rasa_server.py``, which reads RASA_TOKEN, and the action
server through ``bot/actions/server.py``, which refuses every request without
ACTION_SERVER_TOKEN except ``GET /health``.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class StackConfig:
    """Ports, files and secrets of one stack."""

    var_dir: Path = ROOT / "var"
    model_path: Path = ROOT / "models" / "current.tar.gz"
    service_host: str = "127.0.0.1"
    service_port: int = 8000
    rasa_port: int = 5005
    # Further Rasa instances: the router spreads conversations over all of them (needs redis_url).
    more_rasa_ports: list[int] = field(default_factory=list)
    # Redis for Rasa's lock store (and the service's event hub when REDIS_URL is in extra_env).
    redis_url: str | None = None
    # A whole database URL for Rasa's tracker store (postgresql://...); None: SQLite under var_dir.
    tracker_url: str | None = None
    actions_port: int = 5055
    database_url: str | None = None
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Rasa presents it to the action server (endpoints.yml); the action server refuses calls without it.
    action_server_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # The one integration allowed to open conversations over the REST API (X-API-Key).
    integration_api_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    extra_env: dict[str, str] = field(default_factory=dict)
    log_prefix: bool = True

    @property
    def rasa_ports(self) -> list[int]:
        """Every Rasa instance's port, the first one first."""
        return [self.rasa_port, *self.more_rasa_ports]

    @property
    def service_url(self) -> str:
        """The service's base URL."""
        return f"http://127.0.0.1:{self.service_port}"


def lock_store_environment(redis_url: str | None) -> dict[str, str]:
    """endpoints.yml's lock store: in memory for one Rasa instance, Redis when several share conversations."""
    if not redis_url:
        return {"LOCK_STORE_TYPE": "in_memory", "LOCK_STORE_HOST": "", "LOCK_STORE_PORT": "", "LOCK_STORE_DB": ""}
    parsed = urllib.parse.urlsplit(redis_url)
    return {"LOCK_STORE_TYPE": "redis", "LOCK_STORE_HOST": parsed.hostname or "127.0.0.1",
            "LOCK_STORE_PORT": str(parsed.port or 6379), "LOCK_STORE_DB": parsed.path.strip("/") or "1"}


class Stack:
    """The three processes of the product, started together and stopped together."""

    def __init__(self, config: StackConfig, log_file: Path | None = None) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.log_file = log_file
        self._log_handle = open(log_file, "ab") if log_file else None

    def environment(self) -> dict[str, str]:
        """The environment every process shares."""
        config = self.config
        config.var_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "RASA_URL": ",".join(f"http://127.0.0.1:{port}" for port in config.rasa_ports),
            "RASA_TOKEN": config.rasa_token,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{config.actions_port}",
            "ACTION_WEBHOOK_URL": f"http://127.0.0.1:{config.actions_port}/webhook",
            "SERVICE_URL": config.service_url,
            "INTERNAL_API_TOKEN": config.internal_token,
            "ACTION_SERVER_TOKEN": config.action_server_token,
            "INTEGRATION_API_KEYS": json.dumps([config.integration_api_key]),
            "SECRET_KEY": config.secret_key,
            "ENVIRONMENT": "development",
            "TRACKER_DIALECT": "postgresql" if config.tracker_url else "sqlite",
            "TRACKER_URL": config.tracker_url or "",
            "TRACKER_DB": "" if config.tracker_url else str(config.var_dir / "rasa_tracker.db"),
            # Several processes share few cores: TensorFlow's own thread pools would spin against them.
            "TF_INTRA_OP_PARALLELISM_THREADS": os.environ.get("TF_INTRA_OP_PARALLELISM_THREADS", "1"),
            "TF_INTER_OP_PARALLELISM_THREADS": os.environ.get("TF_INTER_OP_PARALLELISM_THREADS", "1"),
            # Rasa's tracker store on PostgreSQL: small pools, so several instances stay under max_connections.
            "SQL_POOL_SIZE": os.environ.get("SQL_POOL_SIZE", "5"),
            "SQL_MAX_OVERFLOW": os.environ.get("SQL_MAX_OVERFLOW", "5"),
            **lock_store_environment(config.redis_url),
            "DATABASE_URL": config.database_url or f"sqlite:///{config.var_dir / 'service.db'}",
        })
        env.update(config.extra_env)
        return env

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        output = self._log_handle if self._log_handle else None
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, start_new_session=True,
            stdout=output if output else subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        if output is None and process.stdout is not None:
            threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name: str, process: "subprocess.Popen[bytes]") -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            text = line.decode("utf-8", "replace").rstrip()
            sys.stdout.write(f"{name:>8} | {text}\n" if self.config.log_prefix else text + "\n")
            sys.stdout.flush()

    def start(self) -> None:
        """Starts Rasa, the action server and the service."""
        config = self.config
        env = self.environment()
        bot_python = str(ROOT / ".venv-bot" / "bin" / "python")
        # endpoints.yml names the action server's webhook URL ACTION_SERVER_URL.
        rasa_env = dict(env, ACTION_SERVER_URL=env["ACTION_WEBHOOK_URL"])
        if config.more_rasa_ports and not config.redis_url:
            raise ValueError("several Rasa instances need a Redis lock store (redis_url)")
        for index, port in enumerate(config.rasa_ports):
            self._spawn("rasa" if index == 0 else f"rasa{index + 1}",
                        [bot_python, "-m", "bot.rasa_server", "--model", str(config.model_path),
                         "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                         "--enable-api", "--interface", "127.0.0.1", "--port", str(port)], rasa_env)
        self._spawn("actions", [bot_python, "-m", "bot.actions.server",
                                "--host", "127.0.0.1", "--port", str(config.actions_port)], env)
        self._spawn("service", [str(ROOT / ".venv" / "bin" / "uvicorn"), "service.main:app",
                                "--host", config.service_host, "--port", str(config.service_port),
                                "--no-access-log"], env)

    def check(self) -> dict[str, bool]:
        """Probes each process's health endpoint."""
        config = self.config
        urls = {
            ("rasa" if index == 0 else f"rasa{index + 1}"): f"http://127.0.0.1:{port}/status?token={config.rasa_token}"
            for index, port in enumerate(config.rasa_ports)
        }
        urls |= {
            "actions": f"http://127.0.0.1:{config.actions_port}/health",
            "service": f"{config.service_url}/healthz",
        }
        status = {}
        for name, url in urls.items():
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    status[name] = response.status == 200
            except (urllib.error.URLError, OSError):
                status[name] = False
        return status

    def wait_healthy(self, timeout: float = 300.0) -> None:
        """Waits until every process reports healthy; raises if one dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode} during start-up")
            if all(self.check().values()):
                return
            time.sleep(1.0)
        raise TimeoutError(f"stack not healthy after {timeout:.0f}s: {self.check()}")

    def stop(self, grace: float = 15.0) -> None:
        """Stops every process: SIGTERM to its group, SIGKILL after the grace period."""
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        if self._log_handle:
            self._log_handle.close()
