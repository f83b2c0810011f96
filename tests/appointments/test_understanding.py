"""Everything a booking message says, found in any order: a table of sentences as citizens type them.

The clock is Wednesday 2026-11-18 10:00 in Shanghai: 明天 is Thursday the 19th, 下周三 the 25th.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from appointments.schedule import AppointmentRules
from appointments.settings import AppointmentSettings
from appointments.understanding import understand
from service.texts import load_texts

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def rules() -> AppointmentRules:
    return AppointmentRules.from_settings(AppointmentSettings(), "Asia/Shanghai")


def read(rules: AppointmentRules, text: str, asked: str | None = None) -> dict:
    # At the confirmation a day and time are already chosen: tomorrow at 11:00.
    known = date(2026, 11, 19) if asked == "confirmed" else None
    return understand(text, asked=asked, rules=rules, now=NOW, known_day=known,
                      known_start="11:00" if known else None,
                      when_messages=load_texts("appointments")["when_problems"]).as_dict()


# (message, what was asked, expected parts; "day"/"start"/"part" as the service returns them)
TABLE = [
    ("帮我预约明天上午办营业执照", None, {"service_id": "business_license", "day": "2026-11-19", "part": "morning"}),
    ("明天上午帮我约一下办社保卡，我叫张伟，电话13812345678", None,
     {"service_id": "social_security_card", "day": "2026-11-19", "part": "morning", "name": "张伟",
      "mobile": "13812345678"}),
    ("帮我约下周三上午办身份证", None, {"service_id": "id_card", "day": "2026-11-25", "part": "morning"}),
    ("我叫陈静，手机13912345678", "day", {"name": "陈静", "mobile": "13912345678", "day": None}),
    ("我想预约办社保卡", None, {"service_id": "social_security_card", "day": None}),
    ("下周二上午", "day", {"day": "2026-11-24", "part": "morning", "service_id": None}),
    ("张伟", "name", {"name": "张伟", "day": None}),
    ("王强", "name", {"name": "王强"}),
    ("王强", "day", {"name": None}),
    ("社保卡", "service", {"service_id": "social_security_card", "day": None}),
    ("明天下午", "service", {"service_id": None, "day": "2026-11-19", "part": "afternoon"}),
    ("下午", "start", {"part": "afternoon", "day_given": False}),
    ("上午十一点", "start", {"start": "11:00", "part": "morning"}),
    ("上午十点", "start", {"when_problem": "past"}),
    ("两点半", "start", {"start": "14:30"}),
    ("下午3点", "start", {"start": "15:00"}),
    ("15:30", "start", {"start": "15:30"}),
    ("后天上午9点", None, {"day": "2026-11-20", "start": "09:00"}),
    ("大后天下午", None, {"day": "2026-11-21", "part": "afternoon"}),
    ("11月20号", None, {"day": "2026-11-20"}),
    ("11月20日下午", None, {"day": "2026-11-20", "part": "afternoon"}),
    ("12月1日", None, {"day": "2026-12-01"}),
    ("20号上午", None, {"day": "2026-11-20", "part": "morning"}),
    ("下周一", None, {"day": "2026-11-23"}),
    ("周五下午两点", None, {"day": "2026-11-20", "start": "14:00"}),
    ("星期四上午", None, {"day": "2026-11-19", "part": "morning"}),
    ("礼拜五", None, {"day": "2026-11-20"}),
    ("3天后", None, {"day": "2026-11-21"}),
    ("都行", "start", {"any_time": True}),
    ("随便，最早的就行", "day", {"any_time": True}),
    ("越早越好", "day", {"any_time": True}),
    ("哪天都可以", "day", {"any_time": True}),
    ("改天吧", "day", {"when_problem": "ambiguous"}),
    # Not understood at all: no reason to give, the form rewords its question (and then offers a person).
    ("阿巴阿巴", "day", {"when_problem": None, "found": [], "name": None, "service_id": None}),
    ("我要办护照", None, {"service_id": "passport"}),
    ("办个港澳通行证", None, {"service_id": "hk_macau_permit"}),
    ("公积金提取，明天", None, {"service_id": "housing_fund_withdrawal", "day": "2026-11-19"}),
    ("不动产登记下周四下午", None, {"service_id": "real_estate", "day": "2026-11-26", "part": "afternoon"}),
    ("结婚登记", "service", {"service_id": "marriage"}),
    ("驾驶证换证", "service", {"service_id": "driving_license"}),
    ("我的手机是138 1234 5678", "mobile", {"mobile": "13812345678", "day": None, "start": None}),
    ("电话:+86 139-1234-5678", "mobile", {"mobile": "13912345678"}),
    ("1381234567", "mobile", {"mobile": None, "mobile_typed": "1381234567"}),
    ("13812345678", "mobile", {"mobile": "13812345678", "day": None}),
    ("身份证110101199003071234", None, {"id_number": "110101199003071234", "mobile": None, "day": None}),
    ("我是李娜，身份证11010519491231002x", None, {"name": "李娜", "id_number": "11010519491231002X"}),
    ("姓名：刘德华，电话13700001111", None, {"name": "刘德华", "mobile": "13700001111"}),
    ("预约人是赵敏", None, {"name": "赵敏"}),
    ("我是来办身份证的", None, {"name": None, "service_id": "id_card"}),
    ("欧阳娜娜", "name", {"name": "欧阳娜娜"}),
    ("好的", "name", {"name": None}),
    ("不知道", "name", {"name": None}),
    ("不对，改成下午", "confirmed", {"correction": True, "correction_target": "when", "part": "afternoon"}),
    ("手机号错了，是13987654321", "confirmed",
     {"correction": True, "correction_target": "mobile", "mobile": "13987654321"}),
    ("换成下周一", "confirmed", {"correction": True, "correction_target": "when", "day": "2026-11-23"}),
    ("名字写错了", "confirmed", {"correction": True, "correction_target": "name", "name": None}),
    ("名字写错了，是李娜", "confirmed", {"correction": True, "correction_target": "name", "name": "李娜"}),
    ("不对", "confirmed", {"correction": True, "correction_target": None}),
    ("时间改一下", "confirmed", {"correction": True, "correction_target": "when"}),
    ("改成社保卡", "confirmed", {"correction": True, "correction_target": "service",
                            "service_id": "social_security_card"}),
    ("对", "confirmed", {"correction": False}),
    ("不是吗？", "confirmed", {"correction": False}),
    ("要带什么材料？", "day", {"is_question": True, "day": None}),
    ("社保卡要带什么材料", "service", {"is_question": True, "service_id": "social_security_card"}),
    ("我叫王小明明天来", None, {"name": "王小明", "day": "2026-11-19"}),
    ("电话13812345678，明天上午", None, {"mobile": "13812345678", "day": "2026-11-19", "part": "morning"}),
    ("预約明天上午辦身份證", None, {"day": "2026-11-19", "part": "morning"}),
    ("整个社保卡，后天上午十点，李娜，15810000003", None,
     {"service_id": "social_security_card", "start": "10:00", "name": "李娜", "mobile": "15810000003"}),
    ("我想给我爸约个老年证，下周一下午，他叫钱大伟", None, {"name": "钱大伟", "day": "2026-11-23"}),
    ("公积金提取，明天", None, {"name": None, "day": "2026-11-19"}),
    ("身分证到期了想约个时间换", None, {"service_id": "id_card"}),
    ("不知道哪天有空，最早什么时候能约", "day", {"any_time": True, "when_problem": None, "day": "2026-11-18"}),
    ("今天上午九点约户口，可以吗", None, {"service_id": "hukou", "when_problem": "past"}),
    ("在几楼办啊", "name", {"is_question": True, "found": []}),
    ("跳过", "mobile", {"skip": True, "mobile": None}),
    ("不对，是护照，不是身份证", "day", {"service_id": "passport", "correction": True}),
    ("改成十点", "confirmed", {"start": "10:00", "when_problem": None}),
    ("上午有事，改成下午", "confirmed", {"part": "afternoon", "correction": True}),
    ("可以的话帮我约上，曹明亮", None, {"name": "曹明亮"}),
    ("晚半个小时吧 11点怕赶不上", "confirmed", {"day": "2026-11-19", "start": "11:30"}),
    ("等下 我说错了 是下周二不是周三 时间还是十点半", "confirmed", {"day": "2026-11-24", "start": "10:30"}),
    ("往后推一天吧 时间不变", "confirmed", {"day": "2026-11-20", "start": "11:00"}),
    ("提前一个半小时", "confirmed", {"start": "09:30"}),
    ("帮我约下周二下午两点半办去台湾的通行证 储红梅 18642950173", None, {"name": "储红梅", "start": "14:30"}),
    ("后天上午十点给宝宝上户口 我是孩子爸爸娄建新 13759024618", None, {"name": "娄建新", "service_id": "newborn"}),
    ("哦对了 不是我去 是我老公去，名字写他的霍振东，电话还是留我的", "confirmed", {"name": "霍振东"}),
    ("想约个公鸡金带款的号，下周二上午十点半，鲍春燕，15817263049", None,
     {"service_id": "housing_fund_loan", "start": "10:30", "name": "鲍春燕"}),
    ("明儿下午四点 个税退税", None, {"day": "2026-11-19", "start": "16:00"}),
    ("九点太早了赶不过来，弄成十点半吧", "confirmed", {"start": "10:30", "correction": True}),
    ("想预哟个去台弯的通行证，下周五下午三点半", None, {"service_id": "taiwan_permit", "day": "2026-11-27",
                                         "start": "15:30"}),
    ("给娃上户口，11月23号上午十一点半，孩子他爸雷振宇 15127930684", None,
     {"service_id": "newborn", "day": "2026-11-23", "start": "11:30", "name": "雷振宇", "mobile": "15127930684"}),
    ("下周一早上九点 去台湾的通行证 约一个 谈丽君 18762053419", None,
     {"service_id": "taiwan_permit", "day": "2026-11-23", "start": "09:00", "name": "谈丽君"}),
    ("今天下午还能约营业执照吗，两点…不对，三点吧，我叫马超 17756230914", None,
     {"day": "2026-11-18", "start": "15:00", "name": "马超"}),
    ("明天上午不行了，换到后天下午三点", "confirmed", {"day": "2026-11-20", "start": "15:00"}),
    ("下周一上午去不了，挪到下周二上午", "confirmed", {"day": "2026-11-24", "part": "morning"}),
    # A weekday alone at the read-back stays in the week of the day chosen (Thursday the 19th).
    ("哦不对 周四我有事 改周五吧 时间不变", "confirmed", {"day": "2026-11-20", "correction": True}),
    ("名字错了 不是弓长张 是立早章 章立群", "confirmed", {"name": "章立群", "correction": True}),
    ("下周四下午两点 个税汇算 去现场问问 钭明辉 13714098263", None,
     {"service_id": "income_tax", "day": "2026-11-26", "start": "14:00", "name": "钭明辉"}),
    ("好 名字写裘海鹰", "name", {"name": "裘海鹰"}),
    ("龚丽萍 办台弯通行正 下周四上午十点半 电话15327460918", None,
     {"service_id": "taiwan_permit", "day": "2026-11-26", "start": "10:30", "name": "龚丽萍"}),
    ("这周六下午三点半能办护找不 我叫甘思远 13158094726", None,
     {"service_id": "passport", "day": "2026-11-21", "start": "15:30", "name": "甘思远"}),
    ("公积金 明天 13800000000", None, {"name": None}),
    ("俺妈叫刘桂芬", "name", {"name": "刘桂芬"}),
    ("下周二下午两点半约个驾照换证欧阳春燕18732015037", None, {"name": "欧阳春燕", "start": "14:30"}),
    ("明天上午约护照李娜+86 138 1234 5678", None, {"name": "李娜", "mobile": "13812345678"}),
    ("手机号打错了 最后是29 应该是15123826129", "confirmed", {"mobile": "15123826129", "name": None}),
    ("搞错了搞错了 不是社保卡 我要办的是医保报销 时间不变", "confirmed",
     {"service_id": "medical_insurance", "correction_target": "service"}),
]


@pytest.mark.parametrize(("text", "asked", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_every_detail_is_found(rules: AppointmentRules, text: str, asked: str | None, expected: dict) -> None:
    found = read(rules, text, asked)
    assert {key: found[key] for key in expected} == expected


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) >= 60
