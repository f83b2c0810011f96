"""Core NLU data: enough varied examples, a clean held-out set, working regexes."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.shared.importers.utils import training_data_from_paths
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.normalization import normalize_text

ROOT = Path(__file__).resolve().parents[2]
CORE_INTENTS = ["greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope", "stop", "inform"]


@pytest.fixture(scope="module")
def training():
    return training_data_from_paths([str(ROOT / "bot" / "data" / "core" / "nlu.yml")], language="zh")


@pytest.fixture(scope="module")
def heldout():
    return training_data_from_paths([str(ROOT / "bot" / "tests" / "nlu_heldout" / "core.yml")], language="zh")


@pytest.fixture(scope="module")
def extractor(training, tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("regex"))
    config = {**RegexEntityExtractor.get_default_config(), "use_word_boundaries": False, "use_lookup_tables": False}
    component = RegexEntityExtractor.create(config, storage, Resource("regex"),
                                            ExecutionContext(GraphSchema({}), "test-model"))
    component.train(training)
    return component


def _examples(data, intent):
    return [m.get(TEXT) for m in data.intent_examples if m.get("intent") == intent]


@pytest.mark.parametrize("intent", CORE_INTENTS)
def test_each_core_intent_has_enough_distinct_examples(training, heldout, intent):
    examples = _examples(training, intent)
    assert len(examples) >= 20
    assert len({normalize_text(e) for e in examples}) == len(examples)
    assert len(_examples(heldout, intent)) >= 8


def test_heldout_examples_are_not_in_training(training, heldout):
    trained = {normalize_text(m.get(TEXT)).lower() for m in training.intent_examples}
    leaked = [m.get(TEXT) for m in heldout.intent_examples if normalize_text(m.get(TEXT)).lower() in trained]
    assert leaked == []


def _extract(extractor, text):
    message = Message(data={TEXT: normalize_text(text)})
    extractor.process([message])
    return {(e["entity"], e["value"]) for e in message.get(ENTITIES, [])}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号是13912345678", {("mobile", "13912345678")}),
        ("电话１５８００００１１１１", {("mobile", "15800001111")}),
        ("身份证110101199003071234", {("id_number", "110101199003071234")}),
        ("证件44030119851231567x", {("id_number", "44030119851231567x")}),
        ("查一下TS20261121-0007的进度", {("ticket_number", "TS20261121-0007")}),
        ("预约码YB7K3M", {("booking_code", "YB7K3M")}),
        ("预约码是yb7k3m", {("booking_code", "yb7k3m")}),
        ("确认码KWPRTZ", {("booking_code", "KWPRTZ")}),
        ("thanks", set()),
        ("please help", set()),
        ("我的号码是213912345678", set()),
        ("12345热线", set()),
    ],
)
def test_regexes_extract_the_shared_entities(extractor, text, expected):
    assert _extract(extractor, text) == expected


def test_an_id_number_is_not_also_read_as_a_phone_number(extractor):
    found = _extract(extractor, "身份证号码是320102197806150021，手机13611112222")
    assert found == {("id_number", "320102197806150021"), ("mobile", "13611112222")}
