"""The emotion component: lexicons, a tiny trained textcat, Rasa storage round trip, intent override."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.emotion import (
    LABELS,
    EmotionClassifier,
    EmotionLexicon,
    EmotionModel,
    neutral_intent_examples,
    read_examples,
    read_grouped_examples,
)
from handoff.vocabulary import Emotion

ROOT = Path(__file__).resolve().parents[2]
LEXICON = ROOT / "bot" / "emotion" / "lexicon.yml"

TINY_DATA = """
version: "1"
emotions:
  - label: neutral
    examples: |
      - 身份证怎么办
      - 社保卡在哪里办
      - 公积金怎么提取
      - 你们几点上班
      - 护照要多少钱
      - 谢谢
  - label: angry
    examples: |
      - 你们这什么破服务
      - 气死我了
      - 等了两个小时还没人理
      - 太过分了
      - 你们效率太低了
      - 我要投诉你们这个态度
  - label: distressed
    examples: |
      - 我真的不知道该怎么办了
      - 我好无助
      - 求求你们帮帮我
      - 心里好难受
      - 我好焦虑
      - 我快撑不住了
  - label: urgent
    examples: |
      - 孩子走丢了
      - 有人拿刀
      - 我被打了
      - 家里着火了
      - 有人晕倒了
      - 救命
"""


@pytest.fixture(scope="module")
def lexicon() -> EmotionLexicon:
    """The project's real lexicon."""
    return EmotionLexicon.from_file(LEXICON)


@pytest.fixture(scope="module")
def tiny_model(lexicon: EmotionLexicon, tmp_path_factory: pytest.TempPathFactory) -> EmotionModel:
    """A textcat trained on a handful of sentences."""
    path = tmp_path_factory.mktemp("emotion") / "train.yml"
    path.write_text(TINY_DATA, encoding="utf-8")
    return EmotionModel.train(read_examples(path), lexicon, thresholds={"angry": 0.4, "distressed": 0.4,
                                                                        "urgent": 0.5}, epochs=15)


@pytest.mark.parametrize("text", ["我不想活了", "我站在楼顶上想跳下去", "我老公又打我了", "我家孩子走丢了",
                                  "我妈早上出门到现在找不到了", "有人拿刀在大厅", "大厅有人晕倒了",
                                  "我要和他同归于尽", "一楼大厅有个大爷突然倒地上了 叫他也没反应",
                                  "三楼茶水间那边在冒黑烟！！一股电线烧糊的味儿", "有人困在电梯里出不来了"])
def test_safety_phrases_are_urgent(lexicon: EmotionLexicon, text: str) -> None:
    assert lexicon.safety_match(text), text


@pytest.mark.parametrize("text", ["身份证丢了怎么补办", "我妈的身份证丢了怎么办", "孩子的出生证明丢了",
                                  "老人去世了死亡证明在哪开", "我要投诉窗口工作人员", "护照能加急吗",
                                  "打我电话就行", "我爸的医保卡找不到了", "帮我预约下周三上午",
                                  # Misconduct, out of scope and everyday requests are no danger to anyone.
                                  "举报一下，有人在大厅门口收钱帮插队", "工作人员索要好处费", "帮我写一篇作文",
                                  "给我讲个笑话", "我要开一个纳税证明", "压力太大了，压得我喘不过气"])
def test_ordinary_questions_are_not_safety_cases(lexicon: EmotionLexicon, text: str) -> None:
    assert lexicon.safety_match(text) is None, text


def test_no_neutral_training_or_heldout_sentence_hits_the_safety_lexicon(lexicon: EmotionLexicon) -> None:
    neutral = [text for name in ("train.yml", "heldout.yml")
               for text, label in read_examples(ROOT / "bot" / "emotion" / name) if label == "neutral"]
    assert len(neutral) > 300
    assert [text for text in neutral if lexicon.safety_match(text)] == []


def test_profanity_is_angry_but_a_mothers_card_is_not(lexicon: EmotionLexicon) -> None:
    assert lexicon.profanity_match("真他妈的受不了")
    assert lexicon.profanity_match("垃圾系统")
    assert lexicon.profanity_match("我妈的社保卡丢了") is None
    assert lexicon.profanity_match("孩子可以跟妈妈的户口吗") is None
    assert lexicon.profanity_match("爸妈的房子想过户给我") is None
    assert lexicon.profanity_match("他妈的又不给办")
    # SB alone is swearing; inside a booking code it is not.
    assert lexicon.profanity_match("你们客服就是个SB")
    assert lexicon.profanity_match("SB3UMX，后四位2058，能改到下周一不") is None


