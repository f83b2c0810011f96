"""The one place that knows what a citizen's personal data looks like and how it is masked.

Found inside free text and masked in one style everywhere (logs, the agent's
briefing, the FAQ question log, staff pages, public Open311 answers):

- mainland mobile numbers, also written with +86 / 0086 / 86, spaces or dashes: ``138****5678``
- 18-character ID numbers (GB 11643, lower-case x too, optionally grouped 6-8-4): ``110105********123X``
- landlines: ``010-****6666``; e-mail addresses: ``l***@example.cn``
- digit runs of 15 or more (bank cards, old ID numbers): ``6222***********3445``

Full-width digits (１３８…) are found as well. Names have no shape to find:
``mask_name`` masks a known one (``张*``, ``欧阳**``) and ``mask_text`` masks the
names it is given. ``install_log_masking`` masks every log record's message.
"""

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

# A normalised mainland mobile number and a normalised (upper-case) 18-character ID number.
MOBILE_PATTERN = re.compile(r"^1[3-9][0-9]{9}$")
ID_NUMBER_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")

# One pass over the text; the first alternative that matches at a position wins, so an ID number
# is never read as a mobile, and a QQ-style address (13812345678@qq.com) is read as an e-mail.
_FOUND = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"|(?P<id>[0-9]{6}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9Xx])"
    r"|(?P<mobile>(?:(?:\+|00)?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4})"
    r"|(?P<landline>(?:\(0[0-9]{2,3}\)|0[0-9]{2,3})[ -]?[0-9]{7,8})"
    r"|(?P<digits>[0-9]{15,})"
    r")(?![0-9])"
)
# Full-width forms a citizen's input method produces, mapped one character to one, so that
# positions found in the mapped copy are the positions in the original text.
_WIDE = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)},
                       "Ｘ": "X", "ｘ": "x", "＋": "+", "－": "-", "\u3000": " ", "＠": "@", "．": "."})
_SEPARATORS = re.compile(r"[\s\-()]")
_WHITESPACE = re.compile(r"\s+")
# Two-character surnames: the whole surname stays, the given name is masked.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 南宫 西门 百里 "
    "呼延 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 闾丘 东郭 万俟 司空 左丘 赫连 拓跋 第五 梁丘".split()
)
_NAME_SEPARATORS = frozenset(" ·•.")
# Credentials that can travel in a logged URL.
_SECRET_PARAMS = re.compile(r"(?i)\b(api_key|access_token|token|secret|password)=[^&\s\"']+")


