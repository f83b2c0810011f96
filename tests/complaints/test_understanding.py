"""Everything a complaint message says, found in any order: sentences as citizens type them."""

import pytest

from complaints.understanding import understand

MIN_CHARS, MAX_CHARS = 6, 500


def read(text: str, asked: str | None = None) -> dict:
    return understand(text, asked=asked, min_chars=MIN_CHARS, max_chars=MAX_CHARS).as_dict()


# (message, what was asked, expected parts)
TABLE = [
    ("我要投诉，今天下午在社保窗口排了两个小时队，工作人员一直在玩手机，我电话13812345678", None,
     {"location": "社保窗口，今天下午", "mobile": "13812345678",
      "description": "今天下午在社保窗口排了两个小时队，工作人员一直在玩手机"}),
    ("二楼厕所太脏了，一直没人打扫，我要反映一下", None, {"location": "二楼厕所"}),
    ("有人在大厅门口收钱帮插队", None, {"location": "大厅门口", "category": "fees_integrity"}),
    ("电梯坏了一上午没人修", None, {"location": "电梯"}),
    # A floor with the area named after it; a rhetorical "不是说…吗" denies no place; a denied place at the
    # read-back is replaced by the one said after it.
    ("昨天在三楼公积金那排到十一点多 好不容易轮到我 窗口的说系统要维护让我下午再来", None, {"location": "三楼公积金，昨天"}),
    ("气死我了 你们不是说地下停车场前两个小时免费吗 我才停了一个多小时 出来收了我20块", None, {"location": "地下停车场"}),
    ("等下 地点说错了 不是停车场入口 是一楼大厅取号机旁边", "confirmed", {"location": "一楼大厅取号机"}),
    ("我要投诉 这钱不能白交", "location", {"location": None}),
    ("窗口我记错了 是B02 不是B03", "confirmed", {"location": "B02"}),
    ("就是两边说法不一样", "category", {"category": "policy_answer"}),
    ("今天早上去二楼办社保卡 窗口那个小伙子一直低头打游戏 我喊了三遍才抬头 还嫌我烦", None,
     {"category": "staff_attitude"}),
    # A website is no place in the centre; a WeChat "加急费" is a fee demand.
    ("网上办事大厅一直登录不了，验证码收不到，我要投诉", None, {"location": None, "category": "system_failure"}),
    ("举报一下三楼公积金C03窗口那个女的 让我加她微信转两百块加急费 说不转就得等一个月", None,
     {"category": "fees_integrity"}),
    ("二楼女卫生间地上全是水 好像哪里漏了 刚才有个老太太差点滑倒", None,
     {"location": "二楼女卫生间，刚才", "category": "facilities"}),
    ("两个窗口说法不一样，白跑了", None, {"location": None}),
    ("你们窗口的人太过分了！！骂人！我要投诉！", None, {"location": None}),
    # Bare answers to the place question.
    ("一楼", "location", {"location": "一楼", "found": ["location"]}),
    ("地点一楼大厅", "location", {"location": "一楼大厅"}),
    ("3楼医保窗口，昨天下午三点", "location", {"location": "3楼医保窗口，昨天下午三点"}),
    ("不知道，记不清是几楼了", "location", {"location": None, "skip": True}),
    ("跳过", "location", {"skip": True, "found": []}),
    ("算了，不投诉了", "location", {"location": None, "found": []}),
    ("地点不清楚，记不得哪个窗口了", "location", {"skip": True, "location": None}),
    # A correction at the read-back names the field and gives the new value.
    ("等等，地点说错了，税务在三楼，是三楼的税务窗口", "confirmed",
     {"location": "三楼税务窗口", "correction": True, "correction_target": "location"}),
    ("号码错了，是13607716245", "confirmed", {"mobile": "13607716245", "correction_target": "contact"}),
    # Anonymous, and a contact given as a bare answer.
    ("匿名吧", "contact", {"anonymous": True, "found": ["contact"]}),
    ("13912345678", "contact", {"mobile": "13912345678", "description": None}),
]


@pytest.mark.parametrize(("text", "asked", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_every_detail_is_found(text: str, asked: str | None, expected: dict) -> None:
    found = read(text, asked)
    assert {key: found[key] for key in expected} == expected


def test_a_detail_told_later_is_added_to_what_happened() -> None:
    told = "有人在大厅门口收钱帮插队"
    later = understand("今天早上九点多看到的，我不想留电话，匿名吧", asked="contact", min_chars=MIN_CHARS,
                       max_chars=MAX_CHARS, known_description=told)
    assert later.description.startswith(told) and "九点多" in later.description and later.anonymous
    again = understand("其实是在二楼，有人收钱帮人插队，我亲眼看到的", asked="description", min_chars=MIN_CHARS,
                       max_chars=MAX_CHARS, known_description=told)
    assert not again.description.startswith(told)


def test_a_time_told_later_is_added_to_the_place() -> None:
    later = understand("今天早上九点多看到的，我不想留电话，匿名吧", asked="contact", min_chars=MIN_CHARS,
                       max_chars=MAX_CHARS, known_description="有人在大厅门口收钱帮插队", known_location="大厅门口")
    assert later.location == "大厅门口，今天早上九点"


def test_the_endpoint_refuses_oversized_known_details_and_strangers(client, internal_headers) -> None:
    path = "/internal/complaints/understand"
    told = client.post(path, json={"text": "今天早上九点多看到的，我不想留电话，匿名吧", "asked": "contact",
                                   "known_description": "有人在大厅门口收钱帮插队", "known_location": "大厅门口"},
                       headers=internal_headers)
    assert told.status_code == 200 and told.json()["location"] == "大厅门口，今天早上九点"
    for field, size in (("known_description", 4001), ("known_location", 401)):
        too_long = client.post(path, json={"text": "匿名", "asked": "contact", field: "字" * size},
                               headers=internal_headers)
        assert too_long.status_code == 422, field
    assert client.post(path, json={"text": "匿名"}).status_code in (401, 403)
