"""What citizens say about themselves inside a sentence: their name, mobile and ID number.

Used by every form (booking, complaint) through the service's understanding
endpoints, so a name or a phone number is read the same way everywhere.
Names are taken after an introduction (我叫 / 我是 / 姓名 / 名字是 / 预约人) when
what follows starts with a Chinese surname, or as a bare answer when the
citizen was asked for their name.
"""

import re

from bot.components.homophones import is_dictionary_word
from service.pii import COMPOUND_SURNAMES, find_id_number, find_mobile, mobile_span

# The commonest single-character surnames (《百家姓》 order is irrelevant; frequency covers >95 % of people).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "谈厉揭冀郁濮钮蔺晁鄢檀逯亢糜苏湛植禹阚那訾储娄霍鲍卓诸计伏成戈"
)
# The rest of the single-character surnames of 《百家姓》 and a few modern ones (钭, 裘, 宓 ...). Rarer
# and often ordinary words too (水, 云, 花), so they count only where a name is expected: after
# 我叫 / 名字写, as the answer to the name question, or as a three-character part of a list.
RARE_SURNAMES = frozenset(
    "钱褚卫尤吕施孔曹华金魏陶戚喻柏水窦云奚昌凤花酆廉岑雷倪殷乐傅皮元卜平萧湛祁狄贝臧伏茅屈阮闵席强危"
    "梅刁支昝经裘缪干宣贲郁杭洪诸嵇滑荀羊於惠封芮羿储汲邴松井富乌巴弓牧隗山宓蓬郗班仰秋伊暴钭厉戎"
    "祖束幸韶郜蓟薄印宿怀邰从鄂索咸籍赖屠阴郁胥能苍双闻莘贡劳逄扶堵宰郦雍郤璩寿通扈燕郏浦别充慕"
    "茹习宦鱼容慎终暨居衡步都满弘匡国广禄阙东殳沃利蔚越夔隆厍勾融乜养鞠须丰巢蒯相后荆红竺权盖益桓"
    "公晋楚闫法汝鄞涂钦岳帅缑亢况郈有琴归海墨哈谯笪年爱佘佴伯赏南宫墨寻官"
) - SURNAMES
# How citizens spell out a surname ("不是弓长张，是立早章"): the description is no name.
SURNAME_SPELLINGS = re.compile(r"弓长张|立早章|耳东陈|木子李|口天吴|双木林|草头黄|古月胡|言午许|人可何|禾口程|三横王|"
                               r"文刀刘|十八子李|走肖赵|双人徐|关耳郑|口木杏|日月明|女生姓|提手扬|木易杨|土里金|"
                               r"[一-龥]{1,2}字旁的?[一-龥]|[一-龥]{2}的[一-龥](?=[，,\s]|$)")
# Characters that end a name inside a sentence.
_NAME_END = r"(?=$|[\s，,。.！!？?；;、：:]|电话|手机|联系|号码|身份证|的|要|想|来|预约|办|帮|今天|明天|后天|下周|本周|这周|周[一二三四五六日天]|上午|下午)"
_INTRO = re.compile(
    r"(?:名字写(?:他|她)?的?|写(?:他|她)的名字|我叫做?|俺叫|俺是|[他她]叫|名叫|叫做|叫我|我的名字[是叫]?|名字[是叫：:]?|姓名[是：:]?|预约人[是：:]?|本人|我是|是|"
    # Who books for a family member names themselves by the relation ("孩子他爸雷振宇", "我老伴王秀英").
    r"(?:我是)?(?:孩子|宝宝|娃)(?:他|她)?(?:爸爸|妈妈|[爸妈爹娘])|(?:我|他|她)?(?:老伴|爱人|媳妇|老婆|老公|丈夫|妻子)(?:叫)?|"
    r"佢叫|姓名写|"
    # "俺妈叫刘桂芬", "我爸名字叫…": the relative being booked for, named.
    r"(?:我|俺)?(?:妈|爸|娘|爹|母亲|父亲|老妈|老爸|奶奶|爷爷|姥姥|姥爷|外婆|外公|儿子|女儿|闺女)(?:的名字|名字)?(?:叫|是))\s*"
    r"(?P<name>[\u4e00-\u9fa5·]{2,5}?)" + _NAME_END
)
# Chinese characters right before the mobile ("…欧阳春燕18732015037", "…李娜电话138…").
_BEFORE_MOBILE = re.compile(r"(?P<run>[\u4e00-\u9fa5]{2,8})(?:电话|手机号?|号码)?$")
_LIST_SEPARATORS = re.compile(r"[，,、；;\s]+")
_BARE = re.compile(r"^(?:我叫做?|叫|名字[是叫：:]?|姓名[是：:]?|我是|是)?\s*(?P<name>[\u4e00-\u9fa5·]{2,5})\s*[。.！!]?$")
# Words that can follow 我是 / 是 without being a name (我是来办…, 我是本人, 是的).
_NOT_NAMES = frozenset("本人 的 对的 是的 好的 这样 那个 这个 来办 来问 来预约 市民 群众 老人 学生 外地人 谢谢 多谢 "
                       "感谢 麻烦 没事 时间".split())
