"""Load benchmark: N concurrent simulated citizens through the router, then straight at Rasa.

Prints messages/s and p50/p95/p99 latency for both paths, so the router's own
overhead (storage, routing) is visible. Starts its own stack on free ports
unless --service-url points at a running one.

    python scripts/bench.py --citizens 10 --messages 20
"""

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

UTTERANCES = [
    "你好", "身份证丢了怎么办", "办护照要带什么材料", "那要多少钱", "社保卡怎么补办", "公积金怎么提取",
    "服务中心几点上班", "谢谢", "居住证办理需要什么", "营业执照在哪里办", "你是机器人吗", "再见",
]


def percentile(values: list[float], share: float) -> float:
    """Returns the value below which ``share`` of the sorted values fall."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def rasa_sender(_client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """A conversation straight at Rasa: any sender id, no credentials."""
    return f"bench-{uuid.uuid4().hex[:12]}", {}


def service_opener(service_url: str, api_key: str):
    """Opens conversations on the service as an integration does (API key, then the conversation's token)."""
    async def open_conversation(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        response = await client.post(f"{service_url}/api/conversations", headers={"X-API-Key": api_key})
        response.raise_for_status()
        body = response.json()
        return body["conversation_id"], {"Authorization": f"Bearer {body['access_token']}"}
    return open_conversation


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


async def run_load(name: str, opener, url_for, body_for, citizens: int, messages: int) -> dict:
    """Runs one load pattern and returns its figures."""
    latencies: list[float] = []
    errors: list[str] = []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=citizens * 2)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(citizen(client, opener, url_for, body_for, messages, latencies, errors)
                               for _ in range(citizens)))
        elapsed = time.perf_counter() - started
    result = {
        "path": name, "citizens": citizens, "messages": len(latencies), "errors": len(errors),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000), "p95_ms": round(percentile(latencies, 0.95) * 1000),
        "p99_ms": round(percentile(latencies, 0.99) * 1000),
    }
    print(f"{name:>7}  citizens={citizens:<3} msgs={result['messages']:<5} errors={result['errors']:<3} "
          f"{result['messages_per_s']:>6} msg/s  p50={result['p50_ms']}ms  p95={result['p95_ms']}ms  "
          f"p99={result['p99_ms']}ms", flush=True)
    return result


async def bench(service_url: str, api_key: str, rasa_url: str, citizen_counts: list[int],
                messages: int) -> list[dict]:
    """Benchmarks both paths at each concurrency level."""
    results = []
    for count in citizen_counts:
        results.append(await run_load(
            "router", service_opener(service_url, api_key), lambda cid: f"{service_url}/api/conversations/{cid}/messages",
            lambda cid, text: {"text": text}, count, messages))
        results.append(await run_load(
            "rasa", rasa_sender, lambda cid: f"{rasa_url}/webhooks/rest/webhook",
            lambda cid, text: {"sender": cid, "message": text}, count, messages))
    return results


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", default="1,10", help="comma-separated concurrency levels (default 1,10)")
    parser.add_argument("--messages", type=int, default=20, help="messages per citizen")
    parser.add_argument("--service-url", help="a running service (default: start a stack on free ports)")
    parser.add_argument("--api-key", help="an integration API key of that service (INTEGRATION_API_KEYS)")
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    levels = [int(x) for x in args.citizens.split(",")]

    stack = None
    service_url, rasa_url, api_key = args.service_url, args.rasa_url, args.api_key
    if service_url and not api_key:
        parser.error("--service-url needs --api-key")
    if not service_url:
        import socket
        import subprocess
        import tempfile

        from stack import ROOT, Stack, StackConfig
        from train import train

        def free_port() -> int:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                return int(sock.getsockname()[1])

        var_dir = Path(tempfile.mkdtemp(prefix="bench-"))
        config = StackConfig(var_dir=var_dir, model_path=train(), service_port=free_port(),
                             rasa_port=free_port(), actions_port=free_port(),
                             database_url=f"sqlite:///{var_dir / 'service.db'}",
                             # The load comes from one address: lift the per-address limit for the bench.
                             extra_env={"ATTEMPTS__MESSAGES_PER_ADDRESS": "1000000"})
        stack = Stack(config, log_file=var_dir / "stack.log")
        subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "service.migrate"], cwd=ROOT,
                       env=stack.environment(), check=True)
        print(f"[bench] starting a stack in {var_dir} ...", flush=True)
        stack.start()
        stack.wait_healthy(timeout=420)
        service_url, rasa_url = config.service_url, f"http://127.0.0.1:{config.rasa_port}"
        api_key = config.integration_api_key
    try:
        # Warm-up: the first messages load lazily initialised parts of the pipeline.
        asyncio.run(run_load("warmup", service_opener(service_url, api_key),
                             lambda cid: f"{service_url}/api/conversations/{cid}/messages",
                             lambda cid, text: {"text": text}, 2, 3))
        results = asyncio.run(bench(service_url, api_key, rasa_url, levels, args.messages))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
