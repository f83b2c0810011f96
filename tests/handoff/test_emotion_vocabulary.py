"""One emotion vocabulary from the bot to the agent: the bot's real payload passes the service's model.

The bot runs in its own environment (Python 3.10, Rasa), so the bot side runs
there in a subprocess: the emotion component is trained on a few sentences,
reads an angry message, and action_handoff builds the ticket body from the
tracker exactly as it does live. The service validates that body with its own
model and words the summary; a label spelled differently on either side fails.
"""

import json
import subprocess
from pathlib import Path

import pytest

from handoff.briefing import build_summary
from handoff.enums import HandoffReason
from handoff.models import TicketCreate
from handoff.vocabulary import EMOTIONAL, Emotion
from service.texts import load_texts, text

ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"

BOT_SIDE = r'''
import asyncio, json, sys, tempfile
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionHandoff
from bot.components.emotion import EmotionClassifier

DATA = """
emotions:
  - label: neutral
    examples: |
      - 身份证怎么办
      - 公积金怎么提取
      - 你们几点上班
  - label: angry
    examples: |
      - 气死我了
      - 你们这什么破服务
      - 太过分了
  - label: distressed
    examples: |
      - 我好无助
      - 我快撑不住了
      - 心里好难受
  - label: urgent
    examples: |
      - 孩子走丢了
      - 有人拿刀
      - 救命
"""

folder = Path(tempfile.mkdtemp(prefix="vocabulary-"))
(folder / "train.yml").write_text(DATA, encoding="utf-8")
(folder / "storage").mkdir()
config = {**EmotionClassifier.get_default_config(), "training_data": str(folder / "train.yml"), "epochs": 5}
storage, resource = LocalModelStorage(folder / "storage"), Resource("emotion")
context = ExecutionContext(GraphSchema({}), "vocabulary")
EmotionClassifier.create(config, storage, resource, context).train(TrainingData())
component = EmotionClassifier.load(config, storage, resource, context)

text = sys.argv[1]
message = Message(data={"text": text, "intent": {"name": "faq", "confidence": 0.9},
                        "intent_ranking": [{"name": "faq", "confidence": 0.9}]})
component.process([message])
parse = {"text": text, "intent": message.get("intent"), "intent_ranking": message.get("intent_ranking"),
         "entities": [], "emotion": message.get("emotion")}
events = [{"event": "action", "name": "action_listen"},
          {"event": "user", "text": text, "timestamp": 1767225600.0, "parse_data": parse, "metadata": {"channel": "web"}},
          {"event": "action", "name": "action_offer_person"},
          {"event": "bot", "text": "非常抱歉……"},
          {"event": "action", "name": "action_listen"},
          {"event": "user", "text": "/request_human", "timestamp": 1767225660.0, "metadata": {"channel": "web"},
           "parse_data": {"text": "/request_human", "intent": {"name": "request_human", "confidence": 1.0},
                          "entities": []}}]
latest = {**events[-1]["parse_data"], "metadata": {"channel": "web"}}
tracker = Tracker("web-vocabulary-1", {}, latest, events, False, None, None, "action_listen")


class Recorder:
    bodies = []

    async def post(self, path, json):
        self.bodies.append(json)
        return {"ticket_id": 1, "message": "已为您转接人工服务。"}


recorder = Recorder()
asyncio.run(ActionHandoff(recorder).run(CollectingDispatcher(), tracker, {}))
print("BODY " + json.dumps({"intent": message.get("intent")["name"], "body": recorder.bodies[0]}, ensure_ascii=False))
'''


def bot_ticket_body(text_in: str) -> dict:
    """Runs the bot's emotion component and action_handoff in the bot environment; returns intent and body."""
    if not BOT_PYTHON.exists():
        pytest.skip("the bot environment (.venv-bot) is not set up")
    done = subprocess.run([str(BOT_PYTHON), "-c", BOT_SIDE, text_in], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin",
                                            "HOME": str(Path.home())})
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("BODY "))
    return json.loads(line.removeprefix("BODY "))


def test_the_bots_payload_for_an_angry_turn_is_accepted_and_summarised():
    result = bot_ticket_body("你们这垃圾系统，气死我了")
    assert result["intent"] == "emotion_angry"
    body = TicketCreate.model_validate(result["body"])
    assert body.reason == HandoffReason.emotional
    assert body.emotion is not None and body.emotion.label == Emotion.angry
    assert {turn.emotion["label"] for turn in body.turns if isinstance(turn.emotion, dict)} == {Emotion.angry.value}
    summary = build_summary(body)
    assert text("handoff", "summary_emotion_angry") in summary
    assert text("handoff", "summary_reason_emotional") in summary


def test_every_label_has_words_for_the_console_and_the_briefing():
    console = load_texts("handoff.console")
    briefing = load_texts("handoff")
    for emotion in Emotion:
        assert console.get(f"emotion_{emotion.value}"), emotion
        if emotion is not Emotion.neutral:
            assert briefing.get(f"summary_emotion_{emotion.value}"), emotion
    assert set(EMOTIONAL) <= {emotion.value for emotion in Emotion}


@pytest.mark.parametrize("emotion, reason, words", [
    (Emotion.angry, "emotional", "情绪激动"),
    (Emotion.distressed, "emotional", "情绪低落"),
    (Emotion.urgent, "explicit", "人身安全"),
    (Emotion.neutral, "explicit", None),
    # Danger the reason already names is not said twice.
    (Emotion.urgent, "urgent", None),
])
def test_the_summary_words_each_label(emotion, reason, words):
    body = TicketCreate.model_validate({"conversation_id": "web-1", "reason": reason,
                                        "emotion": {"label": emotion.value, "score": 0.9}})
    summary = build_summary(body)
    emotion_words = [text("handoff", f"summary_emotion_{e.value}") for e in Emotion if e is not Emotion.neutral]
    if words:
        assert words in summary
    else:
        assert not any(w in summary for w in emotion_words)
