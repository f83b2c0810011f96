"""Browser-test fixtures: the service in a uvicorn subprocess, a stand-in Rasa, and Chromium."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"

FAQ_ANSWER = ("办理普通护照请携带居民身份证到出入境接待大厅申请，一般 7 个工作日出证。\n"
              "详情见 https://zwfw.example.gov.cn/passport 。")
FAQ_BUTTONS = [{"title": "需要哪些材料", "payload": "/ask_materials"},
               {"title": "预约办理", "payload": "/book_appointment"}]
MATERIALS_ANSWER = "需要准备：\n- 居民身份证原件\n- 近期免冠证件照一张\n- 《中国公民出入境证件申请表》"


def free_port() -> int:
    """Finds a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StandInRasa:
    """A local HTTP server speaking Rasa's REST webhook protocol with FAQ-like answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def _json(self, body: Any) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._json({"model_file": "stand-in.tar.gz"})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.received.append(body)
                self._json(owner.answer(str(body.get("sender")), str(body.get("message", ""))))

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def answer(sender: str, message: str) -> list[dict[str, Any]]:
        """Answers like the FAQ bot: a payload gets its answer, a question the FAQ answer with buttons."""
        if message == "/ask_materials":
            return [{"recipient_id": sender, "text": MATERIALS_ANSWER}]
        if message.startswith("/"):
            return [{"recipient_id": sender, "text": "好的，已为您记录。"}]
        if "护照" in message:
            return [{"recipient_id": sender, "text": FAQ_ANSWER, "buttons": FAQ_BUTTONS}]
        return [{"recipient_id": sender, "text": f"您的问题是：{message}"}]

    @property
    def url(self) -> str:
        """Base URL of the stand-in."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts serving in a thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stops serving."""
        self.server.shutdown()
        self.server.server_close()


HOST_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>区人社局</title>
<style>body { font-family: serif; color: #333; } button { all: unset; }</style></head>
<body><h1>某区人力资源和社会保障局</h1><p>另一个站点嵌入在线咨询。</p>
<script src="{service}/widget.js" data-manual defer></script>
<script>
  addEventListener("DOMContentLoaded", function () {
    window.GovChat.init({ server: "{service}", title: "社保咨询", color: "#0f7b45",
      greeting: "您好，这里是社保咨询。", context: { service: "social_security", citizen_id: "citizen-42" } });
  });
</script></body></html>"""


class HostSite:
    """Another website (another origin) that embeds the widget from the service."""

    def __init__(self, service_url: str, port: int) -> None:
        page = HOST_PAGE.replace("{service}", service_url).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stops serving."""
        self.server.shutdown()
        self.server.server_close()


class ServiceProcess:
    """The service under uvicorn in a subprocess, on 127.0.0.1, restartable on the same port."""

    def __init__(self, database_url: str, rasa_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.database_url = database_url
        self.env = {**os.environ, "DATABASE_URL": database_url, "RASA_URL": rasa_url,
                    "WEB_TEST_PARENT_PID": str(os.getpid()), "PYTHONPATH": str(ROOT),
                    "ENVIRONMENT": "development", "RASA_TOKEN": "rasa-token-for-web-tests",
                    "INTERNAL_API_TOKEN": "internal-token-for-web-tests", "SECRET_KEY": "secret-key-for-web-tests",
                    # The host site of the embedding tests is the one other origin allowed to open the widget.
                    "WEB__ALLOWED_ORIGINS": json.dumps([f"http://127.0.0.1:{HOST_SITE_PORT}"])}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Starts uvicorn and waits until it answers."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.channels.web.served_app:build", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited: {self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/widget.js", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("service did not start in time")

    def stop(self) -> None:
        """Stops uvicorn."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def publish(self, conversation_id: str, event: dict[str, Any]) -> int:
        """Publishes an event on the conversation's hub topic inside the service."""
        response = httpx.post(f"{self.url}/_test/publish/{conversation_id}", json=event, timeout=5)
        response.raise_for_status()
        return int(response.json()["subscribers"])

    def citizen_texts(self, conversation_id: str) -> list[str]:
        """Reads the citizen messages of a conversation from the service's database."""
        from sqlalchemy import select

        from conversations.models import Message
        from service.database import Database

        database = Database(self.database_url)
        try:
            with database.session() as db_session:
                return list(db_session.scalars(
                    select(Message.text).where(Message.conversation_id == conversation_id,
                                               Message.sender == "citizen").order_by(Message.seq)))
        finally:
            database.dispose()


# Chosen before the service starts, so the service can allow it as an embedding origin.
HOST_SITE_PORT = free_port()


@pytest.fixture(scope="session")
def stand_in_rasa() -> Iterator[StandInRasa]:
    """The stand-in Rasa for the widget tests."""
    rasa = StandInRasa()
    rasa.start()
    yield rasa
    rasa.stop()


def _service(tmp_path: Path, template: Path, rasa: StandInRasa) -> ServiceProcess:
    database = tmp_path / "service.db"
    shutil.copy(template, database)
    return ServiceProcess(f"sqlite:///{database}", rasa.url, tmp_path / "service.log")


@pytest.fixture(scope="module")
def web_service(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path,
                stand_in_rasa: StandInRasa) -> Iterator[ServiceProcess]:
    """The service shared by a test module's browser tests."""
    service = _service(tmp_path_factory.mktemp("web"), migrated_template, stand_in_rasa)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def own_web_service(tmp_path: Path, migrated_template: Path, stand_in_rasa: StandInRasa) -> Iterator[ServiceProcess]:
    """A service for one test that stops and restarts it."""
    service = _service(tmp_path, migrated_template, stand_in_rasa)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def host_site(web_service: ServiceProcess) -> Iterator[HostSite]:
    """A page on another origin embedding the widget with GovChat.init."""
    site = HostSite(web_service.url, HOST_SITE_PORT)
    yield site
    site.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (empty localStorage) and page, collecting dialogs and page errors."""
    # A browser in UTC proves the widget shows Shanghai time whatever the device's zone.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="UTC")
    page = context.new_page()
    page.dialogs = []
    page.errors = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_default_timeout(10000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
