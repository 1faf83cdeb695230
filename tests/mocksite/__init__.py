"""A mock blog and the sites it cites, served on 127.0.0.1 by ``python -m tests.mocksite``."""
