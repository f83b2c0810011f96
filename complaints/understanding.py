"""Reads everything a citizen's message says about a complaint, whatever the form asked.

"我要投诉，今天下午在社保窗口排了两个小时队，工作人员一直在玩手机，我电话138…" gives
the description, the place and time, the contact and a category guess at once;
a bare "匿名" or "跳过" answers the question that was asked.
"""

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from complaints.categories import category_from_label, category_label, infer_category
from service.citizen_details import CORRECTION_CUES, NEGATED, QUESTION_CUES, find_name
from service.pii import find_digits_run, find_mobile

# Words that only say "I want to complain"; what remains is the complaint itself.
TRIGGER = re.compile(r"^(?:你好|您好)?[，,\s]*(?:我(?:要|想)?(?:投诉|举报|反映|提意见|差评)(?:一下)?|(?:投诉|举报|反映)(?:一下|个问题|个事儿?|个情况)?|"
                     r"我有(?:个|一个)?(?:问题|意见|投诉)(?:要反映)?)[，,。.：:!！\s]*")
# "我电话138…" / "手机号是…" / "联系方式…": the contact, not part of the description.
CONTACT_CLAUSE = re.compile(r"[，,。\s]*(?:我的?|联系)?(?:电话|手机号?|联系方式|号码)(?:是|为|：|:)?\s*[+0-9０-９ \-]{7,}[，,。]?")
ANONYMOUS = re.compile(r"匿名|不留|不方便留|不想留|不用联系|不要联系|保密")
SKIP = re.compile(r"^\s*(跳过|不清楚|不记得|记不清|忘了|不知道|没有|无|略|不方便说)[了吧啊。！!]*\s*$")
# "算了，不投诉了": giving up, not a place.
_WITHDRAW = re.compile(r"算了|不投诉|不提交|不弄了|不办了|不要了|不想投诉|取消")
# Place words that name no place on their own.
_VAGUE_PLACES = frozenset({"窗口", "柜台"})
# Places asked about, not named ("哪个窗口", "几楼").
_UNSURE_OF = re.compile(r"(哪个|哪一个|哪|几)(窗口|楼|层|个地方|里|儿)")
# "不知道，记不清是几楼了": a short answer that starts by not knowing is a skip too.
SKIP_LEAD = re.compile(r"^\s*(跳过|不清楚|不记得|记不清|忘了|不知道|说不清|想不起来)")
CORRECTION_TARGETS = (
    ("contact", re.compile(r"手机|电话|号码|联系方式")),
    ("category", re.compile(r"类别|类型|分类")),
    ("location", re.compile(r"地点|地方|位置|窗口|时间")),
    ("description", re.compile(r"内容|描述|情况|经过")),
)
# Where in the centre, and when: "社保窗口", "3号窗口", "二楼大厅", "今天下午", "昨天上午10点".
PLACE = re.compile(r"(?<![A-Za-z0-9])[A-Ha-h][0-9]{2}(?:号)?(?:窗口)?(?![0-9])|[0-9]{1,2}号窗口|窗口|大门口|大厅|柜台|服务台|咨询台|前台|门口|停车场|自助机|取号机|叫号机|等候区|办事区|分中心|服务中心|办事处|"
                   r"厕所|卫生间|洗手间|电梯|楼梯|饮水机|走廊|楼道|入口|出口|大门|坡道|无障碍通道|盲道|通道")
# Place words next to each other are one place ("大厅门口").
PLACE_RUN = re.compile(f"(?:{PLACE.pattern})+")
# Areas of the centre named after a floor ("三楼公积金", "二楼社保那边").
AREA = re.compile(r"(?:公积金|社保|医保|税务|出入境|户政|户籍|车管|车驾管|不动产|婚姻登记|人社|民政|企业开办|综合受理|"
                  r"养老|失业|残联|办税)(?:服务区|区|窗口|柜台)?")
