"""Runs the whole product on this machine: train if needed, migrate, start, wait, print URLs.

Ctrl-C (or SIGTERM) stops all three processes cleanly.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import ROOT, Stack, StackConfig  # noqa: E402
from train import train  # noqa: E402


SECRET_NAMES = ("rasa_token", "internal_token", "secret_key", "action_server_token", "integration_api_key")


def load_secrets(var_dir: Path) -> dict[str, str]:
    """Reads the local secrets, creating missing ones (kept under var/, never committed).

    A file from an older version keeps its values and gains the secrets added since.
    """
    path = var_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if not stored.get(name)]
    if missing:
        stored.update({name: secrets.token_urlsafe(32) for name in missing})
        var_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(json.dumps(stored))
    return stored


def prepare_database(env: dict[str, str]) -> None:
    """Migrates the database and creates the demo accounts, in the service environment."""
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "-m", "service.migrate"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "-m", "service.bootstrap"], cwd=ROOT, env=env, check=True)


def main() -> int:
    """Command-line entry."""
    model = train()
    var_dir = ROOT / "var"
    stored = load_secrets(var_dir)
    # Several Rasa instances (RASA_INSTANCES=2, on 5005, 5006, ...) share a Redis lock store (REDIS_URL).
    instances = int(os.environ.get("RASA_INSTANCES") or 1)
    redis_url = os.environ.get("REDIS_URL") or None
    if instances > 1 and not redis_url:
        print("[run] RASA_INSTANCES > 1 needs REDIS_URL (redis://host:port/db) for Rasa's lock store", flush=True)
        return 2
    # Loopback only, like Rasa and the action server; SERVICE_HOST=0.0.0.0 exposes the service.
    config = StackConfig(var_dir=var_dir, model_path=model, service_host=os.environ.get("SERVICE_HOST") or "127.0.0.1",
                         more_rasa_ports=[5005 + n for n in range(1, instances)], redis_url=redis_url,
                         rasa_token=stored["rasa_token"], internal_token=stored["internal_token"],
                         secret_key=stored["secret_key"], action_server_token=stored["action_server_token"],
                         integration_api_key=stored["integration_api_key"])
    stack = Stack(config)
    prepare_database(stack.environment())

    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    rasa_ports = ", ".join(str(port) for port in config.rasa_ports)
    print(f"[run] starting rasa ({rasa_ports}), actions (5055) and the service (8000) ...", flush=True)
    stack.start()
    try:
        deadline = time.monotonic() + 420
        while not stopping and not all(stack.check().values()):
            if time.monotonic() > deadline or any(p.poll() is not None for p in stack.processes.values()):
                print(f"[run] start-up failed: {stack.check()}", flush=True)
                return 1
            time.sleep(1)
        if not stopping:
            accounts = (var_dir / "demo_accounts.txt")
            print("\n[run] all processes are healthy:", flush=True)
            print("      demo portal with the chat widget  http://127.0.0.1:8000/")
            print("      agent console                     http://127.0.0.1:8000/console")
            print("      API docs                          http://127.0.0.1:8000/docs")
            print("      health                            http://127.0.0.1:8000/healthz")
            print("      chat with curl: open a conversation with the integration API key, then send messages")
            print("      with the conversation's access token:")
            print("        curl -s -X POST http://127.0.0.1:8000/api/conversations "
                  f"-H 'X-API-Key: {config.integration_api_key}'")
            print("        curl -s -X POST http://127.0.0.1:8000/api/conversations/<conversation_id>/messages "
                  "-H 'Authorization: Bearer <access_token>' -H 'Content-Type: application/json' "
                  "-d '{\"text\": \"你好\"}'")
            if accounts.exists():
                print(f"      console accounts: {accounts.read_text().strip()}")
            print("      press Ctrl-C to stop\n", flush=True)
        while not stopping:
            if any(p.poll() is not None for p in stack.processes.values()):
                print("[run] a process exited; stopping the others", flush=True)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("[run] stopping ...", flush=True)
        stack.stop()
        print("[run] stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
