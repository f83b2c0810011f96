"""Runs the dialogue test stories (bot/tests/test_*_stories.yml) and prints the figures.

Runs ``rasa test core`` in the bot environment against models/current.tar.gz,
then prints how many stories passed, action accuracy, and every failed story
with the step where the prediction went wrong.

    python scripts/eval_core.py                          # run and print
    python scripts/eval_core.py --min-conversations 0.95 # exit 1 below 95 % of stories
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train import BOT_PYTHON_BIN, ROOT, bot_env  # noqa: E402

STORIES = ROOT / "bot" / "tests"
MODEL = ROOT / "models" / "current.tar.gz"
RESULTS = ROOT / "var" / "results" / "core"


def run_rasa_test(model: Path, out: Path) -> None:
    """Runs rasa test core on the test stories; raises when Rasa fails."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(BOT_PYTHON_BIN / "rasa"), "test", "core", "--stories", str(STORIES), "--model", str(model),
         "--out", str(out)],
        cwd=ROOT, env=bot_env(), check=True,
    )


def failed_steps(out: Path) -> list[tuple[str, str]]:
    """(story name, first wrong step) for every failed story."""
    raw = (out / "failed_test_stories.yml").read_text(encoding="utf-8")
    stories = (yaml.safe_load(raw) or {}).get("stories") or []
    # The comments YAML drops carry the prediction: the first one of each failed story.
    wrong = [line.strip() for line in raw.splitlines() if "# predicted:" in line]
    return [(story.get("story", "?"), wrong[index] if index < len(wrong) else "")
            for index, story in enumerate(stories)]


def main() -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--min-conversations", type=float, default=0.0,
                        help="exit 1 when the share of stories passing is below this (0..1)")
    args = parser.parse_args()
    run_rasa_test(args.model, args.out)
    report = json.loads((args.out / "story_report.json").read_text(encoding="utf-8"))
    conversations = report["conversation_accuracy"]
    print(f"\nstories passed: {conversations['correct']}/{conversations['total']} "
          f"({100 * conversations['accuracy']:.1f}%)")
    print(f"action accuracy: {100 * report['accuracy']:.1f}% over {report['macro avg']['support']} actions")
    for name, step in failed_steps(args.out):
        print(f"  FAILED {name}: {step}")
    if conversations["accuracy"] < args.min_conversations:
        print(f"below the minimum of {100 * args.min_conversations:.0f}% of stories")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
