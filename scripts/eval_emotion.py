"""Evaluates the emotion classifier on the held-out file.

Trains the Rasa component exactly as ``rasa train`` does (its ``train()``
writes to a model storage, ``load()`` reads it back), runs ``process()`` on
every held-out message and prints per-class precision, recall and F1, the
confusion matrix, the handoff figures the product targets, and the latency.

    .venv-bot/bin/python scripts/eval_emotion.py
    .venv-bot/bin/python scripts/eval_emotion.py --architecture ensemble --show-errors

Targets: urgent recall 100%; angry + distressed handed off >= 95%;
neutral handed off <= 5%. The component also learns "neutral" from a sample of
the ordinary intents' training examples (bot/data), so the held-out intent
examples of those intents (bot/tests/nlu_heldout) are a second neutral test:
everyday requests and chit-chat a citizen types without any emotion.

Everyday requests (the held-out neutral groups everyday, out_of_scope,
misconduct and vague, those intent examples, and the FAQ's held-out questions
faq/heldout*.yml) must almost never raise the
emergency numbers or an empathy offer: false-urgent rate <= 1%, false-emotional
rate (angry or distressed) <= 3%, each printed per group.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.chdir(ROOT)

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.components.emotion import EmotionClassifier, read_grouped_examples  # noqa: E402
from handoff.vocabulary import EMOTIONAL, LABELS, Emotion  # noqa: E402

NEUTRAL = Emotion.neutral.value
URGENT = Emotion.urgent.value
# Held-out neutral groups that are everyday requests (bot/emotion/heldout.yml).
EVERYDAY_GROUPS = ("everyday", "out_of_scope", "misconduct", "vague")
MAX_FALSE_URGENT = 0.01
MAX_FALSE_EMOTIONAL = 0.03


def build_classifier(overrides: dict) -> EmotionClassifier:
    """Trains the component into a temporary model storage and loads it back."""
    config = {**EmotionClassifier.get_default_config(), **overrides}
    storage = LocalModelStorage(Path(tempfile.mkdtemp(prefix="emotion-eval-")))
    resource = Resource("emotion_classifier")
    context = ExecutionContext(GraphSchema({}), "eval")
    EmotionClassifier.create(config, storage, resource, context).train(nlu_training_data())
    return EmotionClassifier.load(config, storage, resource, context)


def nlu_training_data() -> TrainingData:
    """The intent examples under bot/data, as ``rasa train`` hands them to the component."""
    files = sorted(path for path in Path("bot/data").rglob("*.yml") if "nlu:" in path.read_text(encoding="utf-8"))
    return TrainingData().merge(*(load_data(str(path)) for path in files))


def neutral_intent_heldout(neutral_intents: list) -> list:
    """Held-out intent examples of the ordinary intents: texts with no emotion."""
    texts = []
    for path in sorted(Path("bot/tests/nlu_heldout").glob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            if message.get("intent") in neutral_intents:
                texts.append((message.get("intent"), message.get("text")))
    return texts


def faq_heldout_questions() -> list:
    """The FAQ's held-out questions (faq/heldout*.yml): what citizens ask, with no emotion."""
    questions = []
    for path in sorted(Path("faq").glob("heldout*.yml")):
        for variants in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values():
            questions.extend(str(question) for question in variants or [])
    return questions


def percent(numerator: int, denominator: int) -> str:
    """A share as a percentage string."""
    return f"{100.0 * numerator / denominator:5.1f}%" if denominator else "  n/a"


