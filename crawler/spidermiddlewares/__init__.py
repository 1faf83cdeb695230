"""Spider middlewares of the citearchive project."""
