"""The one exception type for a user's mistake.

Every reader and validator raises :class:`InputError` with a message that names the file,
row or column and says what to do; the CLI prints it as one line and exits with status 2.
"""


class InputError(ValueError):
    """Bad input from the user: a file, an option or a value the tool cannot use as given."""


#: The exit status of a run stopped by Ctrl-C (128 + SIGINT), as a shell reports it.
EXIT_INTERRUPTED = 130
