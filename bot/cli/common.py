"""What every `readiness` subcommand module shares: the exit codes and the one-line usage error."""

from __future__ import annotations

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad input on the command line; the message is one line for stderr."""
