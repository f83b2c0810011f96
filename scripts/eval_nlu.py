"""Evaluates intent classification on the held-out examples and prints the figures.

Runs ``rasa test nlu`` in the bot environment on every file under
bot/tests/nlu_heldout/ (examples that are not in the training data) against
models/current.tar.gz, then reads the intent report and prints overall
accuracy, macro F1, the weakest intents and the most frequent confusions.

    python scripts/eval_nlu.py                      # evaluate and print
    python scripts/eval_nlu.py --min-accuracy 0.85  # exit 1 below 85 %
    python scripts/eval_nlu.py --report-only        # reread the last report
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train import BOT_PYTHON_BIN, ROOT, bot_env  # noqa: E402

HELDOUT = ROOT / "bot" / "tests" / "nlu_heldout"
MODEL = ROOT / "models" / "current.tar.gz"
RESULTS = ROOT / "var" / "results" / "nlu"
SUMMARY_KEYS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


def run_rasa_test(model: Path, out: Path) -> None:
    """Runs rasa test nlu on the held-out folder; raises when Rasa fails."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(BOT_PYTHON_BIN / "rasa"), "test", "nlu", "--nlu", str(HELDOUT), "--model", str(model),
         "--out", str(out)],
        cwd=ROOT, env=bot_env(), check=True,
    )


def load_report(out: Path) -> dict:
    """Reads the intent report Rasa wrote."""
    path = out / "intent_report.json"
    if not path.exists():
        raise SystemExit(f"no intent report at {path}: run without --report-only first")
    return json.loads(path.read_text(encoding="utf-8"))


def summarise(report: dict, worst: int) -> tuple[float, float, list[str]]:
    """Returns accuracy, macro F1 and printable lines about the weakest intents."""
    accuracy = float(report.get("accuracy", 0.0))
    macro_f1 = float(report.get("macro avg", {}).get("f1-score", 0.0))
    intents = {name: row for name, row in report.items() if name not in SUMMARY_KEYS and isinstance(row, dict)}
    lines = []
    ranked = sorted(intents.items(), key=lambda item: (item[1].get("f1-score", 0.0), item[0]))
    for name, row in ranked[:worst]:
        lines.append(
            f"  {name:<32} f1 {row.get('f1-score', 0.0):.3f}  precision {row.get('precision', 0.0):.3f}  "
            f"recall {row.get('recall', 0.0):.3f}  support {row.get('support', 0)}"
        )
    confusions = []
    for name, row in intents.items():
        for other, count in (row.get("confused_with") or {}).items():
            confusions.append((count, name, other))
    confusions.sort(key=lambda item: (-item[0], item[1], item[2]))
    if confusions:
        lines.append("most frequent confusions (true -> predicted):")
        lines.extend(f"  {count:>3} x {name} -> {other}" for count, name, other in confusions[:worst])
    return accuracy, macro_f1, lines


def main() -> int:
    """Command-line entry: evaluate, print, and exit non-zero under the threshold."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL, help="model archive (default models/current.tar.gz)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where Rasa writes its reports")
    parser.add_argument("--min-accuracy", type=float, default=0.0, help="exit 1 when accuracy is below this (0..1)")
    parser.add_argument("--worst", type=int, default=8, help="how many weak intents and confusions to list")
    parser.add_argument("--report-only", action="store_true", help="reread the last report without running Rasa")
    args = parser.parse_args()
    if not 0.0 <= args.min_accuracy <= 1.0:
        parser.error("--min-accuracy is a fraction between 0 and 1")
    if not args.report_only:
        if not args.model.exists():
            parser.error(f"model {args.model} not found: run scripts/train.py first")
        run_rasa_test(args.model, args.out)
    accuracy, macro_f1, lines = summarise(load_report(args.out), args.worst)
    print(f"held-out intent accuracy: {accuracy:.3f}")
    print(f"macro F1:                 {macro_f1:.3f}")
    print("weakest intents:")
    print("\n".join(lines))
    if accuracy < args.min_accuracy:
        print(f"FAIL: accuracy {accuracy:.3f} is below {args.min_accuracy:.3f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
