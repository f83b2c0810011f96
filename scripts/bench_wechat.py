"""Measures the WeChat channel through the platform simulator: passive-reply latency and retry dedup.

Starts a scripted bot (Rasa's REST webhook protocol), the WeChat simulator and
the service (uvicorn, a fresh migrated SQLite database) on 127.0.0.1, then
prints p50/p95 of the passive-reply latency in plaintext and safe mode, and how
many copies of a retry storm were recognised as retries.

    .venv/bin/python scripts/bench_wechat.py [--messages 200] [--storms 50] [--copies 4]
"""

import argparse
import base64
import os
import statistics
import secrets
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels.wechat import dedup  # noqa: E402
from channels.wechat.enums import EncryptionMode  # noqa: E402
from channels.wechat.settings import WeChatSettings  # noqa: E402
from channels.wechat.simulator import ScriptedRestBot, ServerThread, WeChatPlatform  # noqa: E402
from service.app import create_app  # noqa: E402
from service.database import Database  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.settings import Settings  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def measure_latency(platform: WeChatPlatform, count: int, *, encrypted: bool, tag: str) -> list[float]:
    """Pushes ``count`` text messages one after another; returns each passive reply's latency (ms)."""
    latencies = []
    for index in range(count):
        result = platform.push(platform.text_fields(f"oBench{tag}{index % 20:02d}", f"办事指南{index}"),
                               encrypted=encrypted)
        if result.reply_text is None:
            raise SystemExit(f"message {index} got no passive reply: {result.body!r}")
        latencies.append(result.latencies[0] * 1000)
    return latencies


def retry_storm(platform: WeChatPlatform, bot: ScriptedRestBot, storms: int, copies: int) -> tuple[int, int, int]:
    """Sends each message ``copies`` times at once; returns (copies sent, bot calls, copies answered)."""
    calls_before = len(bot.received)
    answered = 0
    lock = threading.Lock()
    for index in range(storms):
        fields = platform.text_fields(f"oStorm{index:03d}", f"重复消息{index}")

        def send(fields: dict[str, str] = fields) -> None:
            nonlocal answered
            result = platform.push(fields, retries=0)
            if result.reply_text:
                with lock:
                    answered += 1

        threads = [threading.Thread(target=send) for _ in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return storms * copies, len(bot.received) - calls_before, answered


def main() -> None:
    """Runs the benchmark and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--storms", type=int, default=50)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--bot-delay", type=float, default=0.0, help="seconds the scripted bot waits")
    args = parser.parse_args()

    token, app_id, secret = "bench-token", "wxbench0000000001", "bench-app-secret-0001"
    aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite:///{workdir}/bench.db"
        upgrade(database_url)
        bot = ScriptedRestBot(delay_seconds=args.bot_delay)
        platform = WeChatPlatform(token=token, app_id=app_id, app_secret=secret, encoding_aes_key=aes_key)
        with ServerThread(bot.app) as bot_server, ServerThread(platform.api) as api_server:
            settings = Settings(
                database_url=database_url, rasa_url=bot_server.url, rasa_timeout_seconds=30.0,
                # Throwaway secrets of this run's own service.
                rasa_token=secrets.token_urlsafe(24), internal_api_token=secrets.token_urlsafe(24),
                secret_key=secrets.token_urlsafe(32),
                wechat=WeChatSettings(token=token, app_id=app_id, app_secret=secret, encoding_aes_key=aes_key,
                                      mode=EncryptionMode.compatible, api_base_url=api_server.url),
            )
            with ServerThread(create_app(settings)) as service:
                platform.callback_url = f"{service.url}/wechat/callback"
                platform.push(platform.text_fields("oWarmUp", "预热"))
                for label, encrypted in (("plaintext", False), ("safe (AES)", True)):
                    values = measure_latency(platform, args.messages, encrypted=encrypted, tag=label[:4])
                    print(f"passive reply latency, {label}, {args.messages} messages: "
                          f"p50 {percentile(values, 0.50):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
                          f"max {max(values):.1f} ms, mean {statistics.fmean(values):.1f} ms")
                bot.delay_seconds = max(args.bot_delay, 0.5)
                sent, calls, answered = retry_storm(platform, bot, args.storms, args.copies)
                retries = dedup.retries_seen(Database(database_url))
                print(f"retry storm: {args.storms} messages x {args.copies} simultaneous copies = {sent} callbacks; "
                      f"bot asked {calls} times; {retries} retries deduplicated; "
                      f"{answered}/{sent} copies got the passive reply")


if __name__ == "__main__":
    main()
