"""NLU component that reads the citizen's emotion and flags urgent safety cases.

The labels (neutral / angry / distressed / urgent) are spelled once, in
``handoff.vocabulary.Emotion``, which the service imports too. Urgent means
real danger to a person (self-harm, violence, a medical emergency, a missing
child or elder, threats); a report of misconduct, a request the centre does not
handle and an everyday request are neutral.

Two parts decide the emotion of a message:
- spaCy ``textcat`` models (exclusive classes, one per label) on blank
  Chinese pipelines, trained from ``bot/emotion/train.yml``
  inside ``train()`` and kept in Rasa's model storage. Two views of the text
  are averaged: words segmented by jieba (with the project dictionary) and
  single characters. Emotion in short colloquial Chinese hangs on characters
  inside words (气, 烦, 哭, 慌), which a word-only bag misses for unseen words;
  with 4-fold cross-validation on the training data the character view
  recovered far more emotional messages at the same share of neutral ones
  handed off (see scripts/eval_emotion.py);
- lexicons from ``bot/emotion/lexicon.yml``: safety phrases (self-harm,
  violence, threats, a missing child or elder) make a message urgent whatever
  the classifier says, so no safety case depends on a statistical score alone;
  profanity and unmistakable words of anger (气死了, 受够了) make a message angry.

A non-neutral label needs its class's averaged probability at or above the
label's threshold and above the neutral probability: a flat distribution over
four classes is no evidence of emotion. Urgent from the classifier alone (no
safety phrase) has the highest threshold, set so that no everyday request of
the held-out sets raises the emergency numbers; danger it is less sure of is
read as distress (gentle words and the offer of a person).

The result goes into the parse data as
``emotion: {label, score, scores, source}``. So that rules and the
RulePolicy can act on it without an action after every turn, a confident
non-neutral emotion also re-ranks the intent: urgent -> ``urgent_help``,
angry -> ``emotion_angry``, distressed -> ``emotion_distressed``, with the
original top intent kept below it in ``intent_ranking`` (the "carry on" choice
after the empathy offer replays the message with it). Intents listed in
``keep_intents`` (an explicit request for a person, answers to a question the
bot asked, button payloads) are left alone unless the message is urgent;
intents in ``keep_when_named`` are left alone when the message names them
(``我要投诉`` keeps the complaint form, ``气死我了`` alone gets the offer of a
person), and intents in ``keep_when_described`` when the message is long enough
to tell what happened (a grievance in a sentence or two is a complaint). The component sits after the FallbackClassifier: a re-ranked intent is
an override and must not be turned into ``nlu_fallback`` by an ambiguity check
against the intent it replaced.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalization import normalize_text
from handoff.vocabulary import LABELS, Emotion

logger = logging.getLogger(__name__)

EMOTION = "emotion"
NEUTRAL = Emotion.neutral.value
URGENT = Emotion.urgent.value
ANGRY = Emotion.angry.value
MODEL_DIR = "textcat_{view}"
LEXICON_FILE = "lexicon.yml"
DICTIONARY_DIR = "jieba"


def neutral_intent_examples(training_data: TrainingData, intents: Iterable[str], per_intent: int,
                            exclude: Set[str], seed: int,
                            sizes: Optional[Dict[str, int]] = None) -> List[Tuple[str, str]]:
    """A fixed-seed sample of each listed intent's training texts (``sizes`` per intent, else
    ``per_intent``), labelled neutral."""
    by_intent: Dict[str, List[str]] = {}
    wanted = set(intents)
    for message in training_data.intent_examples:
        intent, text = message.get(INTENT), message.get(TEXT)
        if intent in wanted and isinstance(text, str) and text.strip() and text not in exclude \
                and not text.startswith("/"):
            by_intent.setdefault(intent, []).append(text)
    rng = random.Random(seed)
    pairs: List[Tuple[str, str]] = []
    for intent in sorted(by_intent):
        texts = sorted(set(by_intent[intent]))
        size = (sizes or {}).get(intent, per_intent)
        pairs.extend((text, NEUTRAL) for text in rng.sample(texts, min(size, len(texts))))
    return pairs


def read_grouped_examples(path: Path | str) -> List[Tuple[str, str, str]]:
    """Reads (text, label, group) triples from an emotion data file.

    Each block has a label, an optional group (which kind of message it holds,
    e.g. ``everyday`` or ``misconduct``; the label by default) and its examples,
    one ``- text`` a line; lines starting with ``#`` inside the examples are comments.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    triples: List[Tuple[str, str, str]] = []
    for block in data.get("emotions", []):
        label = block["label"]
        if label not in LABELS:
            raise ValueError(f"{path}: unknown emotion label {label!r}")
        group = str(block.get("group") or label)
        for line in str(block.get("examples", "")).splitlines():
            text = line.strip()
            if text.startswith("#"):
                continue
            if text.startswith("- "):
                text = text[2:].strip()
            if text:
                triples.append((text, label, group))
    return triples


