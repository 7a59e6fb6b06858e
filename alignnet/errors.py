"""Errors shared by every stage."""


class UserInputError(Exception):
    """A bad input, named in the message (a file, a URL, a config key).

    Raised for problems the user can fix; the CLI prints the message without
    a traceback and exits with `exit_code`.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