# A floor ("二楼", "3层"): a place of its own, and put before the place it is on ("三楼" + "税务窗口").
FLOOR = re.compile(r"(?:[一二三四五六七八九十]|[0-9]{1,2})\s*[楼层](?![梯道])|负[一二]楼")
# "地点是…", "位置在…": words that only announce the place.
_PLACE_ANNOUNCED = re.compile(r"^(?:地点|位置|地方)(?:是|在|为|：|:)?")
# Where the words naming a place start: after the last of these before it ("有人在大厅" → "大厅").
_PLACE_START = re.compile(r".*[在到去从于，,。\s的了是人说]")
WHEN = re.compile(r"(?:今天|昨天|前天|刚才|刚刚|上周[一二三四五六日天]?|这周[一二三四五六日天]?|本周[一二三四五六日天]?|"
                  r"周[一二三四五六日天]|[0-9一二三四五六七八九十]{1,3}月[0-9一二三四五六七八九十]{1,3}[日号]|[0-9]{1,2}[日号](?![窗楼柜台门]))"
                  r"(?:早上|上午|中午|下午|晚上)?(?:[0-9一二两三四五六七八九十]{1,3}点(?:[0-9]{1,2}分?|半)?)?"
                  r"|(?:早上|上午|中午|下午|晚上)[0-9一二两三四五六七八九十]{1,3}点(?:[0-9]{1,2}分?|半)?")
# Words that say nothing ("就是那个啥", "嗯嗯那个东西"): a description needs more than these.
FILLER = re.compile(r"嗯|呃|额|啊|哦|那个|这个|就是|啥|什么|东西|一下|然后|反正|的|了|吧|呢")


