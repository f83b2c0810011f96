"""Load benchmark: the product against a stock ``rasa init`` bot, measured in the same run.

N concurrent simulated citizens send M messages each, one after another, over
REST: through the product's router (``POST /api/conversations/{id}/messages``),
and at the reference bot's REST webhook (``scripts/reference_bot.py``: the same
Rasa version, trained once and cached). At each concurrency level it prints
msg/s, p50/p95/p99 latency, errors and the product/reference throughput ratio,
and the CPU milliseconds per message of each of the product's processes (read
from /proc, children included), so the cost of every hop is visible.

    python scripts/bench.py [--citizens 1,10,40] [--messages 20] [--json var/results/bench.json]

It starts its own product stack (temporary SQLite databases, free loopback
ports) and the reference; nothing else needs to run.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

UTTERANCES = [
    "你好", "身份证丢了怎么办", "办护照要带什么材料", "那要多少钱", "社保卡怎么补办", "公积金怎么提取",
    "服务中心几点上班", "谢谢", "居住证办理需要什么", "营业执照在哪里办", "你是机器人吗", "再见",
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    """Returns the value below which ``share`` of the sorted values fall."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def session_cpu_seconds(session_id: int) -> float:
    """User + system CPU seconds of every live process in a session (a process and its workers)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


class CpuMeter:
    """CPU seconds spent by named process sessions (and by this process) between start and stop."""

    def __init__(self, sessions: dict[str, int]) -> None:
        self.sessions = sessions
        self.started: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        readings = {name: session_cpu_seconds(sid) for name, sid in self.sessions.items()}
        times = os.times()
        readings["load generator"] = times.user + times.system
        return readings

    def start(self) -> None:
        """Takes the first reading."""
        self.started = self._read()

    def per_message_ms(self, messages: int) -> dict[str, float]:
        """CPU milliseconds per message of each session since start."""
        now = self._read()
        return {name: round((now[name] - self.started[name]) * 1000 / max(1, messages), 1) for name in now}


async def citizen(client: httpx.AsyncClient, opener, url_for, body_for, messages: int, latencies: list[float],
                  errors: list[str]) -> None:
    """One simulated citizen sending ``messages`` messages one after another."""
    conversation_id, headers = await opener(client)
    rng = random.Random(conversation_id)
    for _ in range(messages):
        text = rng.choice(UTTERANCES)
        started = time.perf_counter()
        try:
            response = await client.post(url_for(conversation_id), json=body_for(conversation_id, text),
                                         headers=headers)
            if response.status_code != 200:
                errors.append(str(response.status_code))
        except httpx.HTTPError as exc:
            errors.append(exc.__class__.__name__)
        latencies.append(time.perf_counter() - started)


class LoadTarget:
    """One load target: how a citizen opens a conversation and posts a message."""

    def __init__(self, name: str, opener, url_for, body_for, meter_sessions: dict[str, int] | None = None) -> None:
        self.name = name
        self.opener = opener
        self.url_for = url_for
        self.body_for = body_for
        self.meter_sessions = meter_sessions or {}


async def run_load(path: LoadTarget, citizens: int, messages: int, quiet: bool = False) -> dict:
    """Runs one load pattern and returns its figures."""
    latencies: list[float] = []
    errors: list[str] = []
    meter = CpuMeter(path.meter_sessions)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=citizens * 2)) as client:
        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(citizen(client, path.opener, path.url_for, path.body_for, messages, latencies, errors)
                               for _ in range(citizens)))
        elapsed = time.perf_counter() - started
    result = {
        "path": path.name, "citizens": citizens, "messages": len(latencies), "errors": len(errors),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000), "p95_ms": round(percentile(latencies, 0.95) * 1000),
        "p99_ms": round(percentile(latencies, 0.99) * 1000),
        "cpu_ms_per_message": meter.per_message_ms(len(latencies)),
    }
    if not quiet:
        print(f"{path.name:>10}  citizens={citizens:<3} msgs={result['messages']:<5} errors={result['errors']:<3} "
              f"{result['messages_per_s']:>6} msg/s  p50={result['p50_ms']}ms  p95={result['p95_ms']}ms  "
              f"p99={result['p99_ms']}ms", flush=True)
    return result


def product_path(service_url: str, api_key: str, sessions: dict[str, int]) -> LoadTarget:
    """The product through its router, conversations opened as an integration does."""
    async def open_conversation(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        response = await client.post(f"{service_url}/api/conversations", headers={"X-API-Key": api_key})
        response.raise_for_status()
        body = response.json()
        return body["conversation_id"], {"Authorization": f"Bearer {body['access_token']}"}
    return LoadTarget("product", open_conversation, lambda cid: f"{service_url}/api/conversations/{cid}/messages",
                 lambda cid, text: {"text": text}, sessions)


def rasa_path(name: str, rasa_url: str, sessions: dict[str, int] | None = None) -> LoadTarget:
    """A Rasa REST webhook straight, any sender id."""
    async def open_conversation(_client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        return f"bench-{uuid.uuid4().hex[:12]}", {}
    return LoadTarget(name, open_conversation, lambda cid: f"{rasa_url}/webhooks/rest/webhook",
                 lambda cid, text: {"sender": cid, "message": text}, sessions)


def parse_path(rasa_url: str, token: str, sessions: dict[str, int]) -> LoadTarget:
    """Rasa's NLU alone (``/model/parse``): what understanding a message costs."""
    async def open_conversation(_client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        return "", {}
    return LoadTarget("nlu-only", open_conversation, lambda cid: f"{rasa_url}/model/parse?token={token}",
                 lambda cid, text: {"text": text}, sessions)


def wait_until(url: str, timeout: float, process: "subprocess.Popen[bytes]") -> None:
    """Waits for a URL to answer 200; raises if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} not healthy after {timeout:.0f}s")


def print_tables(results: list[dict], levels: list[int]) -> list[dict]:
    """Prints the product/reference ratios and the CPU table; returns the ratios."""
    by = {(r["path"], r["citizens"]): r for r in results}
    ratios = []
    print("\ncitizens  reference msg/s (p95)   product msg/s (p95)   product/reference")
    for level in levels:
        ref, product = by[("reference", level)], by[("product", level)]
        ratio = round(product["messages_per_s"] / ref["messages_per_s"], 2) if ref["messages_per_s"] else 0.0
        ratios.append({"citizens": level, "throughput_ratio": ratio,
                       "p95_ratio": round(product["p95_ms"] / max(1, ref["p95_ms"]), 2)})
        print(f"{level:>8}  {ref['messages_per_s']:>9} ({ref['p95_ms']:>5} ms)     "
              f"{product['messages_per_s']:>9} ({product['p95_ms']:>5} ms)   {ratio:>6}x")
    print("\nCPU ms per message, by process (product through the router; nlu-only: Rasa's /model/parse):")
    rows = [r for r in results if r["path"] in ("product", "nlu-only", "reference")]
    names = sorted({name for r in rows for name in r["cpu_ms_per_message"]})
    print(f"{'path':>10} {'citizens':>8}  " + "  ".join(f"{n:>15}" for n in names))
    for r in rows:
        print(f"{r['path']:>10} {r['citizens']:>8}  "
              + "  ".join(f"{r['cpu_ms_per_message'].get(n, 0.0):>15}" for n in names))
    return ratios


async def bench(paths: dict[str, LoadTarget], levels: list[int], messages: int) -> list[dict]:
    """Every path at every level, the reference and the product back to back at each level."""
    results = []
    for path in paths.values():
        await run_load(path, 2, 5, quiet=True)  # warm-up: lazily initialised parts of each pipeline
    for level in levels:
        for name in ("reference", "product"):
            results.append(await run_load(paths[name], level, messages))
    results.append(await run_load(paths["nlu-only"], 10, messages))
    return results


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", default="1,10,40", help="comma-separated concurrency levels")
    parser.add_argument("--messages", type=int, default=20, help="messages per citizen")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--rasa-instances", type=int, default=2,
                        help="Rasa instances of the product, sharing a throwaway Redis lock store (default 2)")
    args = parser.parse_args()
    levels = [int(x) for x in args.citizens.split(",")]

    from redis_server import redis_available, start_redis, stop_redis
    from reference_bot import start_reference
    from stack import ROOT, Stack, StackConfig
    from train import train

    var_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    redis, redis_url = None, None
    instances = args.rasa_instances
    if instances > 1 and not redis_available():
        print("[bench] redis-server is not installed (scripts/system_deps.sh): one Rasa instance", flush=True)
        instances = 1
    if instances > 1:
        redis_port = free_port()
        redis = start_redis(redis_port, var_dir / "redis")
        redis_url = f"redis://127.0.0.1:{redis_port}/1"
    config = StackConfig(var_dir=var_dir, model_path=train(), service_port=free_port(),
                         rasa_port=free_port(), more_rasa_ports=[free_port() for _ in range(instances - 1)],
                         redis_url=redis_url, actions_port=free_port(),
                         database_url=f"sqlite:///{var_dir / 'service.db'}",
                         # The load comes from one address: lift the per-address limit for the bench.
                         extra_env={"ATTEMPTS__MESSAGES_PER_ADDRESS": "1000000"})
    stack = Stack(config, log_file=var_dir / "stack.log")
    reference_port = free_port()
    reference = start_reference(reference_port, var_dir / "reference.log")
    try:
        subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "service.migrate"], cwd=ROOT,
                       env=stack.environment(), check=True)
        print(f"[bench] starting the product ({instances} Rasa instance(s)) in {var_dir} and the reference "
              f"on :{reference_port} ...", flush=True)
        stack.start()
        stack.wait_healthy(timeout=420)
        reference_url = f"http://127.0.0.1:{reference_port}"
        wait_until(reference_url + "/", 300, reference)
        sessions = {name: process.pid for name, process in stack.processes.items()}
        paths = {
            "reference": rasa_path("reference", reference_url, {"reference": reference.pid}),
            "product": product_path(config.service_url, config.integration_api_key, sessions),
            "nlu-only": parse_path(f"http://127.0.0.1:{config.rasa_port}", config.rasa_token, sessions),
        }
        results = asyncio.run(bench(paths, levels, args.messages))
        ratios = print_tables(results, levels)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"rasa_instances": instances, "results": results, "ratios": ratios},
                                            indent=2, ensure_ascii=False))
            print(f"\n[bench] figures written to {args.json}")
    finally:
        stack.stop()
        if redis is not None:
            stop_redis(redis)
        if reference.poll() is None:
            os.killpg(reference.pid, 15)
            reference.wait(timeout=30)


if __name__ == "__main__":
    main()