def test_tiny_model_predicts_labels_with_scores(tiny_model: EmotionModel) -> None:
    result = tiny_model.predict("气死我了，你们这什么破服务")
    assert result["label"] == "angry"
    assert set(result["scores"]) == {emotion.value for emotion in Emotion}
    assert abs(sum(result["scores"].values()) - 1.0) < 0.01
    assert tiny_model.predict("公积金怎么提取")["label"] == "neutral"


def test_lexicon_overrides_the_classifier(tiny_model: EmotionModel) -> None:
    result = tiny_model.predict("我已经写好遗书了")
    assert result["label"] == "urgent" and result["source"] == "safety_lexicon" and result["score"] == 1.0
    assert tiny_model.predict("真他妈的")["label"] == "angry"


def test_empty_and_full_width_text(tiny_model: EmotionModel) -> None:
    assert tiny_model.predict("")["label"] == "neutral"
    assert tiny_model.predict("   ")["label"] == "neutral"
    assert tiny_model.predict("我不想活了！！")["label"] == "urgent"


@pytest.fixture(scope="module")
def component_config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Component settings pointing at the tiny data."""
    folder = tmp_path_factory.mktemp("component")
    (folder / "train.yml").write_text(TINY_DATA, encoding="utf-8")
    return {**EmotionClassifier.get_default_config(), "training_data": str(folder / "train.yml"),
            "lexicon": str(LEXICON), "dictionary_path": str(ROOT / "bot" / "jieba"), "epochs": 15,
            "thresholds": {"angry": 0.4, "distressed": 0.4, "urgent": 0.5}}


@pytest.fixture(scope="module")
def loaded(component_config: dict, tmp_path_factory: pytest.TempPathFactory) -> EmotionClassifier:
    """The component trained into a model storage and loaded back, as Rasa does."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("emotion")
    context = ExecutionContext(GraphSchema({}), "test")
    EmotionClassifier.create(component_config, storage, resource, context).train(TrainingData())
    return EmotionClassifier.load(component_config, storage, resource, context)


def _message(text: str, intent: str = "faq_id_card", confidence: float = 0.92) -> Message:
    top = {"name": intent, "confidence": confidence}
    return Message(data={"text": text, "intent": top, "intent_ranking": [top, {"name": "greet", "confidence": 0.02}]})


def test_loaded_component_adds_emotion_to_the_output(loaded: EmotionClassifier) -> None:
    message = _message("身份证怎么办")
    loaded.process([message])
    output = message.as_dict(only_output_properties=True)
    assert output["emotion"]["label"] == "neutral"
    assert message.get("intent")["name"] == "faq_id_card"


def test_urgent_message_is_reranked_to_urgent_help(loaded: EmotionClassifier) -> None:
    message = _message("我不想活了，转人工", intent="request_human")
    loaded.process([message])
    assert message.get("intent") == {"name": "urgent_help", "confidence": 1.0}
    ranking = [entry["name"] for entry in message.get("intent_ranking")]
    assert ranking[:2] == ["urgent_help", "request_human"]


def test_anger_reranks_but_an_explicit_request_is_kept(loaded: EmotionClassifier) -> None:
    angry = _message("气死我了，你们这什么破服务")
    loaded.process([angry])
    assert angry.get("intent")["name"] == "emotion_angry"
    explicit = _message("气死我了，你们这什么破服务，转人工", intent="request_human")
    loaded.process([explicit])
    assert explicit.get("intent")["name"] == "request_human"
    assert explicit.get("emotion")["label"] == "angry"


def test_button_payloads_get_no_emotion(loaded: EmotionClassifier) -> None:
    message = _message('/rate{"rating":1}', intent="rate", confidence=1.0)
    loaded.process([message])
    assert message.get("emotion") is None
    assert message.get("intent")["name"] == "rate"


def test_fingerprint_changes_with_the_data(component_config: dict, tmp_path: Path) -> None:
    data = tmp_path / "train.yml"
    data.write_text(TINY_DATA, encoding="utf-8")
    config = {**component_config, "training_data": str(data)}
    before = EmotionClassifier.fingerprint_addon(config)
    data.write_text(TINY_DATA + "      - 新的一句\n", encoding="utf-8")
    assert EmotionClassifier.fingerprint_addon(config) != before


def test_unknown_label_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text('emotions:\n  - label: happy\n    examples: |\n      - 好开心\n', encoding="utf-8")
    with pytest.raises(ValueError, match="happy"):
        read_examples(path)


