"""Two instances of everything on PostgreSQL and Redis, behind a round-robin balancer.

Two stacks (service, Rasa and action server each) share one PostgreSQL server
(the service's database and Rasa's tracker store), one Redis (Rasa's lock store
and the service's event hub) and the secrets. Both services spread conversations
over both Rasa instances by a hash of the conversation id. A small TCP balancer
(tests/integration/balancer.py) sits in front of the two services. The WeChat
platform is the local simulator, speaking WeChat's protocol.

The last test kills instance A, so the tests run in file order.
"""

import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from channels.wechat.simulator import ServerThread, WeChatPlatform, free_port
from service.migrate import upgrade
from tests.integration.balancer import RoundRobinBalancer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

PASSWORD = "demo-pass-123"
WECHAT = {"token": "two-instance-callback-token", "app_id": "wx00000000two00001", "app_secret": "simulated-secret-2"}
DELIVERY_BUDGET_SECONDS = 1.0


def create_database(server_url: str, migrate: bool) -> str:
    """A fresh database on the test PostgreSQL server; returns its SQLAlchemy URL."""
    name = f"two_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    if migrate:
        upgrade(url)
    return url


class Instances:
    """The two running stacks, the balancer, the WeChat simulator and the shared database."""

    def __init__(self, stacks: dict[str, Any], balancer: RoundRobinBalancer, platform: WeChatPlatform,
                 database_url: str) -> None:
        self.stacks = stacks
        self.balancer = balancer
        self.platform = platform
        self.engine = create_engine(database_url)

    def url(self, name: str) -> str:
        return self.stacks[name].config.service_url

    @property
    def api_key(self) -> str:
        return self.stacks["A"].config.integration_api_key

    @property
    def internal_token(self) -> str:
        return self.stacks["A"].config.internal_token

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Any:
    server_url = os.environ.get("TEST_POSTGRES_URL")
    if not server_url:
        pytest.skip("TEST_POSTGRES_URL is not set (make test starts a PostgreSQL server and sets it)")
    import subprocess

    from stack import Stack, StackConfig
    from train import train

    model = Path(os.environ["TEST_MODEL"]) if os.environ.get("TEST_MODEL") else train()
    database_url = create_database(server_url, migrate=True)
    tracker_url = create_database(server_url, migrate=False).replace("postgresql+psycopg2://", "postgresql://")
    redis_base = redis_url.rsplit("/", 1)[0]
    platform = WeChatPlatform(token=WECHAT["token"], app_id=WECHAT["app_id"], app_secret=WECHAT["app_secret"])
    simulator = ServerThread(platform.api)
    simulator.__enter__()
    ports = {name: {"service": free_port(), "rasa": free_port(), "actions": free_port()} for name in "AB"}
    rasa_urls = ",".join(f"http://127.0.0.1:{ports[name]['rasa']}" for name in "AB")
    shared_env = {
        "REDIS_URL": f"{redis_base}/0", "RASA_URL": rasa_urls,
        "HANDOFF__DEMO_PASSWORD": PASSWORD, "HANDOFF__WORKING_DAYS": "everyday",
        "HANDOFF__WORKING_HOURS_START": "00:00", "HANDOFF__WORKING_HOURS_END": "24:00",
        "HANDOFF__REALERT_AFTER_SECONDS": "5", "HANDOFF__REALERT_CHECK_SECONDS": "0.5",
        "ATTEMPTS__MESSAGES_PER_ADDRESS": "1000000",
        "APPOINTMENTS__FROZEN_CLOCK": "2026-11-18T10:00:00+08:00",
        "WECHAT__TOKEN": WECHAT["token"], "WECHAT__APP_ID": WECHAT["app_id"],
        "WECHAT__APP_SECRET": WECHAT["app_secret"], "WECHAT__API_BASE_URL": simulator.url,
        # Every WeChat reply goes through the customer-service API, so both instances need the access token.
        "WECHAT__PASSIVE_REPLY_BUDGET_SECONDS": "0.001",
    }
    first = StackConfig(var_dir=tmp_path_factory.mktemp("instance-a"), model_path=model,
                        service_port=ports["A"]["service"], rasa_port=ports["A"]["rasa"],
                        actions_port=ports["A"]["actions"], database_url=database_url, tracker_url=tracker_url,
                        redis_url=f"{redis_base}/1", extra_env=shared_env)
    second = StackConfig(var_dir=tmp_path_factory.mktemp("instance-b"), model_path=model,
                         service_port=ports["B"]["service"], rasa_port=ports["B"]["rasa"],
                         actions_port=ports["B"]["actions"], database_url=database_url, tracker_url=tracker_url,
                         redis_url=f"{redis_base}/1", extra_env=shared_env,
                         rasa_token=first.rasa_token, internal_token=first.internal_token,
                         secret_key=first.secret_key, action_server_token=first.action_server_token,
                         integration_api_key=first.integration_api_key)
    stacks = {"A": Stack(first, log_file=first.var_dir / "stack.log"),
              "B": Stack(second, log_file=second.var_dir / "stack.log")}
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "-m", "service.bootstrap"], cwd=ROOT, env=stacks["A"].environment(), check=True)
    try:
        # One after the other: the first Rasa creates the tracker tables the second finds.
        for stack in stacks.values():
            stack.start()
            stack.wait_healthy(timeout=420)
    except Exception:
        for name, stack in stacks.items():
            stack.stop()
            print(name, (stack.config.var_dir / "stack.log").read_text(errors="replace")[-4000:])
        simulator.__exit__(None, None, None)
        raise
    balancer = RoundRobinBalancer([ports["A"]["service"], ports["B"]["service"]])
    balancer.__enter__()
    platform.callback_url = f"{balancer.url}/wechat/callback"
    yield Instances(stacks, balancer, platform, database_url)
    balancer.close()
    for stack in stacks.values():
        stack.stop()
    simulator.__exit__(None, None, None)


