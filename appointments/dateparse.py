"""Turns Chinese date and time expressions (明天下午, 下周三上午, 10月8号, 元旦, 国庆后, 15:30 ...) into a date and time.

Everything is relative to a given "now" in the service centre's time zone
(Asia/Shanghai). A date without a year is the next one to come, unless it passed
less than two months ago (then it is pointed out as past): "1月1日" said in
December is next January. The parser never guesses silently across a real
ambiguity: it answers with a problem code the conversation turns into a question.
"""

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from appointments.enums import DayPart, WhenProblem
from appointments.workdays import day_verdict, parse_overrides, statutory_blocks

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
NUM = r"[0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3}"

# When a part of the day is over, asking for it today is asking for the past.
PART_ENDS = {DayPart.morning: time(12, 0), DayPart.afternoon: time(18, 0), DayPart.evening: time(23, 59)}
PART_WORDS = {
    "凌晨": DayPart.morning, "早上": DayPart.morning, "早晨": DayPart.morning, "上午": DayPart.morning,
    "早": DayPart.morning, "下午": DayPart.afternoon, "傍晚": DayPart.evening, "晚上": DayPart.evening,
    "晚": DayPart.evening, "中午": None,
}

ISO_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
MONTH_DAY = re.compile(rf"(下个?月|本月|这个?月)?\s*({NUM})\s*月\s*({NUM})\s*[日号]|(下个?月|本月|这个?月)\s*({NUM})\s*[日号]")
DAY_ONLY = re.compile(rf"({NUM})\s*[日号]")
MONTH_EDGE = re.compile(r"(下个?月|本月|这个?月)?\s*(月底|月末|底|月初|初)")
WEEKDAY = re.compile(r"((?:下)*)\s*(?:个)?\s*(这|本|这个)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天七1-7]|末)")
DAYS_LATER = re.compile(rf"({NUM})\s*天\s*[以之]?后")
RELATIVE_DAYS = [("大后天", 3), ("后天", 2), ("后儿", 2), ("明天", 1), ("明日", 1), ("明早", 1), ("明晚", 1),
                 ("明儿", 1), ("今天", 0), ("今日", 0), ("今早", 0), ("今晚", 0), ("今儿", 0)]
VAGUE = re.compile(r"(过几天|过两天|这几天|改天|最近|下周|下个?星期|下礼拜|以后|有空)")
CLOCK = re.compile(
    rf"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|早|晚)?\s*({NUM})\s*(?:点钟?|时(?!间|候|段)|:)\s*"
    rf"(半|一刻|三刻|{NUM})?\s*分?"
)
PART_ONLY = re.compile(r"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)")
# A date said without a year that passed fewer days ago than this is a mistake to point
# out ("10月8号" in November), not a booking a year ahead.
RECENT_PAST_DAYS = 60
# Holiday words -> (chinesecalendar's name of the holiday, which day of its statutory block).
HOLIDAY_WORDS = {
    "元旦": ("New Year's Day", 0), "除夕": ("Spring Festival", 0), "大年三十": ("Spring Festival", 0),
    "年三十": ("Spring Festival", 0), "春节": ("Spring Festival", 1), "大年初一": ("Spring Festival", 1),
    "正月初一": ("Spring Festival", 1), "清明": ("Tomb-sweeping Day", 0), "五一": ("Labour Day", 0),
    "劳动节": ("Labour Day", 0), "端午": ("Dragon Boat Festival", 0), "中秋": ("Mid-autumn Festival", 0),
    "国庆": ("National Day", 0),
}
HOLIDAY_NAMES = "|".join(sorted(HOLIDAY_WORDS, key=len, reverse=True))
HOLIDAY = re.compile(rf"({HOLIDAY_NAMES})节?\s*(?:假期|长假|小长假|假)?\s*(过后|以后|之后|后|过完|结束|前|之前|以前)?")
AFTER_WORDS = {"过后", "以后", "之后", "后", "过完", "结束"}
# How many closed days a "春节后" may skip to reach an open one.
MAX_SKIPPED_DAYS = 20
NO_OVERRIDES = parse_overrides(None)


