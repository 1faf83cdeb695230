"""Browser mode (`--render`): cited pages rendered in headless Chromium behind a recording proxy."""
