"""The Chinese date/time parser against a fixed today: Wednesday 2026-11-18, 10:00 in Shanghai."""

from datetime import date, datetime, time, timedelta

import pytest

from appointments.dateparse import chinese_number, parse_when
from appointments.enums import DayPart, WhenProblem

NOW = datetime(2026, 11, 18, 10, 0)
AM, PM, EVE = DayPart.morning, DayPart.afternoon, DayPart.evening

# expression -> (date, time, part, problem)
TABLE = [
    ("今天", date(2026, 11, 18), None, None, None),
    ("明天", date(2026, 11, 19), None, None, None),
    ("后天", date(2026, 11, 20), None, None, None),
    ("大后天", date(2026, 11, 21), None, None, None),
    ("明天下午", date(2026, 11, 19), None, PM, None),
    ("后天两点", date(2026, 11, 20), time(14, 0), PM, None),
    ("下周三上午", date(2026, 11, 25), None, AM, None),
    ("周五", date(2026, 11, 20), None, None, None),
    ("周一", date(2026, 11, 23), None, None, None),
    ("周三", date(2026, 11, 18), None, None, None),
    ("星期天", date(2026, 11, 22), None, None, None),
    ("礼拜二", date(2026, 11, 24), None, None, None),
    ("这周一", date(2026, 11, 16), None, None, WhenProblem.past),
    ("本周五下午", date(2026, 11, 20), None, PM, None),
    ("下下周一", date(2026, 11, 30), None, None, None),
    ("下礼拜一", date(2026, 11, 23), None, None, None),
    ("下个星期四上午10点", date(2026, 11, 26), time(10, 0), AM, None),
    ("下周末", date(2026, 11, 28), None, None, None),
    ("10月8号", date(2026, 10, 8), None, None, WhenProblem.past),
    ("12月1日", date(2026, 12, 1), None, None, None),
    ("十二月二十五号", date(2026, 12, 25), None, None, None),
    ("1月5号", date(2027, 1, 5), None, None, None),
    ("11月30日下午三点", date(2026, 11, 30), time(15, 0), PM, None),
    ("8号上午十点", date(2026, 12, 8), time(10, 0), AM, None),
    ("25号下午3点一刻", date(2026, 11, 25), time(15, 15), PM, None),
    ("20号", date(2026, 11, 20), None, None, None),
    ("下个月5号", date(2026, 12, 5), None, None, None),
    ("月底", date(2026, 11, 30), None, None, None),
    ("下个月底", date(2026, 12, 31), None, None, None),
    ("下月初", date(2026, 12, 1), None, None, None),
    ("三天后", date(2026, 11, 21), None, None, None),
    ("5天以后", date(2026, 11, 23), None, None, None),
    ("2026-12-01", date(2026, 12, 1), None, None, None),
    ("2026/12/3 14:00", date(2026, 12, 3), time(14, 0), PM, None),
    ("2026年12月2日上午9点半", date(2026, 12, 2), time(9, 30), AM, None),
    ("２０２６－１２－０４", date(2026, 12, 4), None, None, None),
    ("明天 10:30", date(2026, 11, 19), time(10, 30), AM, None),
    ("明早9点", date(2026, 11, 19), time(9, 0), AM, None),
    ("明天晚上七点", date(2026, 11, 19), time(19, 0), EVE, None),
    ("今天上午", date(2026, 11, 18), None, AM, None),
    ("今天11点", date(2026, 11, 18), time(11, 0), AM, None),
    ("今天9点", date(2026, 11, 18), time(9, 0), AM, WhenProblem.past),
    ("下午3点半", None, time(15, 30), PM, None),
    ("15:30", None, time(15, 30), PM, None),
    ("十点半", None, time(10, 30), AM, None),
    ("两点", None, time(14, 0), PM, None),
    ("上午", None, None, AM, None),
    ("下周", None, None, None, WhenProblem.ambiguous),
    ("过几天", None, None, None, WhenProblem.ambiguous),
    ("明天中午", None, None, None, WhenProblem.ambiguous),
    ("上午15点", None, None, None, WhenProblem.ambiguous),
    ("31号", None, None, None, WhenProblem.invalid_date),
    ("2月30日", None, None, None, WhenProblem.invalid_date),
    ("13月2日", None, None, None, WhenProblem.invalid_date),
    ("25点", None, None, None, WhenProblem.invalid_date),
    ("你好", None, None, None, WhenProblem.unrecognised),
    ("", None, None, None, WhenProblem.unrecognised),
]


@pytest.mark.parametrize(("expression", "day", "at", "part", "problem"), TABLE, ids=[row[0] or "empty" for row in TABLE])
def test_expression(expression: str, day: date | None, at: time | None, part: DayPart | None,
                    problem: WhenProblem | None) -> None:
    parsed = parse_when(expression, NOW)
    assert parsed.problem == problem
    if problem in {None, WhenProblem.past}:
        assert (parsed.day, parsed.at, parsed.part) == (day, at, part)


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 40


