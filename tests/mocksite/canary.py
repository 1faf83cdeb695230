"""Replay-isolation pages for the sites server: a canary that probes the landing origin, and a gzip bomb."""

from __future__ import annotations

import json
import re
import zlib
from functools import lru_cache
from urllib.parse import parse_qs

from tests.mocksite.content import HTML, MockResponse, html_page

CANARY_PATH = "/canary/isolation.html"
BOMB_PATH = "/canary/bomb.html"
#: What /canary/bomb.html inflates to: one run of "A" with no line break (pywb's HTML rewriter reads to the next one).
BOMB_DECODED_SIZE = 128 * 1024 * 1024
_LANDING = re.compile(r"^http://127\.0\.0\.1:[0-9]{1,5}$")

# Obfuscated names (window['fe'+'tch'], window['to'+'p']) are not rewritten by pywb's JS rewriter:
# they reach the browser's own objects, so only the origin boundary, CSP and sandbox stop them.
_SCRIPT = """
(function () {
  var landing = %(landing)s;
  var report = {};
  function show() { document.getElementById('report').textContent = JSON.stringify(report); }
  document.getElementById('control').textContent = 'canary script ran';
  report.cookie = String(document.cookie);
  report.opener = window.opener === null ? 'null' : typeof window.opener;
  try {
    if (window.opener) { window.opener.location = landing + '/?canary=opener'; report.openerNavigated = true; }
  } catch (e) { report.openerError = String(e.name); }
  try {
    window['fe' + 'tch'](landing + '/api/collections', {credentials: 'include'})
      .then(function (r) { return r.text(); })
      .then(function (t) { report.fetch = t.indexOf('"collections"') >= 0 ? 'read the landing API' : 'read elsewhere'; show(); },
            function (e) { report.fetch = 'error ' + e.name; show(); });
  } catch (e) { report.fetch = 'threw ' + e.name; }
  try { navigator['send' + 'Beacon'](landing + '/api/collections?beacon=1', 'x'); } catch (e) {}
  var image = document.createElement('img');
  image['s' + 'rc'] = landing + '/api/collections?img=1';
  document.body.appendChild(image);
  setTimeout(function () { report.done = true; show(); }, 400);
  // Last, as it ends the page if it works at all: send the top window to the landing origin.
  setTimeout(function () { window['to' + 'p'].location.href = landing + '/?canary=top'; }, 1500);
  show();
})();
"""


def canary_page(landing: str) -> bytes:
    script = _SCRIPT % {"landing": json.dumps(landing)}
    body = (
        '<h1>Isolation canary</h1>\n<p id="control">canary script did not run</p>\n'
        f'<pre id="report">{{}}</pre>\n<script>{script}</script>'
    )
    return html_page("Isolation canary", body)


@lru_cache(maxsize=1)
def bomb_body() -> bytes:
    """BOMB_DECODED_SIZE bytes of "A" as a gzip stream (about 130 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    block = b"<html><body>" + b"A" * (1024 * 1024 - 12)
    parts = [compressor.compress(block)]
    filler = b"A" * (1024 * 1024)
    parts.extend(compressor.compress(filler) for _ in range(BOMB_DECODED_SIZE // len(filler) - 1))
    parts.append(compressor.flush())
    return b"".join(parts)


def site_response(path: str, query: str) -> MockResponse | None:
    """The canary routes of the sites server, or None for any other path."""
    if path == CANARY_PATH:
        landing = parse_qs(query).get("landing", ["http://127.0.0.1:9"])[0]
        if not _LANDING.match(landing):
            return MockResponse(400, (("Content-Type", "text/plain"),), b"bad landing origin\n")
        return MockResponse(200, (("Content-Type", HTML),), canary_page(landing))
    if path == BOMB_PATH:
        headers = (("Content-Type", HTML), ("Content-Encoding", "gzip"))
        return MockResponse(200, headers, bomb_body())
    return None
