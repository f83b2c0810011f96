"""Reads everything a citizen's message says about a booking, whatever the form asked.

One message may carry the service, the day and time, the name, the mobile and
the ID number in any order ("明天上午帮我约一下办社保卡，我叫张伟，电话138…"), a
correction ("不对，改成下午", "手机号错了，是139…") or a wish for any time ("都行",
"最早的"). The bot's form asks this once per message and fills every slot found;
what was asked only decides how a bare answer ("王强", "下午") is read.
"""

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from appointments.dateparse import ParsedWhen, is_past, parse_when
from appointments.enums import WhenProblem
from appointments.schedule import AppointmentRules
from bot.components.normalization import normalize_text
from service.citizen_details import CORRECTION_CUES, NEGATED, QUESTION_CUES, find_name
from service.pii import find_digits_run, find_id_number, find_mobile

ANY_TIME = re.compile(r"都行|都可以|随便|随意|无所谓|最早|尽快|越早越好|越快越好|哪天都|什么时候都|任意|有空就行|看着办|你定|您定")
# What a correction is about when it names the field ("手机号错了", "名字写错了", "时间改一下").
CORRECTION_TARGETS = (
    ("mobile", re.compile(r"手机|电话|号码|联系方式")),
    ("name", re.compile(r"名字|姓名|叫")),
    ("when", re.compile(r"时间|日期|几点|哪天|时段|上午|下午|早上|晚上|点钟|[0-9一二三四五六七八九十]+点")),
    ("service", re.compile(r"事项|业务|项目")),
)
# "跳过" / "不想留": a detail the citizen will not give.
SKIP = re.compile(r"^\s*(跳过|不想留|不留|不方便|不给|没有|不知道|算了吧)[了吧啊。！!]*\s*$")
# Typing slips in service names that are no homophones (homophones such as 社宝卡 and 护找 are
# read as meant by normalize_text before the text gets here).
_TYPO_WORDS = {"身分证": "身份证", "户囗": "户口", "驾照证": "驾驶证", "预釣": "预约", "预哟": "预约", "身fen证": "身份证",
               "公鸡金": "公积金", "房本": "房产证"}
# "时间不变", "其他不变": what stays is no correction target.
_KEPT = re.compile(r"(?:时间|日期|名字|姓名|电话|手机号?|其他|别的|其余)(?:都)?(?:不变|不改|不动|照旧|还是那个|还是原来的|一样)")
# "晚半个小时", "往后推一天", "提前一个小时": a move from the chosen time.
SHIFT = re.compile(r"(?:(?P<later>晚|推迟|往后推|往后挪|延后|推后|再晚)|(?P<earlier>早|提前|往前挪|往前提))\s*(?:个)?\s*"
                   r"(?P<amount>半|一|两|二|三|[0-9]+)\s*(?:个)?\s*(?P<half>半)?\s*(?P<unit>天|小时|钟头|分钟)")
_SHIFT_AMOUNTS = {"半": 0, "一": 1, "两": 2, "二": 2, "三": 3}
# "上午有事，改成下午": the time after the last of these is the one meant.
# ("不是" is not among them: "是下周二不是周三" names what it is not after it.)
CHANGE_TO = re.compile(r"改成|改为|改到|换成|换到|挪到|调到|推到|弄成|弄到|定成|定到|改约到|改约|不对|说错了|哦不|噢不|"
                       r"[改换](?=[这下本今明后大周星礼0-9一二三四五六七八九十上中晚早])")
# "改周五" at the read-back of 下周四: a weekday alone stays in the week of the day chosen.
_BARE_WEEKDAY = re.compile(r"(?<![这下本上])(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天1-7])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "7": 6,
             **{str(number): number - 1 for number in range(1, 7)}}
_BOOKING_WORDS = re.compile(r"约|预约|帮我办|给我办")
# Digits that belong to phone or ID numbers must not be read as dates or times.
_NUMBER_RUNS = re.compile(r"[0-9０-９][0-9０-９ \-]{6,}[0-9０-９Xx]")


