"""Starts the Rasa server with its API token from the environment, never from the command line.

``rasa run --auth-token <token>`` puts the token where every local user can read
it (``ps``). This launcher takes the same options as ``rasa run`` except the
secret ones, reads the token from RASA_TOKEN, and starts the server the way the
``rasa`` command does. Run from the project root in the bot environment::

    RASA_TOKEN=... .venv-bot/bin/python -m bot.rasa_server --model models/current.tar.gz \\
        --endpoints endpoints.yml --credentials credentials.yml --enable-api --port 5005

The server binds 127.0.0.1 unless ``--interface`` says otherwise. It refuses to
start when RASA_TOKEN is missing, short or a placeholder.
"""

import logging
import os
import sys
from typing import List, Optional

from service.secrets import secret_problem

DEFAULT_INTERFACE = "127.0.0.1"
# Options of `rasa run` whose values are secrets: refused here, they would show in `ps`.
SECRET_OPTIONS = {"auth_token": "--auth-token", "jwt_secret": "--jwt-secret", "ssl_password": "--ssl-password"}


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry: checks the token, then serves until stopped."""
    argv = sys.argv[1:] if argv is None else argv
    token = os.environ.get("RASA_TOKEN", "")
    problem = secret_problem(token)
    if problem:
        print(f"rasa server: refusing to start: RASA_TOKEN {problem}. Set it in the environment "
              "(`make run` generates a local one under var/secrets.json).", file=sys.stderr, flush=True)
        return 2

    import rasa.telemetry
    import rasa.utils.io
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.__main__ import create_argument_parser
    from rasa.shared.exceptions import RasaException
    from rasa.shared.utils.cli import print_error
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot import rasa_tuning

    # The loopback default comes first, so an explicit --interface still wins.
    args = create_argument_parser().parse_args(["run", "--interface", DEFAULT_INTERFACE, *argv])
    given = [flag for name, flag in SECRET_OPTIONS.items() if getattr(args, name, None)]
    if given:
        print(f"rasa server: refusing {', '.join(given)} on the command line; RASA_TOKEN comes from the "
              "environment.", file=sys.stderr, flush=True)
        return 2
    args.auth_token = token

    # What `rasa`'s own entry point does before running a command (rasa.__main__.main).
    log_level = getattr(args, "loglevel", None)
    configure_logging_and_warnings(log_level, getattr(args, "logging_config_file", None),
                                   warn_only_once=True, filter_repeated_logs=True)
    tf_env.setup_tf_environment()
    tf_env.check_deterministic_ops()
    rasa_tuning.apply()
    sys.path.insert(1, os.getcwd())
    try:
        rasa.utils.io.configure_colored_logging(log_level)
        rasa.telemetry.initialize_telemetry()
        rasa.telemetry.initialize_error_reporting()
        configure_structlog(log_level)
        logging.getLogger(__name__).info("Rasa server on %s:%s, API token from RASA_TOKEN",
                                         args.interface, args.port)
        args.func(args)
    except RasaException as exc:
        print_error(f"{exc.__class__.__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
