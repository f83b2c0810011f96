"""ASGI entry point: ``uvicorn service.main:app``."""

from service.app import create_app
from service.pii import install_log_masking

# Before the app exists, so that nothing it logs while starting carries a phone or ID number.
install_log_masking()
app = create_app()