@dataclass
class ComplaintDetails:
    """What one message says about a complaint, each part None when it says nothing of it."""

    description: str | None = None
    category: str | None = None
    category_label: str | None = None
    category_score: int = 0
    location: str | None = None
    mobile: str | None = None
    mobile_typed: str | None = None
    anonymous: bool = False
    skip: bool = False
    name: str | None = None
    correction: bool = False
    correction_target: str | None = None
    is_question: bool = False
    found: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the bot reads."""
        return asdict(self)


def _location(text: str) -> str | None:
    """The place and the time said in the text, joined ("三楼税务窗口，今天下午")."""
    parts = []
    for place in PLACE_RUN.finditer(text):
        before = _PLACE_ANNOUNCED.sub("", _PLACE_START.sub("", text[max(0, place.start() - 6):place.start()]))
        if re.search(r"[两二三几多0-9]个$", before):
            continue  # "两个窗口说法不一样" counts windows, it does not name one
        if re.search(r"网上|线上|掌上|云上|在线", before):
            continue  # "网上办事大厅登录不了" is a website, not a place in the centre
        if not re.sub(r"^(你们|我们|他们|这个|那个|这|那)", "", before) and place.group(0) in _VAGUE_PLACES:
            continue  # "你们窗口的人" names no window: the clerk asks which one
        # "你们大门口" names the centre's gate: who it belongs to is no part of the place.
        named = re.sub(r"^(你们|我们|他们|咱们)", "", before) + place.group(0)
        floor = next((f.group(0) for f in FLOOR.finditer(text) if f.group(0) not in named), None)
        parts.append(f"{floor}{named}" if floor and not FLOOR.search(named) else named)
        break
    else:
        floor = FLOOR.search(text)
        if floor:
            # "在三楼公积金那排到十一点多": the floor and the area of the centre named after it.
            area = AREA.match(text, floor.end())
            parts.append(floor.group(0) + (area.group(0) if area else ""))
    times = [match.group(0) for match in WHEN.finditer(text)]
    if times:
        parts.append(max(times, key=len))
    return "，".join(part for part in parts if part) or None


def understand(text: str, *, asked: str | None, min_chars: int, max_chars: int,
               known_description: str | None = None, known_location: str | None = None) -> ComplaintDetails:
    """Finds every complaint detail in one message.

    With ``known_description``, a description found while another question was asked
    ("今天早上九点多看到的") is added to what the citizen already told, not put in its place;
    so is a time or place added to ``known_location`` ("大厅门口" + "今天早上九点").
    """
    cleaned = (text or "").strip()
    details = ComplaintDetails(is_question=bool(QUESTION_CUES.search(cleaned)))
    # "地点不清楚，记不得哪个窗口了": not knowing where; "哪个窗口" names no window.
    unsure = _UNSURE_OF.sub("", _PLACE_ANNOUNCED.sub("", cleaned))
    details.skip = bool(SKIP.match(cleaned)) or (len(cleaned) <= 16 and bool(SKIP_LEAD.match(unsure))
                                                 and not PLACE.search(unsure) and not FLOOR.search(unsure))
    details.mobile = find_mobile(cleaned)
    if details.mobile:
        details.found.append("contact")
    elif asked == "contact":
        details.mobile_typed = find_digits_run(cleaned)
    if ANONYMOUS.search(cleaned) and not details.mobile:
        details.anonymous = True
        details.found.append("contact")
    details.name = find_name(cleaned)
    chosen = category_from_label(cleaned.strip("「」“”\"' "))
    if chosen is not None:
        details.category, details.category_label, details.category_score = chosen.value, category_label(chosen), 100
        details.found.append("category")
    elif asked == "category":
        # "就是两边说法不一样" answering the category question: the kind of problem in the citizen's words.
        guess = infer_category(cleaned)
        if guess.score:
            details.category, details.category_label = guess.category.value, category_label(guess.category)
            details.category_score = guess.score
            details.found.append("category")

    target = next((target for target, pattern in CORRECTION_TARGETS if pattern.search(cleaned)), None)
    # "这不是第一次了" inside a long description is no correction: a correction is short or names its field.
    if CORRECTION_CUES.search(cleaned) and (target or len(cleaned) <= 12):
        details.correction = True
        details.correction_target = target
        if details.correction_target == "category" and chosen is None:
            # "类别不对，是政策解释说法不一的问题": the right category from the words that follow.
            guess = infer_category(CORRECTION_TARGETS[1][1].sub("", cleaned))
            if guess.score:
                details.category, details.category_label = guess.category.value, category_label(guess.category)
                details.category_score = guess.score
                details.found.append("category")
    # Short answers to another question are not a description; a long message is, whatever was asked.
    substance = CONTACT_CLAUSE.sub("", TRIGGER.sub("", cleaned))
    if details.mobile:
        substance = re.sub(r"[+0-9０-９][0-9０-９ \-]{9,}", "", substance)
    substance = substance.strip(" ，,。.！!？?：:")
    # Answering another question, only a long message also tells what happened.
    long_enough = len(substance) >= (min_chars if asked in (None, "description") else 20)
    if len(FILLER.sub("", substance)) < 3:
        substance = ""
    asking_instead = details.is_question and asked not in (None, "description")
    if substance and not details.skip and chosen is None and not asking_instead and \
            not (details.anonymous and len(substance) < 12) and (
            asked == "description" and len(substance) >= min_chars or long_enough and not details.correction):
        details.description = substance[:max_chars]
        if known_description and asked not in (None, "description") and details.correction_target != "description" \
                and substance not in known_description:
            details.description = f"{known_description}；{substance}"[:max_chars]
        details.found.append("description")
        guess = infer_category(substance)
        if guess.score:
            details.category, details.category_label = guess.category.value, category_label(guess.category)
            details.category_score = guess.score
    # "不是停车场入口 是一楼大厅取号机旁边" answering the place or at the read-back: the place denied is not
    # the place ("你们不是说停车场免费吗" in a story denies nothing).
    told = substance if details.description else cleaned
    location = _location(NEGATED.sub(" ", told) if asked in ("location", "confirmed") else told)
    if location and not (details.skip and asked == "location") and (details.description or asked in ("location", "confirmed")):
        details.location = location
        if known_location and asked not in ("location",) and details.correction_target != "location" \
                and location not in known_location and known_location not in location:
            details.location = f"{known_location}，{location}"[:200]
        details.found.append("location")
    elif asked == "location" and substance and not details.skip and "contact" not in details.found \
            and not details.is_question and not _WITHDRAW.search(cleaned) and not TRIGGER.match(cleaned):
        details.location = substance[:200]
        details.found.append("location")
    return details