def published_calendar_open(day: date) -> bool:
    """Open by chinesecalendar's published schedule, or the statutory holidays (no operator overrides)."""
    return day_verdict(day, NO_OVERRIDES).is_open


@dataclass(frozen=True)
class ParsedWhen:
    """A parsed expression: a date and/or a time or part of day, or the problem found."""

    day: date | None = None
    at: time | None = None
    part: DayPart | None = None
    problem: WhenProblem | None = None

    @property
    def ok(self) -> bool:
        """True when a date or time was understood without problem."""
        return self.problem is None


def chinese_number(token: str) -> int:
    """Reads 28, 二十八, 十, 两 ... as an integer."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return DIGITS.get(tens, 1) * 10 + (DIGITS[ones] if ones else 0)
    value = 0
    for char in token:
        value = value * 10 + DIGITS[char]
    return value


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return text.replace("：", ":").replace("點", "点").replace("週", "周").replace("禮拜", "礼拜").strip()


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_offset(word: str | None) -> int:
    return 1 if word and word.startswith("下") else 0


def _coming(dates: list[date], today: date) -> date | None:
    """Of the same date in consecutive years, the first that passed less than RECENT_PAST_DAYS ago."""
    for candidate in sorted(dates):
        if (today - candidate).days <= RECENT_PAST_DAYS:
            return candidate
    return None


def _month_day(month: int, day_number: int, today: date) -> date | None:
    """A month and day without a year: the coming one (last year's, this year's or next year's)."""
    years = (today.year - 1, today.year, today.year + 1)
    candidates = [found for year in years if (found := _safe_date(year, month, day_number))]
    return _coming(candidates, today)


def _holiday_day(word: str, relation: str | None, today: date,
                 is_open: Callable[[date], bool] | None) -> tuple[date | None, WhenProblem | None]:
    """The day a holiday word means: the holiday itself, or the first day after it ("国庆后")."""
    if relation and relation not in AFTER_WORDS:
        # "春节前" is any day before the holiday: ask which.
        return None, WhenProblem.ambiguous
    name, index = HOLIDAY_WORDS[word]
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        block = dict(statutory_blocks(year))[name]
        candidates.append(block[-1] + timedelta(days=1) if relation else block[index])
    found = _coming(candidates, today)
    if found and relation:
        # After the holiday means the first open day, past any bridge days the State Council added.
        for _ in range(MAX_SKIPPED_DAYS):
            if (is_open or published_calendar_open)(found):
                break
            found += timedelta(days=1)
    return found, None


def _find_day(text: str, today: date,
              is_open: Callable[[date], bool] | None = None) -> tuple[date | None, WhenProblem | None, str]:
    """Finds the date in text; returns (date, problem, text with the date removed)."""
    if match := ISO_DATE.search(text):
        found = _safe_date(int(match[1]), int(match[2]), int(match[3]))
        return found, None if found else WhenProblem.invalid_date, text.replace(match[0], " ")
    if match := MONTH_DAY.search(text):
        if match[2]:
            month, day_number = chinese_number(match[2]), chinese_number(match[3])
            if not 1 <= month <= 12:
                return None, WhenProblem.invalid_date, text
            # "1月5号" said in December means next January.
            candidate = _month_day(month, day_number, today)
        else:
            year, month = _add_months(today, _month_offset(match[4]))
            candidate = _safe_date(year, month, chinese_number(match[5]))
        return candidate, None if candidate else WhenProblem.invalid_date, text.replace(match[0], " ")
    if match := HOLIDAY.search(text):
        found, problem = _holiday_day(match[1], match[2], today, is_open)
        return found, problem, text.replace(match[0], " ")
    if match := MONTH_EDGE.search(text):
        if match[2] in {"底", "初"} and not match[1]:
            pass
        else:
            offset = _month_offset(match[1])
            if match[2] in {"月底", "月末", "底"}:
                year, month = _add_months(today, offset)
                found = date(year, month, calendar.monthrange(year, month)[1])
            else:
                year, month = _add_months(today, offset if match[1] else (0 if today.day == 1 else 1))
                found = date(year, month, 1)
            return found, None, text.replace(match[0], " ")
    if match := WEEKDAY.search(text):
        weeks_ahead = len(match[1])
        this_week = bool(match[2])
        target = 5 if match[3] == "末" else WEEKDAYS[match[3]]
        monday = today - timedelta(days=today.weekday())
        found = monday + timedelta(weeks=weeks_ahead, days=target)
        if not weeks_ahead and not this_week and found < today:
            # A bare "周一" after Monday has passed means the coming Monday.
            found += timedelta(weeks=1)
        return found, None, text.replace(match[0], " ")
    if match := DAYS_LATER.search(text):
        return today + timedelta(days=chinese_number(match[1])), None, text.replace(match[0], " ")
    for word, offset in RELATIVE_DAYS:
        if word in text:
            rest = text.replace(word, " " + ("上午" if word.endswith("早") else "晚上" if word.endswith("晚") else ""), 1)
            return today + timedelta(days=offset), None, rest
    if match := DAY_ONLY.search(text):
        number = chinese_number(match[1])
        year, month = today.year, today.month
        if number < today.day:
            # "8号" after the 8th has passed means next month's 8th.
            year, month = _add_months(today, 1)
        found = _safe_date(year, month, number)
        return found, None if found else WhenProblem.invalid_date, text.replace(match[0], " ")
    if VAGUE.search(text):
        return None, WhenProblem.ambiguous, text
    return None, None, text


def _find_time(text: str) -> tuple[time | None, DayPart | None, WhenProblem | None]:
    """Finds a clock time or a part of the day in what remains of the text."""
    if match := CLOCK.search(text):
        part_word, hour, minute_word = match[1], chinese_number(match[2]), match[3]
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(minute_word or "", None)
        if minute is None:
            minute = chinese_number(minute_word) if minute_word else 0
        if part_word in {"下午", "傍晚", "晚上", "晚"} and hour < 12:
            hour += 12
        elif part_word == "中午" and hour <= 2:
            hour += 12 if hour else 0
        elif part_word in {"上午", "早上", "早晨", "早", "凌晨"} and hour > 12:
            return None, None, WhenProblem.ambiguous
        elif part_word is None and 1 <= hour <= 6:
            # Nobody books a counter at 2 a.m.: "两点" during opening hours is 14:00.
            hour += 12
        if hour > 23 or minute > 59:
            return None, None, WhenProblem.invalid_date
        part = PART_WORDS.get(part_word or "") or (DayPart.morning if hour < 12 else DayPart.afternoon)
        return time(hour, minute), part, None
    if match := PART_ONLY.search(text):
        part = PART_WORDS[match[1]]
        return None, part, None if part else WhenProblem.ambiguous
    return None, None, None


def parse_when(text: str, now: datetime, is_open: Callable[[date], bool] | None = None) -> ParsedWhen:
    """Parses a Chinese date/time expression relative to now (a local, Asia/Shanghai datetime).

    is_open tells whether the service centre works on a date, so that "春节后"
    lands on the first open day after the holiday; by default the published
    schedule (or the statutory holidays) without the operators' overrides.
    """
    cleaned = _normalise(text)
    if not cleaned or len(cleaned) > 100:
        return ParsedWhen(problem=WhenProblem.unrecognised)
    today = now.date()
    day, problem, rest = _find_day(cleaned, today, is_open)
    if problem:
        return ParsedWhen(problem=problem)
    at, part, time_problem = _find_time(rest)
    if time_problem:
        return ParsedWhen(problem=time_problem)
    if day is None and at is None and part is None:
        return ParsedWhen(problem=WhenProblem.unrecognised)
    if day is not None and is_past(day, at, part, now):
        return ParsedWhen(day=day, at=at, part=part, problem=WhenProblem.past)
    return ParsedWhen(day=day, at=at, part=part)


def is_past(day: date, at: time | None, part: DayPart | None, now: datetime) -> bool:
    """True when the date, or its time or part of day, is already over."""
    today = now.date()
    if day != today:
        return day < today
    if at is not None:
        return at <= now.time().replace(tzinfo=None)
    if part is not None:
        return PART_ENDS[part] <= now.time().replace(tzinfo=None)
    return False
