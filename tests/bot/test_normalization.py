"""The text normaliser shared by the NLU pipeline and the service."""

import pytest

from bot.components.normalization import fold_width, normalize_text, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("身份證遺失", "身份证遗失"),
        ("妳好", "你好"),
        ("１３８００１３８０００", "13800138000"),
        ("ＴＳ２０２６１１２１－０００７", "TS20261121-0007"),
        ("預約碼ＹＢ７Ｋ３Ｍ", "预约码YB7K3M"),
        ("  我的　手机号\t\n是 139 ", "我的 手机号 是 139"),
        ("請問，怎麼補辦？", "请问,怎么补办?"),
        ("社保卡丢了。怎么办……《办事指南》", "社保卡丢了。怎么办……《办事指南》"),
        ("\u200b你好\ufeff", "你好"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_simplified_text_is_left_alone():
    text = "我想预约办理营业执照，下周三上午可以吗"
    assert normalize_text(text) == "我想预约办理营业执照,下周三上午可以吗"
    assert to_simplified(text) == text


def test_normalisation_is_idempotent():
    once = normalize_text("我要辦理　港澳通行證，電話１３９１２３４５６７８！")
    assert once == "我要办理 港澳通行证,电话13912345678!"
    assert normalize_text(once) == once


def test_width_folding_keeps_length_for_full_width_forms():
    raw = "ＡＢＣ１２３！"
    assert fold_width(raw) == "ABC123!"
    assert len(fold_width(raw)) == len(raw)


def test_control_characters_become_spaces():
    assert normalize_text("你好\x00\x07世界") == "你好 世界"


def test_module_loads_without_rasa():
    """The service imports the normaliser from Python 3.11, where Rasa is not installed."""
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, bot.components.normalization as m; print(m.normalize_text('測試'), 'rasa' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["测试", "False"]
