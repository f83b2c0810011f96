"""Trains the Rasa model only when its inputs changed.

The model is cached under a fingerprint of everything that shapes it
(config.yml, the domain files, bot/data, the custom components, the jieba
dictionary, the emotion training data and the pinned bot requirements). An unchanged tree reuses the
cached model in seconds; trainings on one machine are serialised by a lock.

    python scripts/train.py            # prints the model path
    python scripts/train.py --force    # retrain even if cached
"""

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BOT_PYTHON_BIN = ROOT / ".venv-bot" / "bin"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gov-service-assistant" / "models"


def domain_files() -> list[Path]:
    """The root domain.yml plus one fragment per feature under bot/domain/."""
    return [ROOT / "domain.yml", *sorted((ROOT / "bot" / "domain").glob("*.yml"))]


def assemble_domain() -> Path:
    """Copies the domain files into one directory, which Rasa loads as one domain."""
    target = VAR / "build" / "domain"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for index, path in enumerate(domain_files()):
        shutil.copy(path, target / f"{index:02d}_{path.name}")
    return target


def generate_faq_nlu() -> None:
    """Regenerates the FAQ training data from the knowledge base."""
    generator = ROOT / "faq" / "nlu_generator.py"
    if generator.exists():
        subprocess.run([sys.executable, "-m", "faq.nlu_generator"], cwd=ROOT, check=True)


def fingerprint() -> str:
    """Hashes every input of the model, by path and content."""
    # The catalogue feeds the homophone reader that normalises every training example.
    inputs = [ROOT / "config.yml", *domain_files(), ROOT / "requirements" / "bot.txt", ROOT / "faq" / "catalogue.yml"]
    for folder, pattern in (("bot/data", "**/*"), ("bot/components", "**/*.py"), ("bot/jieba", "*"), ("bot/emotion", "**/*"), ("bot/cues", "*")):
        inputs.extend(sorted(p for p in (ROOT / folder).glob(pattern) if p.is_file()))
    digest = hashlib.sha256()
    for path in inputs:
        if path.exists():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def bot_env() -> dict[str, str]:
    """Environment for Rasa commands: the project root importable, quiet TensorFlow."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def train(force: bool = False, cache_dir: Path = DEFAULT_CACHE) -> Path:
    """Returns the path of a model for the current inputs, training it if needed."""
    VAR.mkdir(exist_ok=True)
    generate_faq_nlu()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(VAR / "train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Always assembled, cached model or not: validation and `rasa test` read it too.
        domain_dir = assemble_domain()
        key = fingerprint()
        cached = cache_dir / f"{key}.tar.gz"
        if force or not cached.exists():
            print(f"[train] inputs changed (fingerprint {key}); training the Rasa model ...", flush=True)
            out = VAR / "build" / "models"
            out.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [str(BOT_PYTHON_BIN / "rasa"), "train", "--config", "config.yml", "--domain", str(domain_dir),
                 "--data", "bot/data", "--out", str(out), "--fixed-model-name", key],
                cwd=ROOT, env=bot_env(), check=True,
            )
            shutil.move(str(out / f"{key}.tar.gz"), cached)
        else:
            print(f"[train] model up to date (fingerprint {key})", flush=True)
        models = ROOT / "models"
        models.mkdir(exist_ok=True)
        current = models / "current.tar.gz"
        if current.exists() or current.is_symlink():
            current.unlink()
        shutil.copy(cached, current)
        return current


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="retrain even when a cached model matches")
    parser.add_argument("--print-fingerprint", action="store_true", help="print the input fingerprint and exit")
    args = parser.parse_args()
    if args.print_fingerprint:
        generate_faq_nlu()
        print(fingerprint())
        return
    print(train(force=args.force))


if __name__ == "__main__":
    main()
