"""Prints the FAQ traffic report: ``python -m faq.report [--limit N]``.

The most asked entries and the most frequent unanswered (or unclear)
questions, from the query log in the service's database (DATABASE_URL).
"""

import argparse
import sys

from faq.knowledge import read_sources
from faq.service import get_report
from service.database import Database
from service.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    """Reads the log and prints the two top lists."""
    parser = argparse.ArgumentParser(prog="python -m faq.report", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="rows per list (default: FAQ__REPORT_LIMIT)")
    args = parser.parse_args(argv)
    settings = get_settings()
    limit = args.limit if args.limit and args.limit > 0 else settings.faq.report_limit
    titles = {entry.id: entry.title for entry in read_sources(settings.faq.knowledge_dir).entries}
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            report = get_report(db_session=session, titles=titles, limit=limit)
    finally:
        database.dispose()
    print(f"questions logged: {report.total_questions} (answered {report.answered}, "
          f"clarified {report.clarified}, unanswered {report.unanswered})")
    print("most asked entries:")
    for row in report.top_entries:
        print(f"  {row.count:6d}  {row.key}  {row.title or ''}")
    print("most frequent unanswered or unclear questions:")
    for row in report.top_unanswered:
        print(f"  {row.count:6d}  {row.key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
