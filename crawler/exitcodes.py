"""The CLI's exit codes, documented in `citearchive archive --help` and the README."""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_POST_FAILED = 3
EXIT_INCOMPLETE = 4
