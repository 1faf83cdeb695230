"""The CLI's exit codes, documented in `citearchive archive --help` and the README."""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_POST_FAILED = 3
EXIT_INCOMPLETE = 4
EXIT_NEW_FINDINGS = 5  # `report`: new link rot or content drift since the previous run
EXIT_LOCKED = 6  # another run holds the collection's lock
