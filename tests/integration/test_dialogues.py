"""The dialogue suite (tests/dialogues/*.yml) through the widget's websocket, and the runner's own rules.

The suite itself runs against the live stack and asserts the gate; the other
tests check, without a stack, that the dialogue files follow the format and
that the runner judges turns and outcomes as documented in
scripts/eval_dialogues.py.
"""

import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import eval_dialogues as dialogues  # noqa: E402

# make test fails below the suite's target (95 %, dialogues.DEFAULT_MIN_PASS_RATE).
GATE = dialogues.DEFAULT_MIN_PASS_RATE
THEMES = {"booking", "booking_repair", "complaint", "lookup", "handoff_emotion", "fallback", "faq_midform"}


@pytest.mark.integration
async def test_dialogue_suite_meets_the_gate(live_stack) -> None:
    suite = dialogues.load_suite()
    result = await dialogues.run_suite(live_stack.config.service_url,
                                       dialogues.database_path(live_stack.config.database_url),
                                       suite, concurrency=dialogues.DEFAULT_CONCURRENCY, progress=False)
    report = dialogues.format_report(result)
    print(report)
    print(f"results: {dialogues.write_results(result)}")
    assert result.pass_rate >= GATE, report


def test_dialogue_files_follow_the_format() -> None:
    suite = dialogues.load_suite()
    assert len(suite) >= 90
    assert set(Counter(d.theme for d in suite)) == THEMES
    assert all(d.turns and d.title for d in suite)


def test_a_mobile_shared_by_two_dialogues_is_refused() -> None:
    def dialogue(name: str) -> dialogues.Dialogue:
        return dialogues.Dialogue(id=name, theme="t", file="t.yml", title=name,
                                  turns=[dialogues.Turn(say="我叫张伟，电话138 1234 5678")], outcome={})

    with pytest.raises(dialogues.SuiteError, match="13812345678"):
        dialogues.lint([dialogue("a"), dialogue("b")])


def record(*texts: str, buttons: list[dict[str, str]] | None = None) -> dialogues.TurnRecord:
    return dialogues.TurnRecord(said="x", replies=[{"sender": "bot", "text": t, "buttons": buttons or []}
                                                   for t in texts])


def checks(failures: list[dialogues.Failure]) -> list[str]:
    return [f.check for f in failures]


def test_global_rules_count_messages_repeats_and_third_times() -> None:
    seen: Counter[str] = Counter()
    first = record("请问您的姓名？")
    assert dialogues.check_global_rules(first, None, seen) == []
    assert checks(dialogues.check_global_rules(record("a", "b", "c"), first, seen)) == ["too_many_messages"]
    assert checks(dialogues.check_global_rules(record("请问您的姓名？"), first, seen)) == ["repeated_previous"]
    assert checks(dialogues.check_global_rules(record("请问您的姓名？"), record("other"), seen)) == ["said_three_times"]
    assert checks(dialogues.check_global_rules(record(), None, seen)) == ["no_reply"]


def test_turn_checks_substitute_and_capture() -> None:
    variables: dict[str, str] = {}
    turn = dialogues.Turn(say="确认", expect=["预约成功"], reject=["失败"], buttons=["查询"],
                          capture=[r"预约码：(?P<code>[A-Z0-9]{6})"])
    booked = record("预约成功！预约码：K7M2QX", buttons=[{"title": "查询预约", "payload": "/check"}])
    assert dialogues.check_turn(turn, booked, variables) == []
    assert variables == {"code": "K7M2QX"}
    lookup = dialogues.Turn(say="查${code}", expect=["${code}"], reject=["${missing}"])
    assert dialogues.substitute(lookup.say or "", variables) == ("查K7M2QX", [])
    assert checks(dialogues.check_turn(lookup, record("没有找到"), variables)) == ["expect"]
    assert checks(dialogues.check_turn(turn, record("失败"), {})) == ["expect", "reject", "buttons", "capture"]


def test_optional_turns_follow_the_previous_reply() -> None:
    turn = dialogues.Turn(say="对", only_if="属于", unless="0001")
    assert turn.wanted(record("您反映的问题属于「服务态度」吗？"))
    assert not turn.wanted(record("请确认：类别属于服务态度，电话137****0001"))
    assert not turn.wanted(record("事情发生在哪里？"))


def test_outcome_is_matched_on_the_latest_record_of_each_kind() -> None:
    outcome = dialogues._parse_outcome({"booking": {"service": "passport", "day": "2026-11-19", "start": 600,
                                                    "part": ["morning", "afternoon"], "mobile": 13810000004}},
                                       "test")
    booking = {"service": "passport", "day": "2026-11-19", "start": "10:00", "part": "morning",
               "mobile": "13810000004"}
    assert dialogues.check_outcome(outcome, {"booking": [booking], "complaint": [], "handoff": []}) == []
    found = dialogues.check_outcome(outcome, {"booking": [], "complaint": [{"category": "other"}], "handoff": []})
    assert checks(found) == ["outcome_booking", "outcome_complaint"]
    complaint = dialogues._parse_outcome({"complaint": {"description_contains": ["收钱", "插队"], "location": None,
                                                        "anonymous": True}}, "test")
    row = {"description": "有人收钱帮插队", "location": None, "anonymous": True}
    assert dialogues.check_outcome(complaint, {"booking": [], "complaint": [row], "handoff": []}) == []
    row = {"description": "有人收钱", "location": "大厅", "anonymous": False}
    assert len(dialogues.check_outcome(complaint, {"booking": [], "complaint": [row], "handoff": []})) == 3


def test_an_unknown_key_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "x.yml").write_text("theme: x\ndialogues:\n  - id: a\n    turns:\n      - say: 你好\n"
                                    "        expects: [您好]\n", encoding="utf-8")
    with pytest.raises(dialogues.SuiteError, match="expects"):
        dialogues.load_suite(tmp_path)
