"""The `sitegen` program's first step (`python -m sitegen`, the console script): importing the command line and
its libraries takes a second or two, and Ctrl-C meanwhile ends the program as it does later, with `interrupted`
and exit code 130, not with a traceback. This module imports nothing of sitegen until it runs."""
from __future__ import annotations

import sys
from typing import NoReturn

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a program stopped by Ctrl-C


def program() -> None:
    try:
        from sitegen.cli import program as run
    except KeyboardInterrupt:
        interrupted()
    try:
        run()
    except KeyboardInterrupt:  # outside a command (parsing the options, the program's end)
        interrupted()


def interrupted() -> NoReturn:
    """'interrupted' in the reader's language where it can be had at once, and exit code 130."""
    message = "interrupted"
    try:
        from sitegen.i18n import Messages, choose_language

        message = Messages.for_language(choose_language(_lang_option())).line(message)
    except BaseException:  # noqa: BLE001 - a second Ctrl-C, or anything else: the English word will do
        pass
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a closed stderr: the exit code says it
        pass
    sys.exit(INTERRUPTED)


def _lang_option() -> str | None:
    for i, arg in enumerate(sys.argv):
        if arg == "--lang" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None
