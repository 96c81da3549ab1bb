"""Errors that carry the exit code the CLI reports (see README "Exit codes")."""

from __future__ import annotations

#: Exit codes shared by every command.
EXIT_OK = 0
EXIT_FAILED = 1  # the input was read, and it does not pass (violations, a refused query...)
EXIT_BAD_INPUT = 2  # the input could not be read or used (syntax, unknown name, bad option)


class CoopgraphError(Exception):
    """Base error: a message meant for the user and the exit code that goes with it."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InputError(CoopgraphError):
    """Unreadable or unusable input: a syntax error, a missing file, an unknown name."""

    exit_code = EXIT_BAD_INPUT


class QueryRefused(CoopgraphError):
    """A SPARQL request that coopgraph will not run (update, SERVICE, LOAD, outside FROM)."""

    exit_code = EXIT_FAILED


class NetworkRefused(CoopgraphError):
    """Something asked to fetch a remote or local resource that is not one of our files."""

    exit_code = EXIT_FAILED