def normalise_mobile(value: str | None) -> str:
    """Drops spaces, dashes, brackets and a +86/0086 prefix a citizen may type; full-width digits become ASCII."""
    digits = _SEPARATORS.sub("", (value or "").translate(_WIDE))
    if digits.startswith("+86"):
        return digits[3:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def is_mobile(value: str | None) -> bool:
    """True when the value, once normalised, is a mainland mobile number."""
    return bool(MOBILE_PATTERN.match(normalise_mobile(value)))


def mobile_span(text: str | None) -> tuple[int, int] | None:
    """Where the first mainland mobile number is in the text (never part of an ID number)."""
    for match in _FOUND.finditer((text or "").translate(_WIDE)):
        if match.lastgroup == "mobile":
            return match.span()
    return None


def find_mobile(text: str | None) -> str | None:
    """The first mainland mobile number inside free text, normalised to 11 digits (never part of an ID number)."""
    span = mobile_span(text)
    return normalise_mobile((text or "").translate(_WIDE)[span[0]:span[1]])[-11:] if span else None


def find_id_number(text: str | None) -> str | None:
    """The first 18-character ID number inside free text, upper-cased without separators (not yet checksummed)."""
    for match in _FOUND.finditer((text or "").translate(_WIDE)):
        if match.lastgroup == "id":
            return _SEPARATORS.sub("", match.group(0)).upper()
    return None


def find_digits_run(text: str | None) -> str | None:
    """A run of 7 or more digits that is neither a mobile nor an ID number: a mistyped phone number, say."""
    for match in re.finditer(r"(?<![0-9])[0-9][0-9 \-]{5,}[0-9](?![0-9])", (text or "").translate(_WIDE)):
        digits = _SEPARATORS.sub("", match.group(0))
        if len(digits) >= 7 and not MOBILE_PATTERN.match(normalise_mobile(digits)):
            return digits
    return None


def mask_mobile(mobile: str) -> str:
    """138****5678; anything that is not a mobile number is masked whole."""
    digits = normalise_mobile(mobile)
    if MOBILE_PATTERN.match(digits):
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


def mask_id_number(number: str) -> str:
    """Keeps the region (first 6) and the last 4: 110105********123X."""
    cleaned = _SEPARATORS.sub("", number.translate(_WIDE)).upper()
    if len(cleaned) <= 10:
        return "*" * len(cleaned)
    return f"{cleaned[:6]}{'*' * (len(cleaned) - 10)}{cleaned[-4:]}"


def mask_name(name: str) -> str:
    """Keeps the surname: 张三 → 张*, 欧阳娜娜 → 欧阳**; a name that is only a surname keeps its first character."""
    cleaned = name.strip()
    if len(cleaned) <= 1:
        return "*" * len(cleaned)
    kept = 2 if cleaned[:2] in COMPOUND_SURNAMES and len(cleaned) > 2 else 1
    return cleaned[:kept] + "".join(c if c in _NAME_SEPARATORS else "*" for c in cleaned[kept:])


def _masked(kind: str | None, found: str) -> str:
    if kind == "email":
        local, _, domain = found.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "id":
        return mask_id_number(found)
    if kind == "mobile":
        return mask_mobile(normalise_mobile(found)[-11:])
    if kind == "landline":
        area = re.match(r"\(?(0[0-9]{2,3})", found)
        return f"{area.group(1) if area else ''}-****{found[-4:]}"
    return f"{found[:4]}{'*' * (len(found) - 8)}{found[-4:]}"


def mask_text(text: str, names: Iterable[str | None] = ()) -> str:
    """Masks every mobile, ID, landline, e-mail and long number inside free text, and the names given."""
    if not text:
        return text
    for name in names:
        cleaned = (name or "").strip()
        # A name given as 李 明 (surname, given name) is also found written as 李明.
        for variant in dict.fromkeys((cleaned, _WHITESPACE.sub("", cleaned))):
            if len(variant) > 1:
                text = text.replace(variant, mask_name(variant))
    probe = text.translate(_WIDE)
    parts: list[str] = []
    last = 0
    for match in _FOUND.finditer(probe):
        parts += [text[last:match.start()], _masked(match.lastgroup, match.group(0))]
        last = match.end()
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def mask_value(value: Any) -> Any:
    """Masks PII inside the strings of nested JSON-like values (dicts, lists, tuples); keys stay as they are."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v) for v in value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value


def mask_log_text(text: str) -> str:
    """What a log line may carry: PII masked, and credentials in URLs (api_key=…, access_token=…) hidden."""
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", mask_text(text))


def _masked_arg(value: Any) -> Any:
    return mask_log_text(value) if isinstance(value, str) else mask_value(value)


class PiiMaskingFilter(logging.Filter):
    """Masks PII in a record's message, arguments, traceback and stack; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "pii_masked", False):
            return True
        record.pii_masked = True
        if isinstance(record.msg, str):
            record.msg = mask_log_text(record.msg)
        # Arguments are masked one by one so that formatters that read them (uvicorn's access log) still work.
        if isinstance(record.args, tuple):
            record.args = tuple(_masked_arg(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _masked_arg(v) for k, v in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is left to logging's own error report
            return True
        masked = mask_log_text(message)
        if masked != message:
            # What the pieces alone did not show: a number passed as an int, an object's str(), a split number.
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        return True


_LOG_FILTER = PiiMaskingFilter()


def install_log_masking() -> None:
    """Masks PII in every log record of the process, whichever logger or handler it goes through.

    A filter on a logger misses its children's records and one on a handler misses handlers added
    later (uvicorn's, pytest's), so the filter runs where every record is made: the record factory.
    Installing twice changes nothing.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_pii", False):
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _LOG_FILTER.filter(record)
        return record

    masking_factory.masks_pii = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
