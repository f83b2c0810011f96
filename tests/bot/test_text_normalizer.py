"""The TextNormalizer component and the jieba dictionary inside Rasa's pipeline."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text_normalizer import TextNormalizer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def model_storage(tmp_path):
    return LocalModelStorage(tmp_path)


@pytest.fixture()
def context():
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture()
def normalizer(model_storage, context):
    return TextNormalizer.create({}, model_storage, Resource("normalizer"), context)


@pytest.fixture()
def tokenizer(model_storage, context):
    config = {**JiebaTokenizer.get_default_config(), "dictionary_path": str(ROOT / "bot" / "jieba")}
    return JiebaTokenizer.create(config, model_storage, Resource("jieba"), context)


def test_incoming_message_text_is_normalised(normalizer):
    message = Message(data={TEXT: "身份證遺失，電話１３８００１３８０００"})
    [processed] = normalizer.process([message])
    assert processed.get(TEXT) == "身份证遗失,电话13800138000"
    assert processed.as_dict(only_output_properties=True)[TEXT] == "身份证遗失,电话13800138000"


def test_training_examples_are_normalised_and_entities_realigned(normalizer):
    text = "  我的手機號是 　１３９１２３４５６７８"
    start = text.index("１")
    example = Message(data={
        TEXT: text,
        "intent": "inform",
        ENTITIES: [{"entity": "mobile", "start": start, "end": start + 11, "value": "13912345678"}],
    })
    data = normalizer.process_training_data(TrainingData([example]))
    [normalised] = data.training_examples
    assert normalised.get(TEXT) == "我的手机号是 13912345678"
    [entity] = normalised.get(ENTITIES)
    assert normalised.get(TEXT)[entity["start"]:entity["end"]] == "13912345678"


def test_messages_without_text_are_untouched(normalizer):
    message = Message(data={"intent": "greet"})
    normalizer.process([message])
    assert message.get(TEXT) is None


@pytest.mark.parametrize(
    ("sentence", "terms"),
    [
        ("我的社保卡和公积金怎么办", ["社保卡", "公积金"]),
        ("办理不动产登记要带户口本吗", ["不动产登记", "户口本"]),
        ("去哪开无犯罪记录证明", ["无犯罪记录证明"]),
        ("个体工商户营业执照怎么注销", ["个体工商户", "营业执照"]),
        ("我要转人工", ["转人工"]),
        ("港澳通行證續簽", ["港澳通行证"]),
        ("异地就医备案怎么弄", ["异地就医备案"]),
        ("政务服务中心几点上班", ["政务服务中心"]),
        ("出生医学证明丢了", ["出生医学证明"]),
    ],
)
def test_government_terms_stay_one_token(normalizer, tokenizer, sentence, terms):
    message = Message(data={TEXT: sentence})
    normalizer.process([message])
    tokenizer.process([message])
    tokens = [token.text for token in message.get("text_tokens")]
    for term in terms:
        assert term in tokens, tokens


def test_dictionary_has_enough_terms_in_jieba_format():
    lines = [line.split() for line in (ROOT / "bot" / "jieba" / "gov_terms.txt").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    assert len(lines) >= 100
    assert all(len(parts) == 3 and parts[1].isdigit() for parts in lines)
    words = [parts[0] for parts in lines]
    assert len(words) == len(set(words))