def test_afternoon_of_today_is_past_in_the_evening() -> None:
    assert parse_when("今天下午", datetime(2026, 11, 18, 18, 30)).problem == WhenProblem.past
    assert parse_when("今天下午", datetime(2026, 11, 18, 13, 0)).problem is None


def test_date_in_december_rolls_into_next_year() -> None:
    parsed = parse_when("1月4号上午", datetime(2026, 12, 28, 9, 0))
    assert parsed.day == date(2027, 1, 4)


# (now, expression, date, problem): a date without a year is the coming one, across the year boundary;
# one that passed less than two months ago is pointed out as past.
ROLLOVER = [
    (datetime(2026, 12, 1, 10, 0), "1月1日", date(2027, 1, 1), None),
    (datetime(2026, 12, 1, 10, 0), "预约1月1日办身份证", date(2027, 1, 1), None),
    (datetime(2026, 12, 1, 10, 0), "一月一号上午", date(2027, 1, 1), None),
    (datetime(2026, 12, 15, 10, 0), "1号", date(2027, 1, 1), None),
    (datetime(2026, 12, 1, 10, 0), "1号", date(2026, 12, 1), None),
    (datetime(2026, 12, 1, 10, 0), "元旦", date(2027, 1, 1), None),
    (datetime(2026, 12, 31, 10, 0), "元旦上午十点", date(2027, 1, 1), None),
    (datetime(2026, 12, 1, 10, 0), "12月25日", date(2026, 12, 25), None),
    (datetime(2026, 12, 1, 10, 0), "11月20日", date(2026, 11, 20), WhenProblem.past),
    (datetime(2027, 1, 3, 10, 0), "12月30日", date(2026, 12, 30), WhenProblem.past),
    (datetime(2027, 1, 3, 10, 0), "元旦", date(2027, 1, 1), WhenProblem.past),
    (datetime(2027, 3, 1, 10, 0), "2月29日", date(2028, 2, 29), None),
    (datetime(2026, 12, 1, 10, 0), "2月29日", None, WhenProblem.invalid_date),
    (datetime(2026, 12, 1, 10, 0), "除夕", date(2027, 2, 5), None),
    (datetime(2026, 12, 1, 10, 0), "大年初一", date(2027, 2, 6), None),
    (datetime(2026, 12, 1, 10, 0), "春节", date(2027, 2, 6), None),
    (datetime(2026, 12, 1, 10, 0), "春节后", date(2027, 2, 9), None),
    (datetime(2026, 12, 1, 10, 0), "春节假期以后上午", date(2027, 2, 9), None),
    (datetime(2026, 12, 1, 10, 0), "五一后", date(2027, 5, 3), None),
    (datetime(2026, 12, 1, 10, 0), "中秋节", date(2027, 9, 15), None),
    (datetime(2027, 9, 20, 10, 0), "国庆后", date(2027, 10, 4), None),
    # In a published year "after" skips the published bridge days: 2026's National Day week ends 10-07.
    (datetime(2026, 9, 20, 10, 0), "国庆后", date(2026, 10, 8), None),
    (datetime(2026, 1, 20, 10, 0), "春节后", date(2026, 2, 24), None),
    (datetime(2026, 12, 20, 10, 0), "元旦后", date(2027, 1, 4), None),  # past the weekend of 01-02
    (datetime(2027, 9, 20, 10, 0), "国庆节", date(2027, 10, 1), None),
    (datetime(2026, 12, 1, 10, 0), "春节前", None, WhenProblem.ambiguous),
]


@pytest.mark.parametrize(("now", "expression", "day", "problem"), ROLLOVER,
                         ids=[f"{row[0]:%m-%d} {row[1]}" for row in ROLLOVER])
def test_dates_without_a_year_and_holiday_words(now: datetime, expression: str, day: date | None,
                                                problem: WhenProblem | None) -> None:
    parsed = parse_when(expression, now)
    assert (parsed.day, parsed.problem) == (day, problem)


def test_after_a_holiday_is_the_first_open_day_when_the_calendar_is_known() -> None:
    # 2026's published Spring Festival holiday runs 02-15 to 02-23 (statutory: 02-16 to 02-19).
    closed = {date(2026, 2, 15) + timedelta(days=offset) for offset in range(9)}
    parsed = parse_when("春节后", datetime(2026, 1, 20, 10, 0), is_open=lambda day: day not in closed)
    assert parsed.day == date(2026, 2, 24)


def test_overlong_text_is_refused() -> None:
    assert parse_when("明天" * 80, NOW).problem == WhenProblem.unrecognised


@pytest.mark.parametrize(("token", "value"), [("十", 10), ("十一", 11), ("二十", 20), ("三十一", 31), ("两", 2),
                                              ("28", 28)])
def test_chinese_numbers(token: str, value: int) -> None:
    assert chinese_number(token) == value