# Date and time words that start with a surname character (明天, 周五, 上午...).
_TIME_WORDS = re.compile(r"^(?:[今明后昨前]天|大后天|[上下中]午|早上|晚上|周[一二三四五六日天末]|星期.|礼拜.|月底|月初|年底)|[号点分]$")
_NOT_NAME_CHARS = set("的了吗呢吧啊呀嘛么办约证卡号码话午期改错没要想去在不谢很太挺是该为")


# How citizens say that something they said was wrong ("不对", "写错了", "改成…", "换到…").
CORRECTION_CUES = re.compile(r"不对|不是|错了|写错|弄错|搞错|说错|打错|输错|改成|改为|改到|改一下|改下|换成|换到|换个|换一|修改|更正|重新|"
                             r"弄成|弄到|挪到|调到|定成")
# "不是社保卡": what the citizen says it is not (up to the next pause).
NEGATED = re.compile(r"不是[^，,。.！!？?\s]{1,12}")
# A question mark or question word: the citizen is asking, not answering.
QUESTION_CUES = re.compile(r"[?？]|吗|什么|怎么|哪些|哪里|哪儿|哪个|多少|多久|几[点楼层天个号]|要不要|需不需要|能不能|可不可以|为什么|为啥")


def plausible_name(candidate: str, *, expected: bool = False) -> bool:
    """A Chinese personal name: a known surname and 2-4 characters that are not function words.

    ``expected`` (a name was asked for or announced) also accepts the rarer surnames."""
    name = candidate.replace("·", "")
    if not 2 <= len(name) <= 4 or name in _NOT_NAMES or not re.fullmatch(r"[\u4e00-\u9fa5]+", name) or \
            _TIME_WORDS.search(name):
        return False
    if any(char in _NOT_NAME_CHARS for char in name[1:]):
        return False
    return name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES or (expected and name[0] in RARE_SURNAMES)


def find_name(text: str, *, asked: bool = False, with_details: bool = False) -> str | None:
    """The citizen's name in the text: after an introduction, or the whole answer when the name was asked."""
    # "不是弓长张，是立早章 章立群": what spells out a surname, or is denied, is no name.
    cleaned = SURNAME_SPELLINGS.sub(" ", re.sub(r"不是[\u4e00-\u9fa5]{1,6}", " ", (text or "").strip())).strip()
    for match in _INTRO.finditer(cleaned):
        name = match.group("name")
        # A lazy match may stop early (王 + 小明): take the longest plausible prefix up to 4 characters.
        tail = cleaned[match.start("name"):]
        announced = match.group(0)[:1] != "是"
        for size in (4, 3, 2):
            candidate = tail[:size]
            if len(candidate) == size and plausible_name(candidate, expected=announced) and re.match(
                    _NAME_END, tail[size:]):
                return candidate
        if plausible_name(name, expected=announced):
            return name
    if asked:
        bare = _BARE.match(cleaned)
        if bare and plausible_name(bare.group("name"), expected=True):
            return bare.group("name")
    # A name typed right before the mobile with no space ("约个驾照换证欧阳春燕18732015037").
    mobile = mobile_span(cleaned)
    glued = _BEFORE_MOBILE.search(cleaned[:mobile[0]]) if mobile else None
    if glued:
        run = glued.group("run")
        for size in (4, 3, 2):
            if len(run) >= size and plausible_name(run[-size:]):
                return run[-size:]
    # A list of details ("整个社保卡，后天上午十点，李娜，158…"): a part that is just a name, when the
    # message also gives a number (a bare "不约了，谢谢" lists no details), or when the name was asked.
    parts = [part.strip() for part in _LIST_SEPARATORS.split(cleaned)]
    if len(parts) > 1 and (with_details or asked or re.search(r"[0-9]", cleaned)):
        for part in parts:
            if plausible_name(part) or (len(part) == 3 and plausible_name(part, expected=True)
                                        and not is_dictionary_word(part) and not is_dictionary_word(part[:2])):
                return part
    return None


def find_details(text: str, *, asked_name: bool = False) -> dict[str, str | None]:
    """Name, mobile and ID number said in one message (each None when absent)."""
    return {"name": find_name(text, asked=asked_name), "mobile": find_mobile(text), "id_number": find_id_number(text)}
