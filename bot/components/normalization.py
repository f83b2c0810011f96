"""Normalises citizen text before it is understood.

Pure Python with no Rasa import: the NLU pipeline (Python 3.10) and the
service (Python 3.11) share it, so a phrase is read the same way everywhere.

What changes:
- full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space become
  their half-width counterparts: ``１３８００１３８０００`` -> ``13800138000``,
  ``ＡＢＣ`` -> ``ABC``, ``，！？：；（）`` -> ``,!?:;()``;
- ideographic punctuation that has no half-width form (。、《》「」…——)
  is kept as written;
- invisible characters (zero-width spaces, byte-order marks, soft hyphens) are
  dropped, and control characters become spaces;
- traditional Chinese becomes simplified (OpenCC ``t2s``): ``身份證遺失`` ->
  ``身份证遗失``; the variant 妳 reads as 你;
- runs of whitespace collapse to one space and the ends are trimmed;
- a word of the centre's vocabulary typed by sound is read as meant
  (护找 -> 护照, 台弯通行正 -> 台湾通行证; ``bot.components.homophones``).

Phone numbers, ID numbers and ticket numbers typed on a Chinese keyboard in
full-width mode become plain ASCII, so one regular expression matches them.
"""

import re
from functools import lru_cache

from bot.components.homophones import correct_homophones

_FULL_WIDTH_FIRST = 0xFF01
_FULL_WIDTH_LAST = 0xFF5E
_FULL_WIDTH_OFFSET = 0xFEE0
_IDEOGRAPHIC_SPACE = "\u3000"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_WHITESPACE_RUN = re.compile(r"\s+")
# Variant characters OpenCC keeps but citizens use interchangeably with the common form.
_VARIANTS = str.maketrans({"妳": "你", "祢": "你"})


def _fold_width(char: str) -> str:
    """Maps one full-width ASCII form to its half-width character."""
    code = ord(char)
    if _FULL_WIDTH_FIRST <= code <= _FULL_WIDTH_LAST:
        return chr(code - _FULL_WIDTH_OFFSET)
    if char == _IDEOGRAPHIC_SPACE:
        return " "
    if code < 0x20 or 0x7F <= code < 0xA0:
        return " "
    return char


@lru_cache(maxsize=1)
def _t2s_converter():
    """Builds the traditional-to-simplified converter once per process."""
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Converts traditional Chinese characters to simplified ones."""
    if not text or text.isascii():
        return text
    return _t2s_converter().convert(text).translate(_VARIANTS)


def fold_width(text: str) -> str:
    """Turns full-width letters, digits and punctuation into half-width ones."""
    return "".join(_fold_width(char) for char in text.translate(_INVISIBLE))


def normalize_text(text: str) -> str:
    """Returns the text half-width, simplified, with whitespace collapsed and trimmed."""
    if not text:
        return ""
    folded = fold_width(text)
    simplified = to_simplified(folded)
    return correct_homophones(_WHITESPACE_RUN.sub(" ", simplified).strip())
