"""Renders answer templates from catalogue fields.

A template is operator-written text with ``{field}`` or ``{details.key}``
placeholders. Rendering is one pass of a regular expression over a whitelist of
catalogue fields: a value is inserted as plain text and never read again as a
template, and nothing a citizen types ever reaches this module as a template.
"""

import json
import re

from faq.knowledge import CatalogueService, FaqEntry

PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)?)\}")
# Any brace left after rendering means a malformed placeholder (e.g. "{ fee}").
STRAY_BRACE = re.compile(r"[{}]")
TEXT_FIELDS = (
    "name", "department", "hall", "window", "address", "hours",
    "fee", "time_limit", "online_url", "phone",
)
LIST_FIELDS = ("materials", "aliases")


class TemplateFieldError(KeyError):
    """A template names a field the catalogue does not have."""


def template_fields(template: str) -> list[str]:
    """The placeholders a template uses, in order."""
    return PLACEHOLDER.findall(template)


def stray_braces(template: str) -> bool:
    """Tells whether braces remain that are not well-formed placeholders."""
    return bool(STRAY_BRACE.search(PLACEHOLDER.sub("", template)))


def field_value(service: CatalogueService, name: str) -> str:
    """The text a placeholder stands for; raises TemplateFieldError for an unknown one."""
    if name.startswith("details."):
        key = name.split(".", 1)[1]
        if key not in service.details:
            raise TemplateFieldError(name)
        return service.details[key]
    if name in TEXT_FIELDS:
        return str(getattr(service, name))
    if name == "materials":
        return "\n".join(f"{number}. {item}" for number, item in enumerate(service.materials, start=1))
    if name == "aliases":
        return "、".join(service.aliases)
    raise TemplateFieldError(name)


def render_template(template: str, service: CatalogueService) -> str:
    """Fills a template's placeholders with the service's catalogue fields."""
    return PLACEHOLDER.sub(lambda match: field_value(service, match.group(1)), template)


def book_payload(service_id: str) -> str:
    """The message a 预约办理 button sends: the booking intent with the service."""
    return "/book_appointment" + json.dumps({"service": service_id}, ensure_ascii=False)


def choose_payload(entry_id: str) -> str:
    """The message a candidate button sends: picks that FAQ entry."""
    return "/faq_choose" + json.dumps({"faq_entry": entry_id}, ensure_ascii=False)


def booking_entry_id(service_id: str) -> str:
    """The id of the built-in answer that says whether a service can be booked."""
    return f"booking.{service_id}"


def where_entry_id(service_id: str) -> str:
    """The id of the built-in answer that says where and when a service is handled."""
    return f"where.{service_id}"


def aspect_entry_id(aspect: str, service_id: str) -> str:
    """The id of the built-in answer that gives a service's hours, time limit or fee ("hours.passport")."""
    return f"{aspect}.{service_id}"


def online_entry_id(service_id: str) -> str:
    """The id of the built-in answer that gives a service's online entry."""
    return f"online.{service_id}"


def entry_buttons(entry: FaqEntry, service: CatalogueService, titles: dict[str, str]) -> list[dict[str, str]]:
    """The follow-up buttons of an answer (booking only for bookable services)."""
    buttons: list[dict[str, str]] = []
    for kind in entry.buttons:
        if kind == "book" and service.bookable:
            buttons.append({"title": titles["book"], "payload": book_payload(service.id)})
        elif kind == "online":
            buttons.append({"title": titles["online"], "payload": choose_payload(online_entry_id(service.id)),
                            "url": service.online_url})
        elif kind == "human":
            buttons.append({"title": titles["human"], "payload": "/request_human"})
    return buttons
