"""The one headless Chromium of a render phase: its flags, and the reaper that leaves no process behind."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["browser_env", "chromium_args", "chromium_binary", "find_processes", "reap"]

# Off the network except through the proxy: no background fetches, updates, sync or
# first-run pings, no QUIC (UDP would bypass an HTTP proxy), no crash uploads.
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--no-pings",
    "--metrics-recording-only",
)


# Debian's /usr/bin/chromium is a shell wrapper that adds the flags of /etc/chromium.d/*,
# among them --enable-remote-extensions and --load-extension: extension update checks
# (update.googleapis.com) that would go through the recording proxy. The binary it
# runs is the same package's browser, started with only the flags given here.
_DEBIAN_WRAPPER = Path("/usr/bin/chromium")
_DEBIAN_BINARY = Path("/usr/lib/chromium/chromium")


def chromium_binary(path: str) -> str:
    """The executable to start for ``path``: Debian's wrapper is replaced by the browser it wraps."""
    if Path(path) == _DEBIAN_WRAPPER and _DEBIAN_BINARY.exists():
        return str(_DEBIAN_BINARY)
    return path


def chromium_args(proxy_port: int, trusted_spki: str | None = None) -> list[str]:
    """Chromium's command-line flags; ``<-loopback>`` sends loopback URLs through the proxy too.

    ``trusted_spki`` (base64 SHA-256 of a SubjectPublicKeyInfo) is the render
    proxy's CA: certificates chaining to it are accepted, and no others whose
    errors would otherwise stop the page. Chromium honours the flag only with
    a ``--user-data-dir``, which playwright's persistent context gives.
    """
    args = [*_FLAGS, f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>"]
    if trusted_spki is not None:
        args.append(f"--ignore-certificate-errors-spki-list={trusted_spki}")
    return args


def browser_env(profile: Path) -> dict[str, str | float | bool]:
    """The browser's environment: its config and cache (crash reports included) inside ``profile``.

    Chromium's crash handler otherwise writes under ``~/.config/chromium``;
    with XDG_CONFIG_HOME inside the profile, every process Chromium starts
    names the unique profile directory on its command line, which is how
    :func:`reap` finds them.
    """
    env: dict[str, str | float | bool] = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(profile / "xdg-config")
    env["XDG_CACHE_HOME"] = str(profile / "xdg-cache")
    return env


def find_processes(marker: str) -> list[int]:
    """PIDs of live processes whose command line contains ``marker`` (Linux /proc)."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def reap(marker: str) -> int:
    """Kill every process left whose command line names ``marker``, with its process group.

    The browser leads a process group of its own (playwright starts it in a
    new session), so killing that group takes its zygotes, renderers and
    utility processes too. Returns how many processes were still alive.
    """
    left = find_processes(marker)
    for pid in left:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        except PermissionError:
            logger.warning("Cannot stop Chromium process %(pid)d: permission denied", {"pid": pid})
    if left:
        logger.warning("Killed %(n)d Chromium process(es) left after rendering", {"n": len(left)})
    return len(left)
