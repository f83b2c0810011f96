"""NLU pipeline component that normalises the message text before tokenisation.

Registered as a message featurizer without training so the default recipe runs
it in pipeline order: placed first in config.yml, it rewrites the ``text``
attribute of every training example and of every incoming message before the
JiebaTokenizer, the regex components and the featurizers see it. The
normalisation itself lives in ``bot.components.normalization`` (shared with the
service).

Where the normalised text ends up at run time:
- the NLU parse result (``/model/parse`` and ``parse_data["text"]``) carries the
  normalised text, and entity offsets refer to it;
- ``UserUttered.parse_data["text"]`` is the normalised text, so custom actions
  reading ``tracker.latest_message["text"]`` get the normalised form;
- ``UserUttered.text`` (the event's own text, shown in transcripts and
  conversation history) keeps what the citizen actually typed, because Rasa's
  message processor builds the event from the channel's message, not from the
  parse result.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalization import normalize_text


def _realign_entity(entity: Dict[Text, Any], original: Text, normalized: Text) -> Dict[Text, Any]:
    """Moves an annotated entity's offsets onto the normalised text."""
    start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return entity
    span = normalize_text(original[start:end])
    if not span:
        return entity
    # The span sits roughly where the normalised prefix ends; search from there
    # so a value repeated earlier in the sentence is not picked by mistake.
    expected = len(normalize_text(original[:start]))
    position = normalized.find(span, max(0, expected - 2))
    if position < 0:
        position = normalized.find(span)
    if position < 0:
        return entity
    return {**entity, ENTITY_ATTRIBUTE_START: position, ENTITY_ATTRIBUTE_END: position + len(span)}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormalizer(GraphComponent):
    """Rewrites message text half-width, simplified and whitespace-trimmed."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component has no settings."""
        return {}

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Chinese and any other language: the rewrite is language-neutral."""
        return None

    @staticmethod
    def required_packages() -> List[Text]:
        """Nothing Rasa can check: OpenCC's import name (opencc) differs from its
        distribution name, which breaks Rasa's version fingerprinting. The model
        cache key already covers the pinned bot requirements."""
        return []

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        """Creates the component."""
        return cls()

    def normalize_message(self, message: Message) -> None:
        """Rewrites the text of one message in place, keeping entity offsets valid."""
        original = message.get(TEXT)
        if not isinstance(original, str) or not original:
            return
        normalized = normalize_text(original)
        if normalized == original:
            return
        entities = message.get(ENTITIES)
        if entities:
            message.set(ENTITIES, [_realign_entity(e, original, normalized) for e in entities])
        message.set(TEXT, normalized)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalises every training example before tokenisation."""
        for example in training_data.training_examples:
            self.normalize_message(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalises incoming messages before tokenisation."""
        for message in messages:
            self.normalize_message(message)
        return messages
