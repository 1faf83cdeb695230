"""archive/ knows no crawler: importing all of it pulls in neither Scrapy, Twisted nor pywb."""

from __future__ import annotations

import subprocess
import sys


def test_archive_imports_no_crawler_stack() -> None:
    code = (
        "import sys, archive.writer, archive.cdxj, archive.manifest, archive.wireform\n"
        "banned = {'scrapy', 'twisted', 'pywb', 'crawler'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in banned)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