@dataclass
class BookingDetails:
    """What one message says, each part None when it says nothing of it."""

    service_id: str | None = None
    service_name: str | None = None
    day: date | None = None
    start: str | None = None
    part: str | None = None
    day_given: bool = False
    when_problem: str | None = None
    when_message: str | None = None
    any_time: bool = False
    name: str | None = None
    mobile: str | None = None
    mobile_typed: str | None = None
    id_number: str | None = None
    correction: bool = False
    correction_target: str | None = None
    is_question: bool = False
    skip: bool = False
    found: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the bot reads."""
        values = asdict(self)
        values["day"] = self.day.isoformat() if self.day else None
        return values


def _service(rules: AppointmentRules, text: str) -> tuple[str | None, str | None]:
    """The catalogue service named in the text and the words that named it."""
    service_id = rules.catalogue.resolve(text)
    if not service_id:
        return None, None
    found = rules.catalogue.get(service_id)
    terms = [term for term in ((found.name, *found.aliases) if found else ()) if term and term in text]
    return service_id, max(terms, key=len) if terms else None


def _when(text: str, now: datetime, known_day: date | None) -> ParsedWhen:
    """Parses the date and time; a time alone is on the day already chosen, else today."""
    parsed = parse_when(text, now)
    if parsed.ok and parsed.day is None:
        day = known_day or now.date()
        problem = WhenProblem.past if is_past(day, parsed.at, parsed.part, now) else None
        return ParsedWhen(day=day, at=parsed.at, part=parsed.part, problem=problem)
    return parsed


def _when_words(rest: str, now: datetime, known_day: date | None) -> str:
    """The part of the text that says when: after the last "改成" when a time follows it."""
    changes = list(CHANGE_TO.finditer(rest))
    if changes:
        tail = rest[changes[-1].end():]
        if _when(tail, now, known_day).problem != WhenProblem.unrecognised:
            return tail
    return rest


def _shifted(text: str, known_day: date | None, known_start: str | None) -> tuple[date, str | None] | None:
    """"晚半个小时" / "往后推一天": the chosen day and time moved by the amount said, or None."""
    if known_day is None:
        return None
    match = SHIFT.search(text)
    if match is None:
        return None
    sign = -1 if match.group("earlier") else 1
    amount = _SHIFT_AMOUNTS.get(match.group("amount"), None)
    if amount is None:
        amount = int(match.group("amount")) if match.group("amount").isdigit() else 1
    unit = match.group("unit")
    if unit == "天":
        return known_day + timedelta(days=sign * amount), known_start
    if known_start is None:
        return None
    hourly = unit in ("小时", "钟头")
    minutes = amount * (60 if hourly else 1) + (30 if match.group("half") and hourly else 0)
    if match.group("amount") == "半":
        minutes = 30  # 半个小时
    start = datetime.combine(known_day, datetime.strptime(known_start, "%H:%M").time()) + \
        timedelta(minutes=sign * minutes)
    return start.date(), start.strftime("%H:%M")


def understand(text: str, *, asked: str | None, rules: AppointmentRules, now: datetime,
               when_messages: dict[str, str], known_day: date | None = None,
               known_start: str | None = None) -> BookingDetails:
    """Finds every booking detail in one message."""
    text = normalize_text(text)
    for typo, meant in _TYPO_WORDS.items():
        text = text.replace(typo, meant)
    details = BookingDetails(is_question=bool(QUESTION_CUES.search(text)), skip=bool(SKIP.match(text)))
    # "是护照，不是身份证": what the citizen says it is not, is not the service.
    details.service_id, term = _service(rules, NEGATED.sub("", text))
    if details.service_id:
        details.service_name = rules.catalogue.name(details.service_id)
        details.found.append("service")
    details.mobile = find_mobile(text)
    details.id_number = find_id_number(text)
    if details.mobile:
        details.found.append("mobile")
    elif asked == "mobile":
        details.mobile_typed = find_digits_run(text)
    if details.id_number:
        details.found.append("id_number")
    # "可以的话帮我约上，曹明亮": a request to book reads a name in a list of details like any other detail.
    details.name = find_name(text, asked=asked == "name",
                             with_details=bool(details.found) or bool(_BOOKING_WORDS.search(text)))
    if details.name:
        details.found.append("name")

    # The date is read from what is left once the service's own words and long numbers are gone,
    # so "三号楼" in a name or the digits of a phone number are never a day.
    rest = _NUMBER_RUNS.sub(" ", text.replace(term, " ") if term else text)
    if details.name:
        rest = rest.replace(details.name, " ")
    shifted = _shifted(rest, known_day, known_start) if asked == "confirmed" else None
    if shifted is not None:
        # Moved from what was chosen: "往后推一天，时间不变", "晚半个小时".
        details.day, details.start, details.day_given = shifted[0], shifted[1], True
        details.found.append("when")
        details.correction, details.correction_target = True, "when"
        return details
    rest = _when_words(rest, now, known_day)
    parsed = _when(rest, now, known_day)
    details.any_time = bool(ANY_TIME.search(rest))
    if parsed.problem is None or parsed.problem != WhenProblem.unrecognised:
        if parsed.problem is None:
            details.day, details.part = parsed.day, parsed.part.value if parsed.part else None
            details.start = parsed.at.strftime("%H:%M") if parsed.at else None
            details.day_given = parse_when(rest, now).day is not None
            said = NEGATED.sub("", rest)
            weekday = _BARE_WEEKDAY.search(said)
            if weekday and known_day and details.day_given and asked == "confirmed" and \
                    not re.search(r"[这下本上](?:个)?(?:周|星期|礼拜)", said) and \
                    details.day.weekday() == _WEEKDAYS[weekday.group("weekday")]:
                same_week = known_day + timedelta(days=_WEEKDAYS[weekday.group("weekday")] - known_day.weekday())
                if same_week >= now.date():
                    details.day = same_week
        else:
            details.when_problem = parsed.problem.value
            details.when_message = when_messages.get(parsed.problem.value)
        details.found.append("when")
    if details.any_time and (details.when_problem or "when" not in details.found):
        # "都行" / "最早什么时候": from today on, the earliest free slot is the answer.
        details.day, details.when_problem, details.when_message = now.date(), None, None
        details.day_given = False
        if "when" not in details.found:
            details.found.append("when")

    if CORRECTION_CUES.search(text) and not re.fullmatch(r"\s*(不是|不对)[吗呢]?[?？]?\s*", text) or re.fullmatch(
            r"\s*(不对|不是|错了)\s*[，,。！!]*\s*", text):
        details.correction = True
        for target, pattern in CORRECTION_TARGETS:
            if pattern.search(_KEPT.sub("", text)):
                details.correction_target = target
                break
        else:
            details.correction_target = next((part for part in ("when", "mobile", "name", "service")
                                              if part in details.found), None)
    return details
