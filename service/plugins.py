"""Mounts each domain's routes and hooks; adding a domain means adding one line here."""

import importlib
import logging

from fastapi import FastAPI

logger = logging.getLogger(__name__)

# Each module exposes ``install(app: FastAPI) -> None``.
DOMAIN_INSTALLERS = [
    "faq.views",
    "appointments.views",
    "complaints.views",
    "handoff.views",
    "channels.web.views",
    "channels.wechat.views",
    "dashboard.views",
    # Last: the console's shared static mount must come after the domains' own.
    "staff.views",
]


def install_domains(app: FastAPI) -> None:
    """Calls every domain's installer."""
    for module_name in DOMAIN_INSTALLERS:
        module = importlib.import_module(module_name)
        installer = getattr(module, "install", None)
        if installer is None:
            raise RuntimeError(f"{module_name} has no install(app)")
        installer(app)
