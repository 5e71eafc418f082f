"""Load generators for the HTTP benchmark, each run in its own process and bounded.

Every run stops at whichever comes first, a request count or a duration, and talks only to
``127.0.0.1``:

* :func:`run_wrk`: ``wrk`` (best: C, keep-alive, one thread) with a Lua script that rotates
  through a list of paths and stops a thread at its share of the request count;
* ``python -m benchmarks.http_load json``: the fallback when ``wrk`` is missing, an asyncio
  HTTP/1.1 keep-alive client over raw streams (uvloop when installed; an HTTP library would
  measure itself rather than the server);
* ``python -m benchmarks.http_load download``: sequential downloads (whole file or ``Range``)
  on one keep-alive connection into a reused buffer, optionally hashing what arrives;
* ``python -m benchmarks.http_load upload``: one multipart upload whose file part is made by
  a generator as it is sent, never held whole by either side.

Each prints one JSON object on standard output; the parent reads it with :func:`run_client`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LoadResult", "mp4_head", "run_client", "run_python_load", "run_wrk", "wrk_path"]

HOST = "127.0.0.1"
MIB = 1024 * 1024
_HEAD_END = b"\r\n\r\n"
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class LoadResult:
    """One bounded load run against one server.

    Attributes:
        requests: Responses received.
        seconds: Wall time of the run.
        errors: Responses that were not 200, plus socket errors.
        p50_ms: Median latency, when the client measured it.
        capped: Whether the run stopped at its request count rather than its duration.
    """

    requests: int
    seconds: float
    errors: int
    p50_ms: float | None
    capped: bool = False

    @property
    def per_second(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def mp4_head(size: int) -> bytes:
    """The first bytes of a ``size``-byte MP4: a real short clip, then the header of a
    ``free`` box that covers the rest of the file (random bytes follow).

    The upload pipeline probes videos with PyAV, so the file must really play; a ``free``
    box is how MP4 files carry padding.
    """
    from pinsphere.testing.media import mp4_bytes

    clip = mp4_bytes()
    padding = size - len(clip)
    if padding < 8 or padding >= 2**32:
        raise ValueError(f"the MP4 must be between {len(clip) + 8} bytes and 4 GiB")
    return clip + padding.to_bytes(4, "big") + b"free"


# -- wrk ---------------------------------------------------------------------------------------

_WRK_SCRIPT = """
local paths = {%(paths)s}
local limit = %(limit)d
local sent = 0
local received = 0
wrk.headers["Authorization"] = %(authorization)s

