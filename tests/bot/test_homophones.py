"""Words of the centre typed by sound are read as meant; ordinary words that sound alike are left alone."""

import pytest

from bot.components.homophones import correct_homophones
from bot.components.normalization import normalize_text

SLIPS = [
    ("龚丽萍 办台弯通行正 下周四上午十点半", "龚丽萍 办台湾通行证 下周四上午十点半"),
    ("这周六下午三点半能办护找不", "这周六下午三点半能办护照不"),
    ("我想预月一下社宝卡 明天早上去", "我想预约一下社保卡 明天早上去"),
    ("我要投述，C05窗口那个男的态度很恶劣", "我要投诉，C05窗口那个男的态度很恶劣"),
    ("港澳通形证怎么办", "港澳通行证怎么办"),
    ("工积金提取要什么", "公积金提取要什么"),
    ("架照丢了怎么办", "驾照丢了怎么办"),
    ("居著证怎么办", "居住证怎么办"),
    ("无犯醉记录证明", "无犯罪记录证明"),
    ("老年正怎么办", "老年证怎么办"),
    ("带款买房", "贷款买房"),
    ("驾找到期了要换", "驾照到期了要换"),
]

# Sound-alikes that are what the citizen meant: particles, real words, words across a boundary.
KEPT = [
    "畜生", "这个不公正", "不动产登记要预约吗", "我不办了", "那个算了，不办了", "你们看着办 反正今天必须给我个说法",
    "办离婚要多久", "请问离婚怎么办理", "父母户口不在一起孩子上哪", "宝宝报户口要带什么", "驾照提前多久换",
    "大专学历可以在这边落户不", "租房公积金怎么取出来", "你们拿着纳税人的钱就这么干活的", "哪款手机好用",
    "你们内部不沟通，让我们来回跑", "那个谁", "社保断交了有影响吗",
]


@pytest.mark.parametrize(("typed", "meant"), SLIPS)
def test_a_slip_is_read_as_meant(typed: str, meant: str) -> None:
    assert correct_homophones(typed) == meant


@pytest.mark.parametrize("text", KEPT)
def test_a_sound_alike_that_was_meant_is_kept(text: str) -> None:
    assert correct_homophones(text) == text


def test_normalisation_reads_slips_after_simplifying() -> None:
    # Traditional characters first become simplified, then the slip is read: 護找 -> 护找 -> 护照.
    assert normalize_text("護找怎麼辦理") == "护照怎么办理"


def test_a_correction_keeps_the_length_so_entity_offsets_hold() -> None:
    typed = "13697024518 下周三下午两点 开个无犯醉证明 单春雨"
    assert len(normalize_text(typed)) == len(typed)
