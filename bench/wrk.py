"""Drive wrk (Debian's, written in C: far lighter than the server it loads) and read its report."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass

_SINGLE = """
local n = 0
local threads = 0
setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
request = function()
  n = n + 1
  local to = string.format("+1202%%d%%06d", 2 + tid, n %% 1000000)
  local body = '{"to":"' .. to .. '","from":"LynSMS","body":"Your verification code is 482194"}'
  return wrk.format("POST", "%(path)s", {["Content-Type"]="application/json",
                    ["Authorization"]="Bearer %(key)s"}, body)
end
"""

_FIXED = """
wrk.method = "POST"
wrk.path = "%(path)s"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.body = [==[%(body)s]==]
"""

_LINES = """
local lines = {}
local n = 0
local threads = 0
setup = function(thread) thread:set("tid", threads); threads = threads + 1 end
init = function(args)
  for line in io.lines("%(file)s") do lines[#lines + 1] = line end
end
request = function()
  local line = lines[(n * %(threads)d + tid) %% #lines + 1]
  n = n + 1
  local tab = string.find(line, "\t", 1, true)
  return wrk.format("POST", "%(path)s", {["Content-Type"]="%(content_type)s",
                    ["%(header)s"]=string.sub(line, 1, tab - 1)}, string.sub(line, tab + 1))
end
"""

_STATUS = """
statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def run_wrk(
    url: str,
    path: str,
    key: str,
    *,
    connections: int,
    seconds: int,
    threads: int = 2,
    body: str | None = None,
) -> WrkResult:
    template = _FIXED if body is not None else _SINGLE
    script = template % {"path": path, "key": key, "body": body or ""}
    return _run(url, script, connections, seconds, threads)


def run_wrk_lines(
    url: str,
    path: str,
    lines: str,
    *,
    header: str,
    content_type: str,
    connections: int,
    seconds: int,
    threads: int = 2,
) -> WrkResult:
    """POST the requests of the file ``lines``, one a line: ``<header value>\t<body>``; the
    threads take the lines in turn (each line once before any repeats)."""
    script = _LINES % {
        "file": lines,
        "threads": threads,
        "path": path,
        "header": header,
        "content_type": content_type,
    }
    return _run(url, script, connections, seconds, threads)


def _run(url: str, script: str, connections: int, seconds: int, threads: int) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            handle.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _parse(out)


def _parse(out: str) -> WrkResult:
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    duration = re.search(r"requests in ([\d.]+)(m?s|m)\b", out)
    seconds = _seconds(duration.group(1), duration.group(2)) if duration else 0.0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=requests,
        seconds=seconds,
        rps=rps,
        p50_ms=_latency(out, "50%"),
        p99_ms=_latency(out, "99%"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def _seconds(value: str, unit: str) -> float:
    return float(value) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def _latency(out: str, percentile: str) -> float:
    match = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not match:
        return 0.0
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
