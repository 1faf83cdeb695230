"""Replay: pywb embedded for the archive origin, and citearchive's own landing app on another origin."""
