"""The ``seismag`` command-line tool. Parsing and printing only: every command calls the
library, so anything the CLI does can be done from Python too.

``options`` (the parser: every command's options, help and examples), ``commands`` (one
function per command, calling the library), and :func:`main` here (errors as one line and an
exit status).

May import: every other stage (it is the last).
"""

from __future__ import annotations

import errno
import os
import sys

from seismag.cli.commands import COMMANDS
from seismag.cli.options import build_parser, config_from_args
from seismag.errors import SeismagError, describe_os_error

__all__ = ["COMMANDS", "build_parser", "config_from_args", "main"]

#: OS errors that are the user's to fix (a path, a permission, the disk), printed in one line.
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR,
                errno.ENOSPC, errno.EDQUOT, errno.ELOOP, errno.ENAMETOOLONG}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except SeismagError as exc:
        print(f"seismag {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"seismag {args.command}: interrupted; completed folds are kept (rerun with --resume)",
              file=sys.stderr)
        return 130
    except OSError as exc:  # after BrokenPipeError, itself an OSError
        # One the library did not word (a tune database folder, the results lock, ...):
        # still one line, naming the path and the cause. Others stay tracebacks.
        if exc.errno not in _USER_ERRNOS or not exc.filename:
            raise
        print(f"seismag {args.command}: error: {os.fsdecode(exc.filename)}: {describe_os_error(exc)}",
              file=sys.stderr)
        return 2
    return 0
