"""What every `readiness` subcommand module shares: the exit codes and the one-line usage error."""

from __future__ import annotations

import argparse

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_TEMPFAIL = 75  # sysexits' EX_TEMPFAIL: the database could not be reached; try again


class UsageError(Exception):
    """Bad input on the command line; the message is one line for stderr."""


MAX_ROW_ID = 2**31 - 1


def row_id(text: str) -> int:
    """An argparse type for a stored row's id (a review, an evidence set): a whole number a row can have."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ROW_ID:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a row id (a whole number from 1)")
    return int(text)
