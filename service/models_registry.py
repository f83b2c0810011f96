"""Imports every domain's tables so Base.metadata knows them all (Alembic and tests read it)."""

import appointments.models  # noqa: F401
import channels.web.models  # noqa: F401
import channels.wechat.models  # noqa: F401
import complaints.models  # noqa: F401
import conversations.models  # noqa: F401
import faq.models  # noqa: F401
import handoff.models  # noqa: F401
import service.attempts  # noqa: F401
from service.database import Base

metadata = Base.metadata
