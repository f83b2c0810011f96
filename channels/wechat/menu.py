"""The account's custom menu: click keys and what each one asks the assistant."""

from typing import Any

from service.texts import load_texts

BOOK = "MENU_BOOK_APPOINTMENT"
COMPLAINT = "MENU_FILE_COMPLAINT"
FAQ = "MENU_COMMON_QUESTIONS"
HUMAN = "MENU_REQUEST_HUMAN"

# Keys that start a bot intent; FAQ is answered by the channel with a numbered list.
INTENT_FOR_KEY = {
    BOOK: "/book_appointment",
    COMPLAINT: "/file_complaint",
    HUMAN: "/request_human",
}


def menu_definition() -> dict[str, Any]:
    """Builds the body of cgi-bin/menu/create: 办事服务 (预约办理, 投诉建议), 常见问题, 转人工."""
    names = load_texts("channels.wechat")["menu"]
    return {
        "button": [
            {
                "name": names["services"],
                "sub_button": [
                    {"type": "click", "name": names["book"], "key": BOOK},
                    {"type": "click", "name": names["complaint"], "key": COMPLAINT},
                ],
            },
            {"type": "click", "name": names["faq"], "key": FAQ},
            {"type": "click", "name": names["human"], "key": HUMAN},
        ]
    }


def common_questions() -> list[dict[str, str]]:
    """The common questions offered by the 常见问题 menu, as buttons whose payload is the question."""
    questions = load_texts("channels.wechat")["faq_questions"]
    return [{"title": str(q), "payload": str(q)} for q in questions]