# --- helpers -------------------------------------------------------------------------------

def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def frames_until(socket: Any, predicate: Any, timeout: float = 20.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Reads frames until one matches; returns it and every frame read."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = json.loads(socket.recv(timeout=max(0.05, deadline - time.monotonic())))
        seen.append(frame)
        if predicate(frame):
            return frame, seen
    raise AssertionError(f"no matching frame within {timeout}s; saw {seen[-5:]}")


def message_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame["message"] for frame in frames if frame.get("type") == "message"]


class Agent:
    """A console user signed in on one instance."""

    def __init__(self, base: str, username: str = "agent1") -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=20)
        page = self.http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        response = self.http.post("/console/login", data={"username": username, "password": PASSWORD,
                                                            "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303, response.text
        self.csrf = self.http.get("/api/staff/me").json()["csrf_token"]

    def ticket_of(self, conversation_id: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queue = self.http.get("/api/handoff/queue").json()
            for ticket in queue["queued"] + queue["mine"]:
                if ticket["conversation_id"] == conversation_id:
                    return ticket
            time.sleep(0.2)
        raise AssertionError(f"no ticket for {conversation_id}")

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})

    def go_online(self) -> Any:
        """Opens the console's live socket and reports presence, as the open console does."""
        cookie = "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
        socket = connect(ws_url(self.base, "/console/ws"), additional_headers={"Cookie": cookie}, open_timeout=10)
        socket.send(json.dumps({"type": "ping"}))
        frames_until(socket, lambda f: f.get("type") == "pong", timeout=10)
        return socket


def open_widget(base: str) -> tuple[Any, str, str]:
    """A widget's first socket: the server draws the conversation id and its token."""
    socket = connect(ws_url(base, "/ws/conversations"), open_timeout=10)
    session = json.loads(socket.recv(timeout=10))
    assert session["type"] == "session"
    return socket, session["conversation_id"], session["access_token"]


def say(socket: Any, text_: str, client_id: str) -> list[dict[str, Any]]:
    """Sends a message frame; returns the frames up to its ack."""
    socket.send(json.dumps({"type": "message", "text": text_, "client_id": client_id}))
    _, frames = frames_until(socket, lambda f: f.get("type") in ("ack", "error") and f.get("client_id") == client_id,
                             timeout=60)
    assert frames[-1]["type"] == "ack", frames[-1]
    return frames


# --- the tests, in order ------------------------------------------------------------------

def test_an_agents_reply_through_b_reaches_a_citizen_on_a_and_back_within_a_second(instances: Instances) -> None:
    agent = Agent(instances.url("B"))
    console = agent.go_online()
    widget, conversation_id, _token = open_widget(instances.url("A"))
    say(widget, "我要转人工", "m1")
    ticket = agent.ticket_of(conversation_id)
    assert agent.post(f"/api/handoff/tickets/{ticket['id']}/claim").status_code == 200
    frames_until(widget, lambda f: f.get("type") == "message" and f["message"]["sender"] == "system", timeout=10)

    started = time.perf_counter()
    assert agent.post(f"/api/handoff/tickets/{ticket['id']}/messages", {"text": "您好，我是坐席，请讲"}).status_code == 201
    frames_until(widget, lambda f: f.get("type") == "message" and f["message"]["text"] == "您好，我是坐席，请讲",
                 timeout=DELIVERY_BUDGET_SECONDS)
    b_to_a = time.perf_counter() - started

    console.send(json.dumps({"type": "watch", "conversation_id": conversation_id}))
    time.sleep(0.3)  # the watch subscription is in place
    started = time.perf_counter()
    widget.send(json.dumps({"type": "message", "text": "我的社保卡丢了", "client_id": "m2"}))
    frames_until(console, lambda f: f.get("type") == "message" and f["message"]["text"] == "我的社保卡丢了",
                 timeout=DELIVERY_BUDGET_SECONDS)
    a_to_b = time.perf_counter() - started
    print(f"\n[two instances] agent reply B->A {b_to_a * 1000:.0f} ms; citizen message A->B {a_to_b * 1000:.0f} ms")
    assert b_to_a < DELIVERY_BUDGET_SECONDS and a_to_b < DELIVERY_BUDGET_SECONDS
    console.close()
    widget.close()


def test_messages_sent_alternately_to_both_instances_keep_their_order(instances: Instances) -> None:
    opened = httpx.post(f"{instances.balancer.url}/api/conversations", headers={"X-API-Key": instances.api_key})
    assert opened.status_code == 201
    conversation_id = opened.json()["conversation_id"]
    headers = {"Authorization": f"Bearer {opened.json()['access_token']}"}
    sent = ["你好", "办护照要带什么", "那要多少钱", "身份证丢了怎么办", "服务中心几点上班", "公积金怎么提取",
            "营业执照在哪里办", "谢谢"]
    for index, utterance in enumerate(sent):
        base = instances.url("AB"[index % 2])
        response = httpx.post(f"{base}/api/conversations/{conversation_id}/messages", json={"text": utterance},
                              headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["replies"], utterance
    transcript = httpx.get(f"{instances.url('B')}/api/conversations/{conversation_id}/messages",
                           headers=headers, params={"limit": 200}).json()["messages"]
    seqs = [message["seq"] for message in transcript]
    assert seqs == list(range(1, len(transcript) + 1))  # no gap, no duplicate
    assert [m["text"] for m in transcript if m["sender"] == "citizen"] == sent
    assert transcript[-1]["sender"] != "citizen"  # every turn answered
    rasa = instances.stacks["A"].config
    tracker = httpx.get(f"http://127.0.0.1:{rasa.rasa_port}/conversations/{conversation_id}/tracker",
                        params={"token": rasa.rasa_token}, timeout=20).json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == sent  # one turn each, in order


def test_a_race_for_the_last_slots_from_both_instances_books_exactly_the_capacity(instances: Instances) -> None:
    attempts = 30
    outcomes: Counter = Counter()
    barrier = threading.Barrier(attempts)
    lock = threading.Lock()

    def book(index: int) -> None:
        base = instances.url("AB"[index % 2])
        body = {"service_id": "passport", "day": "2026-11-19", "start": "10:00:00", "name": f"市民{index}",
                "mobile": f"139{index:08d}"}
        barrier.wait()
        response = httpx.post(f"{base}/internal/appointments/bookings", json=body, timeout=60,
                              headers={"Authorization": f"Bearer {instances.internal_token}"})
        with lock:
            outcomes[response.status_code] += 1

    threads = [threading.Thread(target=book, args=(index,)) for index in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    booked = instances.scalar("SELECT count(*) FROM appointment_booking WHERE service_id = 'passport' "
                              "AND day = '2026-11-19' AND start = '10:00:00' AND status = 'booked'")
    counter = instances.scalar("SELECT booked FROM appointment_slot WHERE service_id = 'passport' "
                               "AND day = '2026-11-19' AND start = '10:00:00'")
    print(f"\n[two instances] slot race: {dict(outcomes)}; bookings stored {booked}, slot counter {counter}")
    assert outcomes[201] == 5 and outcomes[409] == attempts - 5
    assert booked == 5 and counter == 5


def test_one_wechat_message_posted_to_both_instances_is_handled_once_with_one_token_fetch(
        instances: Instances) -> None:
    platform = instances.platform
    openid = f"o-two-{uuid.uuid4().hex[:8]}"
    fields = platform.text_fields(openid, "办护照要带什么")
    # At the same moment: one message (one MsgId) to both instances, and one more citizen on each, so
    # both instances need an access token before either has one.
    others = {name: platform.text_fields(f"o-two-{name}-{uuid.uuid4().hex[:6]}", "身份证丢了怎么办") for name in "AB"}
    pushes = [("A", fields), ("B", fields), ("A", others["A"]), ("B", others["B"])]
    barrier = threading.Barrier(len(pushes))
    statuses: list[list[int | None]] = []

    def push(name: str, fields_: dict[str, str]) -> None:
        barrier.wait()
        statuses.append(platform.push(fields_, url=f"{instances.url(name)}/wechat/callback", retries=0).statuses)

    threads = [threading.Thread(target=push, args=pushed) for pushed in pushes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [[200]] * len(pushes)

    def bot_messages(citizen: str) -> int:
        return instances.scalar(
            "SELECT count(*) FROM message m JOIN conversation c ON c.id = m.conversation_id "
            "WHERE c.citizen_ref = :openid AND m.sender = 'bot'", openid=citizen)

    citizens = [openid, *(f["FromUserName"] for f in others.values())]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(
            bot_messages(c) and len(platform.messages_to(c)) >= bot_messages(c) for c in citizens):
        time.sleep(0.2)
    time.sleep(1.0)  # a second handling would have sent its replies by now
    inbound = instances.scalar("SELECT count(*) FROM wechat_inbound WHERE dedup_key = :key",
                               key=f"msg:{fields['MsgId']}")
    citizen_messages = instances.scalar(
        "SELECT count(*) FROM message m JOIN conversation c ON c.id = m.conversation_id "
        "WHERE c.citizen_ref = :openid AND m.sender = 'citizen'", openid=openid)
    delivered = {c: len(platform.messages_to(c)) for c in citizens}
    print(f"\n[two instances] WeChat: inbound rows for the MsgId {inbound}, citizen messages {citizen_messages}, "
          f"replies delivered {delivered}, token fetches {platform.token_requests}")
    assert inbound == 1 and citizen_messages == 1
    assert all(delivered[c] == bot_messages(c) >= 1 for c in citizens)  # each reply once
    assert platform.token_requests == 1


def test_an_unclaimed_ticket_is_realerted_once_per_period(instances: Instances) -> None:
    agent = Agent(instances.url("A"), username="supervisor1")
    console = agent.go_online()
    widget, conversation_id, _ = open_widget(instances.url("B"))
    say(widget, "转人工", "h1")
    ticket = agent.ticket_of(conversation_id)
    window = 12.0
    alerts: list[dict[str, Any]] = []
    deadline = time.monotonic() + window
    while time.monotonic() < deadline:
        try:
            frame = json.loads(console.recv(timeout=max(0.05, deadline - time.monotonic())))
        except TimeoutError:
            break
        if frame.get("type") == "ticket_alert" and frame.get("realert") and frame.get("ticket_id") == ticket["id"]:
            alerts.append(frame)
    stored = instances.scalar("SELECT alert_count FROM handoff_ticket WHERE id = :id", id=ticket["id"])
    counts = [alert["alert_count"] for alert in alerts]
    print(f"\n[two instances] re-alerts in {window:.0f} s with a 5 s period: {counts}; stored count {stored}")
    assert len(counts) in (1, 2)  # one per 5 s period, never one per instance
    assert counts == sorted(set(counts))
    assert stored == 1 + len(counts)  # the first alert, then one per period
    console.close()
    widget.close()


def test_after_instance_a_is_killed_the_widget_reconnects_through_b_without_gap_or_duplicate(
        instances: Instances) -> None:
    widget, conversation_id, token = open_widget(instances.url("A"))
    frames = say(widget, "你好", "k1") + say(widget, "办护照要带什么", "k2")
    seen = message_frames(frames)
    stack_a = instances.stacks["A"]
    for process in stack_a.processes.values():  # the whole instance, at once
        os.killpg(process.pid, signal.SIGKILL)
    for process in stack_a.processes.values():
        process.wait(timeout=30)
    widget.close()

    again = connect(ws_url(instances.balancer.url, f"/ws/conversations/{conversation_id}?token={token}"),
                    open_timeout=10)
    last = max(message["seq"] for message in seen)
    again.send(json.dumps({"type": "sync", "after": last}))
    sync, _ = frames_until(again, lambda f: f.get("type") == "sync")
    seen += sync["messages"]
    seen += message_frames(say(again, "那要多少钱", "k3"))
    again.close()
    assert instances.balancer.chosen[-1] == instances.stacks["B"].config.service_port
    seqs = [message["seq"] for message in seen]
    print(f"\n[two instances] after killing A: seqs {seqs}")
    assert seqs == list(range(1, len(seqs) + 1))  # no gap and no duplicate across the reconnect
    assert [m["text"] for m in seen if m["sender"] == "citizen"] == ["你好", "办护照要带什么", "那要多少钱"]
    assert seen[-1]["sender"] == "bot"  # answered by the Rasa instance left standing
