"""The one PII masker: what it finds in free text, the style it masks in, names, nested values, log records."""

import logging
from collections.abc import Iterator

import pytest

from service.pii import (
    PiiMaskingFilter,
    find_mobile,
    install_log_masking,
    is_mobile,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_text,
    mask_value,
    normalise_mobile,
)


@pytest.mark.parametrize(("text", "masked"), [
    ("13812345678", "138****5678"),
    ("我的手机13812345678，请回电", "我的手机138****5678，请回电"),
    ("电话：+86 138 1234 5678。", "电话：138****5678。"),
    ("+8613812345678", "138****5678"),
    ("0086-138-1234-5678", "138****5678"),
    ("手机138-1234-5678", "手机138****5678"),
    ("手机 139 0000 1111 谢谢", "手机 139****1111 谢谢"),
    ("电话：１３８１２３４５６７８", "电话：138****5678"),
    ("Tel13812345678/13900001111", "Tel138****5678/139****1111"),
    ("身份证110105194912310021", "身份证110105********0021"),
    ("身份证号11010519491231002x丢了", "身份证号110105********002X丢了"),
    ("证件 110105 19491231 002X", "证件 110105********002X"),
    ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证110105********002X"),
    ("座机010-88886666", "座机010-****6666"),
    ("座机(021)12345678转8", "座机021-****5678转8"),
    ("卡号6222020200112233445", "卡号6222***********3445"),
    ("邮箱li.ming@example.cn", "邮箱l***@example.cn"),
    ("QQ邮箱13812345678@qq.com", "QQ邮箱1***@qq.com"),
    ("手机13812345678，身份证110101199003071234", "手机138****5678，身份证110101********1234"),
    # What is not personal data stays as it is: ticket numbers, dates, times, short numbers, 12-digit runs.
    ("投诉 TS20261121-0001 于 2026-11-21 15:12 受理", "投诉 TS20261121-0001 于 2026-11-21 15:12 受理"),
    ("12号窗口，排队30分钟，编号123456789012", "12号窗口，排队30分钟，编号123456789012"),
    ("1381234567", "1381234567"),
    ("12812345678", "12812345678"),
    ("", ""),
])
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("李小明", "李**"), ("欧阳娜娜", "欧阳**"), ("欧阳锋", "欧阳*"), ("诸葛亮", "诸葛*"),
    ("司马相如", "司马**"), ("欧阳", "欧*"), ("张", "*"), (" 王五 ", "王*"), ("买买提·吐尔逊", "买**·***"),
    ("Li Ming", "L* ****"), ("", ""),
])
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_known_names_are_masked_in_text_also_without_the_space() -> None:
    text = "已电话联系投诉人张三（13712345678），李明反映属实"
    assert mask_text(text, names=["张三", "李 明", None, "张"]) == "已电话联系投诉人张*（137****5678），李*反映属实"


def test_numbers_alone() -> None:
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_mobile("+86 138-0013-8000") == "138****8000"
    assert mask_mobile("12345") == "*****"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("110105 19491231 002x") == "110105********002X"
    assert mask_id_number("1234") == "****"
    assert normalise_mobile(" +86 (138) 0013-8000 ") == "13800138000"
    assert normalise_mobile("１３８００１３８０００") == "13800138000"
    assert is_mobile("0086 138 0013 8000") and not is_mobile("12800138000") and not is_mobile(None)


def test_find_mobile_normalises_and_skips_id_numbers() -> None:
    assert find_mobile("身份证110101199003071234，电话 +86 138-1234-5678") == "13812345678"
    assert find_mobile("身份证110101199013812345") is None
    assert find_mobile("没有号码") is None and find_mobile(None) is None


def test_mask_value_walks_nested_json() -> None:
    value = {"mobile": "13812345678", "turns": [{"text": "身份证110101199003071234"}, ("13900001111", 7)],
             "count": 3, "ok": True, "none": None}
    assert mask_value(value) == {"mobile": "138****5678",
                                 "turns": [{"text": "身份证110101********1234"}, ("139****1111", 7)],
                                 "count": 3, "ok": True, "none": None}


@pytest.fixture
def masked_logging() -> Iterator[None]:
    """Installs the log masking for one test and puts logging back as it was afterwards."""
    before = logging.getLogRecordFactory()
    install_log_masking()
    install_log_masking()  # twice changes nothing
    yield
    logging.setLogRecordFactory(before)


def test_log_records_are_masked(masked_logging: None, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.pii.somewhere.deep")
    with caplog.at_level(logging.INFO):
        logger.info("citizen 13812345678 asked about 身份证 11010519491231002x")
        logger.info("callback to %s for %s", "+86 139 0000 1111", {"id": "110101199003071234"})
        logger.info("number as an int: %d", 13812345678)
        logger.warning("GET /open311/v2/requests.json?api_key=civic-tool-key&status=open")
        try:
            raise ValueError("bad mobile 13700001111")
        except ValueError:
            logger.exception("lookup failed for %s", "13600002222")
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for raw in ("13812345678", "11010519491231002", "13900001111", "110101199003071234", "13700001111",
                "13600002222", "civic-tool-key"):
        assert raw not in text, raw
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "citizen 138****5678 asked about 身份证 110105********002X"
    assert messages[1] == "callback to 139****1111 for {'id': '110101********1234'}"
    assert messages[2] == "number as an int: 138****5678"
    assert messages[3] == "GET /open311/v2/requests.json?api_key=***&status=open"
    assert "ValueError: bad mobile 137****1111" in caplog.text
    # Arguments stay a tuple when nothing spans them, so formatters that read them (uvicorn's) keep working.
    assert caplog.records[1].args == ("139****1111", {"id": "110101********1234"})


def test_without_masking_installed_records_are_untouched(caplog: pytest.LogCaptureFixture) -> None:
    # The test above really depends on the installation: with logging's own factory the number goes through.
    before = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("tests.pii").info("citizen %s", "13812345678")
    finally:
        logging.setLogRecordFactory(before)
    assert "13812345678" in caplog.text


def test_the_filter_also_works_on_a_handler() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s", ("13812345678",), None)
    assert PiiMaskingFilter().filter(record) is True
    assert record.getMessage() == "call 138****5678"