def test_neutral_sample_takes_listed_intents_only_capped_and_stable():
    messages = [Message(data={"text": f"你好{i}", "intent": "greet"}) for i in range(10)]
    messages += [Message(data={"text": "气死我了，太慢了", "intent": "file_complaint"}),
                 Message(data={"text": "/greet", "intent": "greet"}),
                 Message(data={"text": "已在情绪数据里", "intent": "greet"})]
    data = TrainingData(training_examples=messages)
    first = neutral_intent_examples(data, ["greet"], 4, {"已在情绪数据里"}, seed=42)
    again = neutral_intent_examples(data, ["greet"], 4, {"已在情绪数据里"}, seed=42)
    assert first == again and len(first) == 4
    assert all(label == "neutral" and text.startswith("你好") for text, label in first)
    assert neutral_intent_examples(data, ["stop"], 4, set(), seed=42) == []


def test_the_labels_are_the_shared_vocabulary() -> None:
    assert LABELS == tuple(emotion.value for emotion in Emotion)
    for name in ("train.yml", "heldout.yml"):
        assert {label for _, label in read_examples(ROOT / "bot" / "emotion" / name)} == set(LABELS)


def test_comment_lines_and_groups_in_emotion_data(tmp_path: Path) -> None:
    path = tmp_path / "data.yml"
    path.write_text('emotions:\n  - label: neutral\n    group: everyday\n    examples: |\n      # a comment\n'
                    '      - 我要办社保卡\n  - label: angry\n    examples: |\n      - 气死我了\n', encoding="utf-8")
    assert read_grouped_examples(path) == [("我要办社保卡", "neutral", "everyday"), ("气死我了", "angry", "angry")]


class FixedScores(EmotionModel):
    """The decision rule on given class probabilities, without a trained textcat."""

    def __init__(self, lexicon: EmotionLexicon, scores: dict) -> None:
        super().__init__({}, lexicon, {"angry": 0.3, "distressed": 0.3, "urgent": 0.5})
        self.fixed = scores

    def scores(self, text: str) -> dict:
        return dict(self.fixed)


def test_a_label_below_the_neutral_probability_is_neutral(lexicon: EmotionLexicon) -> None:
    model = FixedScores(lexicon, {"neutral": 0.5, "angry": 0.35, "distressed": 0.1, "urgent": 0.05})
    assert model.predict("我要开一个纳税证明")["label"] == "neutral"
    model.fixed = {"neutral": 0.3, "angry": 0.55, "distressed": 0.1, "urgent": 0.05}
    assert model.predict("我要开一个纳税证明")["label"] == "angry"


def test_danger_the_classifier_is_unsure_of_is_met_as_distress(lexicon: EmotionLexicon) -> None:
    model = FixedScores(lexicon, {"neutral": 0.2, "angry": 0.05, "distressed": 0.3, "urgent": 0.45})
    result = model.predict("拜托你们了，这是我最后的希望")
    assert result["label"] == "distressed" and result["source"] == "classifier"
    model.fixed = {"neutral": 0.1, "angry": 0.05, "distressed": 0.15, "urgent": 0.7}
    assert model.predict("我一个人在天台边上")["label"] == "urgent"
    model.fixed = {"neutral": 0.6, "angry": 0.05, "distressed": 0.05, "urgent": 0.3}
    assert model.predict("帮我写一篇作文")["label"] == "neutral"


def test_a_named_complaint_keeps_its_form_but_venting_gets_the_offer(component_config: dict,
                                                                    loaded: EmotionClassifier) -> None:
    loaded.config = {**component_config, "keep_when_named": {"file_complaint": ["投诉", "举报"]}}
    try:
        named = _message("气死我了，你们这什么破服务，我要投诉", intent="file_complaint")
        loaded.process([named])
        venting = _message("气死我了，你们这什么破服务", intent="file_complaint")
        loaded.process([venting])
    finally:
        loaded.config = component_config
    assert named.get("intent")["name"] == "file_complaint"
    assert named.get("emotion")["label"] == "angry"
    assert venting.get("intent")["name"] == "emotion_angry"
    assert [entry["name"] for entry in venting.get("intent_ranking")][:2] == ["emotion_angry", "file_complaint"]


def test_words_of_anger_make_a_question_angry_without_counting_as_profanity(lexicon: EmotionLexicon) -> None:
    model = FixedScores(lexicon, {"neutral": 0.8, "angry": 0.1, "distressed": 0.05, "urgent": 0.05})
    result = model.predict("气死了，护照要带什么材料啊")
    assert result["label"] == "angry" and result["source"] == "anger_lexicon"
    assert model.predict("护照要带什么材料")["label"] == "neutral"
    assert lexicon.anger_match("我妈的社保卡丢了") is None
