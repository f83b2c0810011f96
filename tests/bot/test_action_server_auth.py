"""The action server entrypoint (bot/actions/server.py), started for real as a subprocess.

Every request without the shared token is refused (401) except GET /health, the
server binds the loopback interface by default, and it refuses to start without
acceptable secrets. Run with the bot environment:
``.venv-bot/bin/python -m pytest tests/bot/test_action_server_auth.py --noconftest -p no:cacheprovider -q``.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "action-server-token-for-tests-0001"
INTERNAL_TOKEN = "internal-token-for-tests-0001"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(**overrides: Optional[str]) -> Dict[str, str]:
    """The environment of a started server: the test's secrets, no host or port configured."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("ACTION_SERVER_HOST", "ACTION_SERVER_PORT", "ACTION_SERVER_TOKEN", "INTERNAL_API_TOKEN")}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "SERVICE_URL": "http://127.0.0.1:9",
                "ACTION_SERVER_TOKEN": TOKEN, "INTERNAL_API_TOKEN": INTERNAL_TOKEN})
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def command(*args: str) -> List[str]:
    return [sys.executable, "-m", "bot.actions.server", *args]


def call(url: str, method: str = "GET", token: Optional[str] = None, body: Optional[dict] = None,
         headers: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
    """(status, body text) of one request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


class RunningServer:
    def __init__(self, process: "subprocess.Popen[str]", port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real entrypoint with a token and no host configured (so the default applies)."""
    port = free_port()
    log = tmp_path_factory.mktemp("actions") / "server.log"
    with open(log, "w") as output:
        process = subprocess.Popen(command("--port", str(port)), cwd=ROOT, env=server_env(),
                                   stdout=output, stderr=subprocess.STDOUT, text=True)
    running = RunningServer(process, port, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"action server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if call(f"{running.url}/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"action server not up after 90 s:\n{log.read_text()}")
            time.sleep(0.3)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


WEBHOOK_CALL = {
    "next_action": "no_such_action",
    "sender_id": "test",
    "tracker": {"sender_id": "test", "slots": {}, "latest_message": {}, "events": [], "paused": False,
                "followup_action": None, "active_loop": {}, "latest_action_name": None},
    "domain": {},
    "version": "3.6.2",
}


def test_webhook_without_token_is_refused(server: RunningServer) -> None:
    status, body = call(f"{server.url}/webhook", "POST", body=WEBHOOK_CALL)
    assert status == 401
    assert json.loads(body)["error"] == "unauthorized"


@pytest.mark.parametrize("token", ["wrong-token", TOKEN[:-1] + "2", TOKEN + "x", TOKEN.upper()])
def test_webhook_with_wrong_token_is_refused(server: RunningServer, token: str) -> None:
    assert call(f"{server.url}/webhook", "POST", token=token, body=WEBHOOK_CALL)[0] == 401


@pytest.mark.parametrize("headers", [
    {"Authorization": TOKEN},                      # no scheme
    {"Authorization": f"Basic {TOKEN}"},           # another scheme
    {"Authorization": "Bearer "},                  # empty token
    {"X-Token": TOKEN},                            # another header
])
def test_token_only_counts_as_a_bearer_authorization(server: RunningServer, headers: Dict[str, str]) -> None:
    assert call(f"{server.url}/webhook", "POST", body=WEBHOOK_CALL, headers=headers)[0] == 401
    assert call(f"{server.url}/webhook?token={TOKEN}", "POST", body=WEBHOOK_CALL)[0] == 401


def test_action_list_needs_the_token(server: RunningServer) -> None:
    assert call(f"{server.url}/actions")[0] == 401
    assert call(f"{server.url}/actions", token="wrong-token-wrong-token")[0] == 401
    status, body = call(f"{server.url}/actions", token=TOKEN)
    assert status == 200
    assert {"name": "action_answer_faq"} in json.loads(body)


def test_webhook_with_the_token_reaches_the_actions(server: RunningServer) -> None:
    status, body = call(f"{server.url}/webhook", "POST", token=TOKEN, body=WEBHOOK_CALL)
    # Past the token check: the executor answers that the action does not exist.
    assert status == 404
    assert json.loads(body)["action_name"] == "no_such_action"


def test_health_is_open_and_reveals_nothing(server: RunningServer) -> None:
    status, body = call(f"{server.url}/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/no-such-route"),   # routing error, before middleware
    ("DELETE", "/webhook"),      # wrong method
    ("OPTIONS", "/webhook"),     # CORS preflight
    ("POST", "/health"),         # only GET /health is open
    ("GET", "/health/../actions"),
])
def test_everything_else_without_token_is_refused(server: RunningServer, method: str, path: str) -> None:
    status, body = call(f"{server.url}{path}", method)
    assert status == 401, body
    assert "action_" not in body


def listening_addresses(port: int) -> List[str]:
    """Local addresses of the TCP sockets listening on the port, from /proc/net/tcp and tcp6."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not os.path.exists(table):
            continue
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, port_hex = fields[1].split(":")
                if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A = LISTEN
                    raw = bytes.fromhex(address)
                    if width == 8:
                        found.append(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                    else:
                        # Four little-endian 32-bit words.
                        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                        found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


def non_loopback_addresses() -> List[str]:
    """The machine's IPv4 addresses other than 127.0.0.0/8."""
    addresses = set()
    if shutil.which("ip"):
        output = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
        addresses.update(line.split()[3].split("/")[0] for line in output.splitlines() if len(line.split()) > 3)
    try:
        addresses.update(info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET))
    except OSError:
        pass
    return sorted(a for a in addresses if not a.startswith("127."))


def test_listens_on_loopback_only_by_default(server: RunningServer) -> None:
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux /proc/net/tcp")
    addresses = listening_addresses(server.port)
    assert addresses, "no listening socket found for the action server"
    assert all(address.startswith("127.") for address in addresses), addresses
    for address in non_loopback_addresses():
        with socket.socket() as probe:
            probe.settimeout(2)
            assert probe.connect_ex((address, server.port)) != 0, f"reachable on {address}"


def start_and_fail(env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command("--port", str(free_port())), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("token, reason", [
    (None, "is empty"),
    ("", "is empty"),
    ("   ", "is empty"),
    ("change-me-action-server-token", "placeholder"),
    ("changeme0123456789abcdef", "placeholder"),
    ("short-token", "shorter than 16"),
])
def test_refuses_to_start_without_an_acceptable_token(token: Optional[str], reason: str) -> None:
    result = start_and_fail(server_env(ACTION_SERVER_TOKEN=token))
    assert result.returncode != 0
    assert "ACTION_SERVER_TOKEN" in result.stderr and reason in result.stderr, result.stderr


@pytest.mark.parametrize("token", [None, "change-me-internal-token"])
def test_refuses_to_start_without_an_internal_api_token(token: Optional[str]) -> None:
    result = start_and_fail(server_env(INTERNAL_API_TOKEN=token))
    assert result.returncode != 0
    assert "INTERNAL_API_TOKEN" in result.stderr, result.stderr


@pytest.mark.parametrize("token", [None, "change-me-rasa-token-0001", "short"])
def test_rasa_launcher_refuses_to_start_without_an_acceptable_token(token: Optional[str]) -> None:
    env = server_env(RASA_TOKEN=token)
    result = subprocess.run([sys.executable, "-m", "bot.rasa_server", "--port", str(free_port())], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode != 0
    assert "RASA_TOKEN" in result.stderr, result.stderr