request = function()
  sent = sent + 1
  return wrk.format("GET", paths[(sent %% #paths) + 1])
end

response = function(status, headers, body)
  received = received + 1
  if received >= limit then
    wrk.thread:stop()
  end
end
"""


def wrk_path() -> str | None:
    """The ``wrk`` executable, if installed."""
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk_seconds(text: str) -> float:
    number = float(re.match(r"[\d.]+", text).group())  # type: ignore[union-attr]
    if text.endswith("ms"):
        return number / 1000
    if text.endswith("us"):
        return number / 1e6
    if text.endswith("m"):
        return number * 60
    return number


def run_wrk(
    port: int,
    paths: Sequence[str],
    *,
    token: str | None,
    connections: int,
    duration: float,
    max_requests: int,
) -> LoadResult:
    """One ``wrk`` run of at most ``duration`` seconds and ``max_requests`` responses.

    Raises:
        RuntimeError: ``wrk`` failed or printed nothing it could be read from.
    """
    executable = wrk_path()
    if executable is None:
        raise RuntimeError("wrk is not installed")
    threads = 1
    script = _WRK_SCRIPT % {
        "paths": ", ".join(_lua_string(path) for path in paths),
        "limit": max(1, max_requests // threads),
        "authorization": _lua_string(f"Bearer {token}" if token else ""),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = Path(handle.name)
    try:
        seconds = max(1, round(duration))
        completed = subprocess.run(
            [
                executable,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "--latency",
                "-s",
                str(script_path),
                f"http://{HOST}:{port}{paths[0]}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=False,
        )
    finally:
        script_path.unlink(missing_ok=True)
    out = completed.stdout
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", out)
    if completed.returncode != 0 or done is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {out}{completed.stderr}")
    requests = int(done.group(1))
    elapsed = _wrk_seconds(done.group(2))
    errors = 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        errors += int(bad.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if sockets:
        errors += sum(int(value) for value in sockets.groups())
    median = re.search(r"^\s*50%\s+([\d.]+\w+)", out, re.MULTILINE)
    p50 = _wrk_seconds(median.group(1)) * 1000 if median else None
    # wrk's clock runs for the whole duration even when every thread stopped at its count, so
    # a capped run's rate would be understated; the caller reports it.
    return LoadResult(requests, elapsed, errors, p50, capped=requests >= max_requests)


# -- the Python clients ------------------------------------------------------------------------


def run_client(arguments: Sequence[str], *, timeout: float) -> dict[str, Any]:
    """Run ``python -m benchmarks.http_load ARGUMENTS`` and return the JSON it prints.

    Raises:
        RuntimeError: The client failed or timed out.
    """
    root = Path(__file__).resolve().parent.parent
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.http_load", *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=root,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"the load client ran over {timeout:.0f} s") from exc
    if completed.returncode != 0:
        raise RuntimeError(f"the load client failed: {completed.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run_python_load(
    port: int,
    paths: Sequence[str],
    *,
    token: str | None,
    connections: int,
    duration: float,
    max_requests: int,
) -> LoadResult:
    """The fallback of :func:`run_wrk`: the asyncio client in a separate process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(list(paths), handle)
        paths_file = Path(handle.name)
    try:
        result = run_client(
            [
                "json",
                f"--port={port}",
                f"--paths={paths_file}",
                f"--token={token or ''}",
                f"--connections={connections}",
                f"--duration={duration}",
                f"--max-requests={max_requests}",
            ],
            timeout=duration + 30,
        )
    finally:
        paths_file.unlink(missing_ok=True)
    return LoadResult(
        result["requests"],
        result["seconds"],
        result["errors"],
        result["p50_ms"],
        capped=result["requests"] >= max_requests,
    )


def _request(path: str, token: str | None, extra: Sequence[str] = ()) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_and_length(head: bytes) -> tuple[int, int]:
    status = int(head[9:12])
    match = _LENGTH.search(head)
    if match is None:
        raise RuntimeError("a response without Content-Length")
    return status, int(match.group(1))


async def _json_load(args: argparse.Namespace) -> dict[str, Any]:
    paths = json.loads(Path(args.paths).read_text())
    requests = [_request(path, args.token) for path in paths]
    deadline = time.perf_counter() + args.duration
    state = {"issued": 0, "done": 0, "errors": 0}
    latencies: list[float] = []

    async def connection(offset: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, args.port)
        index = offset
        try:
            while time.perf_counter() < deadline and state["issued"] < args.max_requests:
                state["issued"] += 1
                index += 1
                started = time.perf_counter()
                writer.write(requests[index % len(requests)])
                head = await reader.readuntil(_HEAD_END)
                status, length = _status_and_length(head)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                state["done"] += 1
                if status != 200:
                    state["errors"] += 1
        except (OSError, asyncio.IncompleteReadError):
            state["errors"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(n * 7) for n in range(args.connections)))
    elapsed = time.perf_counter() - started
    return {
        "requests": state["done"],
        "seconds": elapsed,
        "errors": state["errors"],
        "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
    }


class _Connection:
    """A blocking keep-alive connection reading bodies into one reused buffer."""

    def __init__(self, port: int, buffer_size: int = MIB) -> None:
        self.socket = socket.create_connection((HOST, port), timeout=60)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray(buffer_size)
        self.view = memoryview(self.buffer)

    def head(self) -> tuple[bytes, bytes]:
        """The response head and the body bytes that arrived with it."""
        data = b""
        while _HEAD_END not in data:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise RuntimeError("the server closed the connection")
            data += chunk
        head, _, rest = data.partition(_HEAD_END)
        return head + _HEAD_END, rest

    def body(self, length: int, early: bytes, digest: Any | None) -> None:
        """Read the rest of a ``length``-byte body, hashing it when ``digest`` is given."""
        if digest is not None:
            digest.update(early)
        remaining = length - len(early)
        while remaining > 0:
            received = self.socket.recv_into(self.view, min(len(self.buffer), remaining))
            if not received:
                raise RuntimeError("the body ended early")
            if digest is not None:
                digest.update(self.view[:received])
            remaining -= received

    def close(self) -> None:
        """Close the socket."""
        self.socket.close()


def _download(args: argparse.Namespace) -> dict[str, Any]:
    ranges = [tuple(int(n) for n in text.split("-")) for text in args.range or ()]
    connection = _Connection(args.port)
    deadline = time.perf_counter() + args.duration
    received = requests = errors = 0
    digests: list[str] = []
    started = time.perf_counter()
    try:
        while requests < args.requests and time.perf_counter() < deadline:
            extra = []
            expected = 200
            if ranges:
                first, last = ranges[requests % len(ranges)]
                extra.append(f"Range: bytes={first}-{last}")
                expected = 206
            connection.socket.sendall(_request(args.path, args.token, extra))
            head, early = connection.head()
            status, length = _status_and_length(head)
            digest = hashlib.sha256() if args.sha256 else None
            connection.body(length, early, digest)
            requests += 1
            received += length
            if status != expected:
                errors += 1
            if digest is not None:
                digests.append(digest.hexdigest())
    finally:
        connection.close()
    return {
        "requests": requests,
        "bytes": received,
        "seconds": time.perf_counter() - started,
        "errors": errors,
        "sha256": digests,
    }


def _file_part(size: int, seed: int, chunk: int) -> Iterator[bytes]:
    """The bytes of a ``size``-byte MP4 with a random ``mdat``, made chunk by chunk."""
    rng = random.Random(seed)
    head = mp4_head(size)
    yield head
    remaining = size - len(head)
    while remaining > 0:
        step = min(chunk, remaining)
        remaining -= step
        yield rng.randbytes(step)


def _upload(args: argparse.Namespace) -> dict[str, Any]:
    boundary = f"pinsphere-bench-{args.seed}"
    fields = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("title", args.title), ("visibility", "private"))
    )
    before = (
        fields + f'--{boundary}\r\nContent-Disposition: form-data; name="file";'
        f' filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    after = f"\r\n--{boundary}--\r\n".encode()
    head = "\r\n".join(
        [
            "POST /api/v1/pins HTTP/1.1",
            f"Host: {HOST}",
            f"Authorization: Bearer {args.token}",
            f"Content-Type: multipart/form-data; boundary={boundary}",
            f"Content-Length: {len(before) + args.size + len(after)}",
        ]
    )
    connection = _Connection(args.port)
    digest = hashlib.sha256()
    started = time.perf_counter()
    try:
        connection.socket.sendall(head.encode() + b"\r\n\r\n" + before)
        for chunk in _file_part(args.size, args.seed, MIB):
            digest.update(chunk)
            connection.socket.sendall(chunk)
        connection.socket.sendall(after)
        response_head, early = connection.head()
        status, length = _status_and_length(response_head)
        body = early
        while len(body) < length:
            more = connection.socket.recv(65536)
            if not more:
                raise RuntimeError("the response ended early")
            body += more
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    answer = json.loads(body) if body else {}
    return {
        "status": status,
        "seconds": elapsed,
        "pin": answer.get("id"),
        "sha256_ok": answer.get("media", {}).get("sha256") == digest.hexdigest(),
        "answer": answer if status != 201 else None,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_load")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("json", help="concurrent keep-alive GETs")
    load.add_argument("--paths", required=True, help="a JSON file listing the paths")
    load.add_argument("--connections", type=int, default=32)
    load.add_argument("--max-requests", type=int, default=100_000)
    download = commands.add_parser("download", help="sequential downloads")
    download.add_argument("--path", required=True)
    download.add_argument("--requests", type=int, default=1)
    download.add_argument("--range", action="append", help="FIRST-LAST, repeatable")
    download.add_argument("--sha256", action="store_true", help="hash each body")
    upload = commands.add_parser("upload", help="one streamed multipart upload")
    upload.add_argument("--size", type=int, required=True)
    upload.add_argument("--seed", type=int, default=0)
    upload.add_argument("--title", default="bench upload")
    for command in (load, download, upload):
        command.add_argument("--port", type=int, required=True)
        command.add_argument("--token", default="")
        command.add_argument("--duration", type=float, default=60.0, help="seconds at most")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run one client and print its result as one line of JSON."""
    args = _parser().parse_args(argv)
    if args.command == "json":
        try:
            import uvloop

            result = uvloop.run(_json_load(args))
        except ImportError:
            result = asyncio.run(_json_load(args))
    elif args.command == "download":
        result = _download(args)
    else:
        result = _upload(args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
