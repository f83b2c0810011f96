"""Reads the centre's words as meant when a citizen typed them by sound.

Citizens type on pinyin keyboards, so the commonest slip is a word of the same
sound: 护找 for 护照, 台弯通行正 for 台湾通行证, 公鸡金 for 公积金, 社宝卡 for
社保卡. A run of characters is read as a word of the vocabulary when

- it sounds the same, tones ignored, and zh/z, ch/c, sh/s and the -ng/-n
  finals folded the way many southern speakers type them;
- it shares at least one character with the word, and at most half of its
  characters differ;
- it is not itself a word of the general dictionary (公正 stays 公正, it is not
  a misspelt 公证; 畜生 is not 出生), it starts and ends where jieba's words do
  (个说法 holds 说法, not 个税; a word cut at its edge must leave a word behind:
  驾找到期 reads 驾照 + 到期), no real word inside it changes (租房公积金 is
  not 住房公积金), and no particle or function word changes (预约吗 is no
  预约码, 不办了 no 补办了).

Slips of that kind are what a pinyin keyboard makes: a wrong candidate picked
for a single character, which leaves characters that form no word together.

The vocabulary is the catalogue's service names and aliases, the project's
jieba dictionary and the extra words in ``bot/cues/typing_slips.yml``. A
replacement has the same length as what it replaces, so entity offsets hold.
Pure Python with no Rasa import: the NLU pipeline and the service share it
through ``normalize_text``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_PATH = ROOT / "faq" / "catalogue.yml"
DICTIONARY_DIR = ROOT / "bot" / "jieba"
SLIPS_PATH = ROOT / "bot" / "cues" / "typing_slips.yml"

_CHINESE_WORD = re.compile(r"[\u4e00-\u9fff]{2,8}")
_FOLDED_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FOLDED_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _fold(syllable: str) -> str:
    """One toneless syllable with the sounds southern speakers merge folded together."""
    for hard, soft in _FOLDED_INITIALS:
        if syllable.startswith(hard):
            syllable = soft + syllable[len(hard):]
            break
    for hard, soft in _FOLDED_FINALS:
        if syllable.endswith(hard):
            return syllable[: -len(hard)] + soft
    return syllable


@lru_cache(maxsize=8192)
def _sounds(char: str) -> frozenset[str]:
    """Every folded reading of one Chinese character (行 reads xin and han)."""
    from pypinyin import Style, pinyin

    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(_fold(reading) for reading in (readings[0] if readings else ()) if reading.isalpha())


def _vocabulary_words() -> set[str]:
    """The catalogue's names and aliases, the jieba dictionary and the extra words."""
    words: set[str] = set()
    catalogue = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8")) or {}
    for service in (catalogue.get("services") or {}).values():
        words.update(str(term) for term in [service.get("name"), *(service.get("aliases") or [])] if term)
    for path in sorted(DICTIONARY_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                words.add(line.split()[0])
    slips = yaml.safe_load(SLIPS_PATH.read_text(encoding="utf-8")) or {}
    words.update(str(word) for word in slips.get("words") or [])
    return {word for word in words if _CHINESE_WORD.fullmatch(word)}


@lru_cache(maxsize=1)
def _index() -> tuple[frozenset[str], dict[tuple[int, str], list[tuple[str, tuple[str, ...]]]]]:
    """The vocabulary, and its words by length and first sound with their main readings."""
    from pypinyin import Style, lazy_pinyin

    words = _vocabulary_words()
    by_start: dict[tuple[int, str], list[tuple[str, tuple[str, ...]]]] = {}
    for word in sorted(words, key=lambda w: (-len(w), w)):
        # The word's own reading in context (通行证: tong xing zheng), folded.
        sounds = tuple(_fold(s) for s in lazy_pinyin(word, style=Style.NORMAL))
        if len(sounds) != len(word):
            continue
        by_start.setdefault((len(word), sounds[0]), []).append((word, sounds))
    return frozenset(words), by_start


# Characters a slip never hides behind: changing them changes what the sentence says.
_FUNCTION_CHARS = frozenset("吗不的了么呢吧啊呀嘛哦是在有个我你他她它这那哪就都也要会能和与没别再还又很太好")


@lru_cache(maxsize=1)
def _segmenter():
    """A jieba tokenizer of its own (the general dictionary and the project's), so the
    bot and the service segment alike whatever else loaded into jieba's global one."""
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for path in sorted(DICTIONARY_DIR.glob("*.txt")):
        tokenizer.load_userdict(str(path))
    return tokenizer


def is_dictionary_word(run: str) -> bool:
    """True when jieba knows the run as a word of its own (prefix entries carry no count)."""
    return _segmenter().FREQ.get(run, 0) > 0


def _word_spans(text: str) -> tuple[set[int], list[tuple[int, int]]]:
    """Where jieba's words start and end in the text, and the spans of its real words."""
    bounds: set[int] = {0, len(text)}
    words: list[tuple[int, int]] = []
    position = 0
    for token in _segmenter().cut(text, HMM=False):
        end = position + len(token)
        bounds.update((position, end))
        if len(token) > 1 and is_dictionary_word(token):
            words.append((position, end))
        position = end
    return bounds, words


def _plausible_slip(text: str, start: int, meant: str, bounds: set[int], words: list[tuple[int, int]]) -> bool:
    """A replacement that only touches characters which form no word with their neighbours."""
    end = start + len(meant)
    # A word jieba found across the run's edge is a misreading of the slip only when what is left of it
    # outside the run is a word of its own (驾找到期: 找到 is cut, 到期 is left; 个说法 leaves 法).
    crossing = [(s, e) for s, e in words if s < start < e or s < end < e]
    for word_start, word_end in crossing:
        if word_start < end < word_end:
            pieces = list(_segmenter().cut(text[end:end + 6], HMM=False))
            left = pieces[0] if pieces else ""
        else:
            pieces = list(_segmenter().cut(text[max(0, start - 6):start], HMM=False))
            left = pieces[-1] if pieces else ""
        if len(left) < 2 or not is_dictionary_word(left):
            return False
    if (start not in bounds and not crossing) or (end not in bounds and not crossing):
        return False
    changed = [start + offset for offset, char in enumerate(meant) if text[start + offset] != char]
    if any(text[index] in _FUNCTION_CHARS or meant[index - start] in _FUNCTION_CHARS for index in changed):
        return False
    inside = [word for word in words if word not in crossing]
    return not any(word_start <= index < word_end for word_start, word_end in inside for index in changed)


def _meant(run: str, candidates: list[tuple[str, tuple[str, ...]]]) -> str | None:
    """The vocabulary word the run sounds like, or None."""
    best: tuple[int, str] | None = None
    for word, sounds in candidates:
        same = sum(1 for typed, meant in zip(run, word) if typed == meant)
        if not same or len(word) - same > max(1, len(word) // 2):
            continue
        if all(sound in _sounds(typed) or typed == meant for typed, meant, sound in zip(run, word, sounds)):
            if best is None or same > best[0]:
                best = (same, word)
    return best[1] if best else None


@lru_cache(maxsize=4096)
def correct_homophones(text: str) -> str:
    """The text with each run typed by sound replaced by the vocabulary word meant.

    Cached: one message is normalised by several components and by the service."""
    if not text or text.isascii():
        return text
    words, by_start = _index()
    longest = max((length for length, _ in by_start), default=0)
    chars = list(text)
    bounds, real_words = _word_spans(text)
    position = 0
    while position < len(chars):
        step = 1
        for length in range(min(longest, len(chars) - position), 1, -1):
            run = "".join(chars[position:position + length])
            if not _CHINESE_WORD.fullmatch(run):
                continue
            if run in words:
                step = length
                break
            candidates = [item for sound in _sounds(run[0]) for item in by_start.get((length, sound), ())]
            meant = _meant(run, candidates) if candidates else None
            if meant and not is_dictionary_word(run) and _plausible_slip(text, position, meant, bounds, real_words):
                chars[position:position + length] = list(meant)
                step = length
                break
        position += step
    return "".join(chars)