def main() -> int:
    """Command-line entry: prints the figures, exits 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heldout", default="bot/emotion/heldout.yml")
    parser.add_argument("--architecture", choices=["bow", "ensemble"])
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--views", help='segmenter:ngram pairs, e.g. "jieba:2" or "jieba:2,char:3"')
    parser.add_argument("--sweep", help="comma-separated thresholds to compare (same one for every class)")
    parser.add_argument("--show-errors", action="store_true", help="list every misclassified message")
    args = parser.parse_args()
    overrides = {key: value for key, value in (("architecture", args.architecture), ("epochs", args.epochs))
                 if value is not None}
    if args.views:
        overrides["views"] = {view: int(size) for view, size in (pair.split(":") for pair in args.views.split(","))}

    started = time.perf_counter()
    classifier = build_classifier(overrides)
    print(f"trained and loaded in {time.perf_counter() - started:.1f}s")

    grouped = read_grouped_examples(args.heldout)
    examples = [(text, label) for text, label, _ in grouped]
    predictions = []
    started = time.perf_counter()
    for text, _ in examples:
        message = Message(data={"text": text, "intent": {"name": "faq", "confidence": 0.9}})
        classifier.process([message])
        predictions.append(message.get("emotion")["label"])
    latency_ms = 1000 * (time.perf_counter() - started) / max(len(examples), 1)

    print(f"\nheld-out messages: {len(examples)} ({args.heldout})\n")
    print(f"{'class':<11}{'support':>8}{'precision':>11}{'recall':>9}{'F1':>7}")
    for label in LABELS:
        tp = sum(1 for (_, gold), pred in zip(examples, predictions) if gold == label and pred == label)
        predicted = sum(1 for pred in predictions if pred == label)
        support = sum(1 for _, gold in examples if gold == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{label:<11}{support:>8}{precision:>11.3f}{recall:>9.3f}{f1:>7.3f}")

    print("\nconfusion (rows: truth, columns: prediction)")
    print(" " * 11 + "".join(f"{label:>11}" for label in LABELS))
    for gold_label in LABELS:
        row = [sum(1 for (_, gold), pred in zip(examples, predictions) if gold == gold_label and pred == label)
               for label in LABELS]
        print(f"{gold_label:<11}" + "".join(f"{count:>11}" for count in row))

    urgent = [pred for (_, gold), pred in zip(examples, predictions) if gold == URGENT]
    emotional = [pred for (_, gold), pred in zip(examples, predictions) if gold in EMOTIONAL]
    neutral = [pred for (_, gold), pred in zip(examples, predictions) if gold == NEUTRAL]
    urgent_hits = sum(1 for pred in urgent if pred == URGENT)
    emotional_handed = sum(1 for pred in emotional if pred != NEUTRAL)
    emotional_exact = sum(1 for pred in emotional if pred in EMOTIONAL)
    neutral_handed = sum(1 for pred in neutral if pred != NEUTRAL)
    print("\nhandoff figures")
    print(f"  urgent recall (predicted urgent):             {percent(urgent_hits, len(urgent))}  target 100%")
    print(f"  emotional handed off (any non-neutral):       {percent(emotional_handed, len(emotional))}"
          "  target >= 95%")
    print(f"  emotional read as angry or distressed:        {percent(emotional_exact, len(emotional))}")
    print(f"  neutral handed off:                           {percent(neutral_handed, len(neutral))}"
          "  target <= 5%")
    print(f"  latency per message:                          {latency_ms:.2f} ms")

    ordinary = neutral_intent_heldout(classifier.config["neutral_intents"])
    ordinary_labels = [(intent, text, classifier.model.predict(text)["label"]) for intent, text in ordinary]
    ordinary_handed = [(intent, text, label) for intent, text, label in ordinary_labels if label != NEUTRAL]
    print(f"  everyday requests handed off (intent held-out): {percent(len(ordinary_handed), len(ordinary))}"
          f"  of {len(ordinary)}, target <= 5%")

    # Everyday requests: the held-out neutral groups, then the ordinary intents' held-out examples.
    everyday = [(group, text, pred) for (text, gold, group), pred in zip(grouped, predictions)
                if gold == NEUTRAL and group in EVERYDAY_GROUPS]
    everyday += [(f"intent:{intent}", text, label) for intent, text, label in ordinary_labels]
    everyday += [("faq held-out", text, classifier.model.predict(text)["label"]) for text in faq_heldout_questions()]
    false_urgent = [row for row in everyday if row[2] == URGENT]
    false_emotional = [row for row in everyday if row[2] in EMOTIONAL]
    print("\neveryday requests (no emergency, no empathy offer)")
    print(f"  {'group':<24}{'messages':>9}{'false urgent':>14}{'false emotional':>17}")
    groups = [*EVERYDAY_GROUPS, "intent held-out", "faq held-out"]
    for name in groups:
        rows = [row for row in everyday if row[0] == name or (name == "intent held-out" and row[0].startswith("intent:"))]
        print(f"  {name:<24}{len(rows):>9}{percent(sum(r[2] == URGENT for r in rows), len(rows)):>14}"
              f"{percent(sum(r[2] in EMOTIONAL for r in rows), len(rows)):>17}")
    print(f"  false-urgent rate on everyday requests:       {percent(len(false_urgent), len(everyday))}"
          f"  of {len(everyday)}, target <= {MAX_FALSE_URGENT:.0%}")
    print(f"  false-emotional rate on everyday requests:    {percent(len(false_emotional), len(everyday))}"
          f"  of {len(everyday)}, target <= {MAX_FALSE_EMOTIONAL:.0%}")

    if args.sweep:
        print("\nthreshold sweep (emotional handed off / neutral handed off / urgent recall)")
        model = classifier.model
        for threshold in (float(value) for value in args.sweep.split(",")):
            model.thresholds = dict.fromkeys((label for label in LABELS if label != NEUTRAL), threshold)
            swept = [(gold, model.predict(text)["label"]) for text, gold in examples]
            emotional_swept = [pred for gold, pred in swept if gold in EMOTIONAL]
            neutral_swept = [pred for gold, pred in swept if gold == NEUTRAL]
            urgent_swept = [pred for gold, pred in swept if gold == URGENT]
            print(f"  {threshold:.2f}: {percent(sum(p != NEUTRAL for p in emotional_swept), len(emotional_swept))}"
                  f"  {percent(sum(p != NEUTRAL for p in neutral_swept), len(neutral_swept))}"
                  f"  {percent(sum(p == URGENT for p in urgent_swept), len(urgent_swept))}")

    if args.show_errors:
        print("\nerrors")
        for (text, gold), pred in zip(examples, predictions):
            if gold != pred:
                print(f"  {gold:>10} -> {pred:<10} {text}")
        for group, text, label in everyday:
            if label != NEUTRAL and not group.startswith("intent:"):
                print(f"  {group:>10} -> {label:<10} {text}")
        for intent, text, label in ordinary_handed:
            print(f"  {intent:>10} -> {label:<10} {text}")

    missed = (urgent_hits < len(urgent) or emotional_handed < 0.95 * len(emotional)
              or neutral_handed > 0.05 * len(neutral) or len(ordinary_handed) > 0.05 * len(ordinary)
              or len(false_urgent) > MAX_FALSE_URGENT * len(everyday)
              or len(false_emotional) > MAX_FALSE_EMOTIONAL * len(everyday))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
