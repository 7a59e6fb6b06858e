"""Errors shared by every stage."""

from collections.abc import Iterable


class UserInputError(Exception):
    """A bad input, named in the message (a file, a URL, a config key).

    Raised for problems the user can fix; the CLI prints the message without
    a traceback and exits with `exit_code`.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class DataError(UserInputError, ValueError):
    """Input data a stage cannot use as it is, named in the message.

    Files of one dataset that disagree (keypoint layouts, cleanings), too few
    videos for the splits, no clip left to split. A UserInputError for the CLI
    (message, no traceback) and a ValueError for callers of the package.
    """


class EnvironmentFault(Exception):
    """A fault of the machine or the network (no space, I/O error, the site down), not of the item.

    The job fails with this message and leaves no output, so that a rerun redoes
    it once the fault is gone; see alignnet.faults. The CLI prints the message
    without a traceback and exits with EXIT_CODE.
    """

    EXIT_CODE = 75  # EX_TEMPFAIL: try again later


def require_known(what: str, names: Iterable[str], known: Iterable[str]) -> None:
    """UserInputError naming the first of `names` not in `known`, e.g. "dance style 'x' is not one of a, b"."""
    choices = list(known)
    for name in names:
        if name not in choices:
            raise UserInputError(f"{what} {name!r} is not one of {', '.join(choices)}")