def read_examples(path: Path | str) -> List[Tuple[str, str]]:
    """Reads (text, label) pairs from an emotion data file."""
    return [(text, label) for text, label, _ in read_grouped_examples(path)]


def load_jieba_dictionary(folder: Path | str | None) -> None:
    """Loads the project's jieba dictionaries so government terms stay one token."""
    if not folder or not Path(folder).is_dir():
        return
    import jieba

    for path in sorted(Path(folder).glob("*")):
        if path.is_file():
            jieba.load_userdict(str(path))


@dataclass
class EmotionLexicon:
    """Phrase lists that override or reinforce the classifier."""

    safety: List[re.Pattern] = field(default_factory=list)
    profanity: List[re.Pattern] = field(default_factory=list)
    anger: List[re.Pattern] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path | str) -> EmotionLexicon:
        """Compiles the safety, profanity and anger lists of a lexicon file."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls(
            safety=cls._compile(data.get("safety", {})),
            profanity=cls._compile(data.get("profanity", {})),
            anger=cls._compile(data.get("anger", {})),
        )

    @staticmethod
    def _compile(section: Dict[str, Any]) -> List[re.Pattern]:
        """Phrases match literally, patterns as regular expressions."""
        compiled = []
        for group in section.values() if isinstance(section, dict) else [section]:
            for phrase in group.get("phrases", []) if isinstance(group, dict) else []:
                compiled.append(re.compile(re.escape(normalize_text(str(phrase)))))
            for pattern in group.get("patterns", []) if isinstance(group, dict) else []:
                compiled.append(re.compile(str(pattern)))
        return compiled

    @staticmethod
    def _first(patterns: Sequence[re.Pattern], text: str) -> Optional[str]:
        """The first matched span, if any."""
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                return match.group(0)
        return None

    def safety_match(self, text: str) -> Optional[str]:
        """The safety phrase found in the text, if any."""
        return self._first(self.safety, text)

    def profanity_match(self, text: str) -> Optional[str]:
        """The profanity found in the text, if any."""
        return self._first(self.profanity, text)

    def anger_match(self, text: str) -> Optional[str]:
        """The unmistakable word of anger found in the text, if any."""
        return self._first(self.anger, text)


class EmotionModel:
    """The trained textcat plus the lexicons, independent of Rasa."""

    # A label the classifier is not sure enough of -> the milder label it stands for.
    UNSURE_AS = {Emotion.urgent.value: Emotion.distressed.value}

    def __init__(self, nlps: Dict[str, Any], lexicon: EmotionLexicon, thresholds: Dict[str, float]) -> None:
        self.nlps = nlps
        self.lexicon = lexicon
        self.thresholds = thresholds

    @staticmethod
    def blank_pipeline(view: str, architecture: str, ngram_size: int) -> Any:
        """A blank Chinese pipeline segmented by jieba or by character, with an exclusive textcat."""
        import spacy

        if view not in ("jieba", "char"):
            raise ValueError(f"unknown emotion view {view!r}: use jieba or char")
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": view}}})
        model: Dict[str, Any]
        if architecture == "bow":
            model = {"@architectures": "spacy.TextCatBOW.v2", "exclusive_classes": True,
                     "ngram_size": ngram_size, "no_output_layer": False}
        else:
            model = {
                "@architectures": "spacy.TextCatEnsemble.v2",
                "linear_model": {"@architectures": "spacy.TextCatBOW.v2", "exclusive_classes": True,
                                 "ngram_size": ngram_size, "no_output_layer": False},
                "tok2vec": {
                    "@architectures": "spacy.Tok2Vec.v2",
                    "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 64,
                              "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                              "rows": [5000, 2000, 2000, 200], "include_static_vectors": False},
                    "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 64,
                               "window_size": 1, "maxout_pieces": 3, "depth": 2},
                },
            }
        textcat = nlp.add_pipe("textcat", config={"model": model, "threshold": 0.0})
        for label in LABELS:
            textcat.add_label(label)
        return nlp

    @classmethod
    def train(
        cls,
        examples: Iterable[Tuple[str, str]],
        lexicon: EmotionLexicon,
        *,
        thresholds: Dict[str, float],
        views: Optional[Dict[str, int]] = None,
        epochs: int = 20,
        architecture: str = "bow",
        random_seed: int = 42,
    ) -> EmotionModel:
        """Trains one textcat per view (segmenter -> n-gram size) on (text, label) pairs."""
        import spacy
        from spacy.training import Example

        pairs = [(normalize_text(text), label) for text, label in examples]
        if not pairs:
            raise ValueError("the emotion classifier needs training examples")
        nlps = {}
        for view, ngram_size in (views or {"jieba": 2, "char": 3}).items():
            spacy.util.fix_random_seed(random_seed)
            rng = random.Random(random_seed)
            nlp = cls.blank_pipeline(view, architecture, ngram_size)
            data = [Example.from_dict(nlp.make_doc(text), {"cats": {name: float(name == label) for name in LABELS}})
                    for text, label in pairs]
            optimizer = nlp.initialize(lambda examples=data: examples)
            for _ in range(epochs):
                rng.shuffle(data)
                for batch in spacy.util.minibatch(data, size=16):
                    nlp.update(batch, sgd=optimizer, drop=0.2)
            nlps[view] = nlp
        return cls(nlps, lexicon, thresholds)

    def scores(self, text: str) -> Dict[str, float]:
        """The probability per class, averaged over the views."""
        totals = dict.fromkeys(LABELS, 0.0)
        for nlp in self.nlps.values():
            cats = nlp(text).cats
            for label in LABELS:
                totals[label] += float(cats.get(label, 0.0))
        return {label: round(value / len(self.nlps), 4) for label, value in totals.items()}

    def predict(self, text: str) -> Dict[str, Any]:
        """Decides the emotion of one message: label, score, per-class scores, source."""
        text = normalize_text(text or "")
        if not text:
            return {"label": NEUTRAL, "score": 1.0, "scores": {label: float(label == NEUTRAL) for label in LABELS},
                    "source": "empty"}
        scores = self.scores(text)
        safety = self.lexicon.safety_match(text)
        if safety:
            return {"label": URGENT, "score": 1.0, "scores": scores, "source": "safety_lexicon", "match": safety}
        label, score = NEUTRAL, scores[NEUTRAL]
        # A label must clear its threshold and beat neutral; the best such label wins.
        candidates = [(scores[name], name) for name in LABELS if name != NEUTRAL
                      and scores[name] >= self.thresholds.get(name, 0.5) and scores[name] > scores[NEUTRAL]]
        # Danger the classifier is unsure of (no safety phrase, below the urgent bar) is met
        # gently, as distress with the offer of a person, rather than with the emergency numbers.
        for unsure, milder in self.UNSURE_AS.items():
            value = scores[unsure]
            if self.thresholds.get(milder, 0.5) <= value < self.thresholds.get(unsure, 0.5) and value > scores[NEUTRAL]:
                candidates.append((value, milder))
        if candidates:
            score, label = max(candidates)
        if label == NEUTRAL:
            for source, match in (("profanity", self.lexicon.profanity_match(text)),
                                  ("anger_lexicon", self.lexicon.anger_match(text))):
                if match:
                    return {"label": ANGRY, "score": max(scores[ANGRY], 0.9), "scores": scores,
                            "source": source, "match": match}
        return {"label": label, "score": score, "scores": scores, "source": "classifier"}

    def to_disk(self, folder: Path) -> None:
        """Writes one textcat per view under the folder."""
        for view, nlp in self.nlps.items():
            nlp.to_disk(folder / MODEL_DIR.format(view=view))

    @classmethod
    def from_disk(cls, folder: Path, views: Iterable[str], lexicon: EmotionLexicon,
                  thresholds: Dict[str, float]) -> EmotionModel:
        """Reads the textcats written by ``to_disk``."""
        import spacy

        return cls({view: spacy.load(folder / MODEL_DIR.format(view=view)) for view in views}, lexicon, thresholds)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class EmotionClassifier(GraphComponent):
    """Adds the emotion to the parse and re-ranks urgent or emotional messages."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Data paths, training settings, thresholds and the intent overrides."""
        return {
            "training_data": "bot/emotion/train.yml",
            "lexicon": "bot/emotion/lexicon.yml",
            "dictionary_path": "bot/jieba",
            # Segmenter of each view -> n-gram size of its bag of words.
            "views": {"jieba": 2, "char": 3},
            "architecture": "bow",
            "epochs": 20,
            "random_seed": 42,
            # Minimum averaged probability for each non-neutral label (which must also beat
            # neutral), chosen with scripts/eval_emotion.py together with the neutral sample
            # size below. Urgent from the classifier alone sends the emergency numbers, so its
            # bar is the highest; the safety lexicon needs no score.
            "thresholds": {Emotion.angry.value: 0.3, Emotion.distressed.value: 0.3, Emotion.urgent.value: 0.6},
            "intent_overrides": {Emotion.urgent.value: "urgent_help", Emotion.angry.value: "emotion_angry",
                                 Emotion.distressed.value: "emotion_distressed"},
            "keep_intents": ["request_human", "affirm", "deny", "rate"],
            # Intents kept when the message names what the citizen asks for: "我要投诉" goes to
            # the complaint form (which starts with empathy), venting alone gets the offer.
            "keep_when_named": {},
            # Intents kept when the message is at least this long: a grievance told in a
            # sentence or two is a complaint (its form starts with empathy and offers a person);
            # a short outburst (气死我了) gets the offer.
            "keep_when_described": {},
            # Intents whose training examples are ordinary requests: a sample of each joins
            # the neutral class, so chit-chat and service requests are not read as emotion.
            # Asking for a person is no anger: it stays an explicit request.
            "neutral_intents": ["greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "out_of_scope",
                                "unclear", "stop", "inform", "faq", "book_appointment", "check_booking",
                                "cancel_booking", "reschedule_booking", "withdraw_complaint", "rate",
                                "continue_task", "request_human"],
            "neutral_examples_per_intent": 15,
            # FAQ questions are most of what citizens type, in every wording: a larger sample of them.
            "neutral_examples_of_intent": {"faq": 100},
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """The training data and lexicons are Chinese."""
        return ["zh"]

    @staticmethod
    def required_packages() -> List[Text]:
        """spaCy for the textcat, jieba for segmentation."""
        return ["spacy", "jieba"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrains when the emotion data, the lexicon or the dictionary change."""
        digest = hashlib.sha256()
        paths = [Path(config.get("training_data") or ""), Path(config.get("lexicon") or "")]
        dictionary = Path(config.get("dictionary_path") or "")
        if dictionary.is_dir():
            paths.extend(sorted(p for p in dictionary.glob("*") if p.is_file()))
        for path in paths:
            if path.is_file():
                digest.update(str(path).encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[EmotionModel] = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EmotionClassifier:
        """Creates an untrained component."""
        load_jieba_dictionary(config.get("dictionary_path"))
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Trains the textcat from the emotion data file plus neutral intent examples, and persists it."""
        lexicon = EmotionLexicon.from_file(self.config["lexicon"])
        examples = read_examples(self.config["training_data"])
        examples += neutral_intent_examples(
            training_data, self.config.get("neutral_intents") or [],
            int(self.config.get("neutral_examples_per_intent", 0)), {text for text, _ in examples},
            self.config["random_seed"], self.config.get("neutral_examples_of_intent"))
        self.model = EmotionModel.train(
            examples, lexicon,
            thresholds=self.config["thresholds"], epochs=self.config["epochs"],
            views=self.config["views"], architecture=self.config["architecture"],
            random_seed=self.config["random_seed"],
        )
        with self._model_storage.write_to(self._resource) as folder:
            self.model.to_disk(Path(folder))
            shutil.copy(self.config["lexicon"], Path(folder) / LEXICON_FILE)
            dictionary = Path(self.config.get("dictionary_path") or "")
            if dictionary.is_dir():
                shutil.copytree(dictionary, Path(folder) / DICTIONARY_DIR)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> EmotionClassifier:
        """Loads the trained textcat and lexicon from the model storage."""
        try:
            with model_storage.read_from(resource) as folder:
                folder = Path(folder)
                load_jieba_dictionary(folder / DICTIONARY_DIR)
                lexicon = EmotionLexicon.from_file(folder / LEXICON_FILE)
                model = EmotionModel.from_disk(folder, config["views"], lexicon, config["thresholds"])
        except ValueError:
            logger.warning("Emotion classifier not found in the model; messages get no emotion.")
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the emotion to each message and re-ranks urgent or emotional ones."""
        for message in messages:
            text = message.get(TEXT)
            # Button payloads ("/request_human") are commands, not something the citizen felt.
            if self.model is None or not isinstance(text, str) or text.startswith("/"):
                continue
            emotion = self.model.predict(text)
            message.set(EMOTION, emotion, add_to_output=True)
            self._override_intent(message, emotion)
        return messages

    def _names_intent(self, intent: Optional[str], text: str) -> bool:
        """Whether the text names the intent in words (keep_when_named)."""
        words = (self.config.get("keep_when_named") or {}).get(intent) or []
        normalized = normalize_text(text or "")
        return any(word in normalized for word in words)

    def _describes(self, intent: Optional[str], text: str) -> bool:
        """Whether the text is long enough to describe what happened (keep_when_described)."""
        minimum = (self.config.get("keep_when_described") or {}).get(intent)
        return minimum is not None and len(normalize_text(text or "")) >= int(minimum)

    def _override_intent(self, message: Message, emotion: Dict[str, Any]) -> None:
        """Puts the emotion's intent on top so rules can react to it."""
        override = self.config["intent_overrides"].get(emotion["label"])
        if not override:
            return
        current = (message.get(INTENT) or {}).get("name")
        if emotion["label"] != URGENT and (current in self.config["keep_intents"]
                                           or self._names_intent(current, message.get(TEXT))
                                           or self._describes(current, message.get(TEXT))):
            return
        intent = {"name": override, "confidence": 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != override]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
