"""The benchmark's reference: a stock ``rasa init`` bot of the same Rasa version, trained once and cached.

The model is built by ``rasa init --no-prompt`` in a temporary directory and
kept under ``~/.cache/gov-service-assistant/reference/rasa-<version>/``, so
only the first benchmark on a machine pays for its training (about a minute).
It is served the way ``rasa init`` leaves it: ``rasa run`` with the REST
channel, the in-memory tracker and lock stores, no action server.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"
CACHE = Path(os.environ.get("GOV_ASSISTANT_CACHE", Path.home() / ".cache" / "gov-service-assistant")) / "reference"


def rasa_version() -> str:
    """The Rasa version of the bot environment."""
    return subprocess.run([str(BOT_PYTHON), "-c", "import rasa; print(rasa.__version__)"], check=True,
                          capture_output=True, text=True).stdout.strip()


def bot_environment() -> dict[str, str]:
    """The environment Rasa runs in, without telemetry or TensorFlow chatter."""
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
                SQLALCHEMY_SILENCE_UBER_WARNING="1", PYTHONUNBUFFERED="1")


def _cache_root() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


def reference_project() -> Path:
    """The cached reference project (model and credentials), built on first use."""
    target = CACHE / f"rasa-{rasa_version()}"
    if (target / "model.tar.gz").exists():
        return target
    with tempfile.TemporaryDirectory(prefix="rasa-init-") as scratch:
        project = Path(scratch) / "bot"
        project.mkdir()
        print(f"[reference] training a stock `rasa init` bot in {project} ...", flush=True)
        subprocess.run([str(BOT_PYTHON), "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)],
                       cwd=project, env=bot_environment(), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.STDOUT)
        models = sorted((project / "models").glob("*.tar.gz"))
        if not models:
            raise RuntimeError("rasa init trained no model")
        staging = Path(tempfile.mkdtemp(prefix="reference-", dir=_cache_root()))
        shutil.copy(models[-1], staging / "model.tar.gz")
        shutil.copy(project / "credentials.yml", staging / "credentials.yml")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def start_reference(port: int, log_file: Path) -> "subprocess.Popen[bytes]":
    """Serves the reference bot on 127.0.0.1:<port> as `rasa run` does by default."""
    project = reference_project()
    log = open(log_file, "ab")
    return subprocess.Popen(
        [str(BOT_PYTHON), "-m", "rasa", "run", "--model", "model.tar.gz", "--credentials", "credentials.yml",
         "--interface", "127.0.0.1", "--port", str(port)],
        cwd=project, env=bot_environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
