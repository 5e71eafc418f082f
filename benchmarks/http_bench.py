"""The REST service against a bare FastAPI service on the same data, through real servers.

One run measures, side by side and interleaved round by round:

* requests per second for one pin's JSON (``GET /api/v1/pins/{id}``) and for a tag search
  (``GET /api/v1/pins?q=tag:x&limit=20``), signed in as a member with a JWT from
  ``/api/v1/auth/token``, against the bare app of :mod:`benchmarks.http_apps` (raw
  ``sqlite3``, same JSON), with 1 and 2 uvicorn workers (target: ratio >= 0.7);
* download throughput of a large MP4 through ``GET /api/v1/pins/{id}/media``, whole and in
  ``Range`` pieces, against a Starlette ``FileResponse`` of the same blob file with the same
  chunk size (target: ratio >= 0.8);
* the server's peak memory while a 1 GB file is uploaded (multipart, generated as it is
  sent) and downloaded again: ``VmHWM`` from ``/proc/<pid>/status``, reset through
  ``clear_refs`` before each transfer, against ``VmRSS`` before it (target: grows < 64 MB).

Both servers are ``python -m benchmarks.http_apps`` processes started with ``pinsphere
serve``'s uvicorn settings on 127.0.0.1; the load comes from ``wrk`` when installed, else
from the Python client of :mod:`benchmarks.http_load`, always in another process and bounded
by a request count and a duration. The store is an embedded SQLite file with ``--pins``
generated pins bulk-loaded through ``insert_pins`` and ``file://`` blobs, in a temporary
folder removed afterwards.

``python -m benchmarks.http_bench`` runs it alone; ``python -m benchmarks --only http`` runs
it from the suite (options prefixed ``--http-``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import httpx

from benchmarks import http_apps
from benchmarks.http_load import (
    HOST,
    LoadResult,
    mp4_head,
    run_client,
    run_python_load,
    run_wrk,
    wrk_path,
)
from benchmarks.report import Report, _table

__all__ = [
    "HttpOptions",
    "HttpRow",
    "add_arguments",
    "build_parser",
    "main",
    "options_from",
    "print_rows",
    "run_http",
]

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
MEMBER = "bench"
PASSWORD = "bench-password-" + "x" * 8
JSON_TARGET = 0.7
DOWNLOAD_TARGET = 0.8
RSS_TARGET_MB = 64.0
SERVER_START_SECONDS = 60.0


@dataclass
class HttpOptions:
    """What the HTTP benchmark runs, and how big.

    Attributes:
        pins: Pins in the store.
        seed: Data generator seed.
        file_mib: Size of the downloaded video.
        range_mib: Size of each ``Range`` request.
        big_mib: Size of the file uploaded and downloaded for the memory check.
        connections: Concurrent keep-alive connections of the JSON load.
        duration: Seconds per timed JSON run (at most).
        max_requests: Requests per timed JSON run (at most).
        rounds: Timed runs per side, interleaved; the median is reported.
        downloads: Whole-file downloads per round (at most).
        workers: uvicorn worker counts to run the JSON questions with.
        client: ``auto`` (wrk when installed), ``wrk`` or ``python``.
        work_dir: Where the temporary store folder goes (default: the system's).
        keep: Keep the store folder and the server logs.
        quiet: Print only the table.
    """

    pins: int = 10_000
    seed: int = 42
    file_mib: float = 256
    range_mib: float = 16
    big_mib: float = 1024
    connections: int = 32
    duration: float = 3.0
    max_requests: int = 500_000
    rounds: int = 3
    downloads: int = 3
    workers: tuple[int, ...] = (1, 2)
    client: str = "auto"
    work_dir: Path | None = None
    keep: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class HttpRow:
    """One line of the table.

    Attributes:
        question: What was measured.
        pinsphere: Pinsphere's figure, as shown.
        bare: The bare service's figure, as shown (``-`` when there is none).
        ratio: Pinsphere over bare (higher is better), when there is a bare side.
        target: The target, as shown.
        met: Whether the target was met.
    """

    question: str
    pinsphere: str
    bare: str
    ratio: float | None
    target: str
    met: bool


def print_rows(rows: Sequence[HttpRow], notes: Sequence[str], out: TextIO = sys.stdout) -> None:
    """Print the table in the style of :class:`benchmarks.report.Report`."""
    print("\nHTTP (ratio = pinsphere / bare, higher is better)\n", file=out)
    if not rows:
        print("(nothing measured)", file=out)
    else:
        _table(
            ["question", "pinsphere", "bare", "ratio", "target", ""],
            [
                [
                    row.question,
                    row.pinsphere,
                    row.bare,
                    "-" if row.ratio is None else f"{row.ratio:.2f}",
                    row.target,
                    "ok" if row.met else "MISSED",
                ]
                for row in rows
            ],
            out,
        )
    for note in notes:
        print(f"note: {note}", file=out)
    out.flush()


# -- data --------------------------------------------------------------------------------------


@dataclass
class _Data:
    database: Path
    blobs_url: str
    member_id: str
    pin_paths: list[str]
    tag_queries: list[str]
    video_id: str
    video_path: Path
    video_size: int
    video_sha256: str


def _write_video(path: Path, size: int) -> None:
    head = mp4_head(size)
    with open(path, "wb") as out:
        out.write(head)
        remaining = size - len(head)
        while remaining > 0:
            step = min(4 * MIB, remaining)
            out.write(os.urandom(step))
            remaining -= step


def _prepare(options: HttpOptions, work: Path, upload_limit: int) -> _Data:
    import pinsphere
    from benchmarks.datagen import make_vocabulary
    from benchmarks.targets import fill, store_loader
    from pinsphere.ids import encode_id
    from pinsphere.settings import PasswordHashing, StoreSettings

    database = work / "pinsphere.db"
    blobs = work / "blobs"
    blobs_url = blobs.as_uri()
    vocabulary = make_vocabulary(options.seed)
    settings = StoreSettings(
        max_upload_bytes=upload_limit,
        # The member signs in once per server; the hash's own parameters decide its cost.
        password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=8, parallelism=1),
    )
    store = pinsphere.open(metadata=f"sqlite:///{database}", blobs=blobs_url, settings=settings)
    try:
        fill([store_loader("pinsphere", store)], options.pins, options.seed, vocabulary, quiet=True)
        member = store.users.set_password(store.users.find(MEMBER), PASSWORD)
        source = work / "video.mp4"
        _write_video(source, int(options.file_mib * MIB))
        pin = store.as_user(member).upload(
            source, title="bench video", tags=["bench/video"], visibility="private"
        )
        source.unlink()
        video_path = Path(store.blobs.root) / store.layout.key(pin.media.sha256)
        if not video_path.is_file():
            raise RuntimeError(f"the video's blob is not at {video_path}")
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(database)) as connection:
        visible = [
            row[0]
            for row in connection.execute(
                "SELECT id FROM pins WHERE visibility IN ('public', 'internal') OR owner_id = ?"
                " ORDER BY id",
                (member.id,),
            )
        ]
    step = max(1, len(visible) // 200)
    pin_paths = [f"/api/v1/pins/{encode_id(key)}" for key in visible[::step][:200]]
    tag_queries = [quote(f"tag:{tag}", safe="") for tag in vocabulary.tags[:8]]
    return _Data(
        database=database,
        blobs_url=blobs_url,
        member_id=member.id,
        pin_paths=pin_paths,
        tag_queries=tag_queries,
        video_id=pin.id,
        video_path=video_path,
        video_size=pin.media.size,
        video_sha256=pin.media.sha256,
    )


# -- servers -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class _Server:
    """A ``python -m benchmarks.http_apps`` process group, stopped on exit."""

    def __init__(self, app: str, workers: int, environment: dict[str, str], logs: Path) -> None:
        self.app = app
        self.workers = workers
        self.environment = environment
        self.log_path = logs / f"server-{app}-{workers}w.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id (the serving process itself when there is one worker)."""
        assert self.process is not None
        return self.process.pid

    def url(self, path: str) -> str:
        """The URL of a path on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def __enter__(self) -> _Server:
        self.port = _free_port()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.http_apps",
                    f"--app={self.app}",
                    f"--port={self.port}",
                    f"--workers={self.workers}",
                ],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.app} server exited: {self._log_tail()}")
            try:
                if httpx.get(self.url("/healthz"), timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the {self.app} server did not start: {self._log_tail()}")
            time.sleep(0.1)
        if self.workers > 1:
            time.sleep(1.0)  # let the other workers finish starting too
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"


def _environment(data: _Data, work: Path, upload_limit: int) -> dict[str, str]:
    environment = dict(os.environ)
    database_url = f"sqlite:///{data.database}"
    (work / "tmp").mkdir(exist_ok=True)
    environment.update(
        {
            "PINSPHERE_METADATA_URL": database_url,
            "PINSPHERE_USERS_URL": database_url,
            "PINSPHERE_BLOBS_URL": data.blobs_url,
            "PINSPHERE_SECRET_KEY": secrets.token_urlsafe(48),
            "PINSPHERE_MAX_UPLOAD_BYTES": str(upload_limit),
            http_apps.ENV_STORE_LIMIT: str(upload_limit),
            http_apps.ENV_DATABASE: str(data.database),
            http_apps.ENV_MEMBER_ID: data.member_id,
            http_apps.ENV_FILE: str(data.video_path),
            # The upload's spooled file goes here, so the folder's removal takes it too.
            "TMPDIR": str(work / "tmp"),
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])]
            ),
        }
    )
    return environment


def _sign_in(server: _Server) -> str:
    answer = httpx.post(
        server.url("/api/v1/auth/token"),
        data={"username": MEMBER, "password": PASSWORD},
        timeout=30,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text}")
    token: str = answer.json()["access_token"]
    return token


# -- measurements ------------------------------------------------------------------------------


@dataclass
class _Sides:
    ours: _Server
    bare: _Server
    token: str
    say: Callable[[str], None]
    rows: list[HttpRow] = field(default_factory=list)


def _same_answers(sides: _Sides, ours: Sequence[str], theirs: Sequence[str]) -> None:
    """Both services give the same JSON for the same questions (before anything is timed)."""
    headers = {"Authorization": f"Bearer {sides.token}"}
    for our_path, bare_path in zip(ours, theirs, strict=True):
        mine = httpx.get(sides.ours.url(our_path), headers=headers, timeout=30)
        bare = httpx.get(sides.bare.url(bare_path), timeout=30)
        if mine.status_code != 200 or bare.status_code != 200:
            raise RuntimeError(
                f"{our_path}: pinsphere {mine.status_code}, bare {bare.status_code}: {mine.text}"
            )
        left, right = mine.json(), bare.json()
        if isinstance(left, dict) and "items" in left:
            if not left["items"] or bool(left["next_cursor"]) != bool(right["next_cursor"]):
                raise RuntimeError(f"{our_path}: empty page or cursors differ")
            left, right = left["items"], right["items"]
        if left != right:
            raise RuntimeError(f"{our_path}: pinsphere and bare answers differ")


def _load(
    options: HttpOptions, server: _Server, paths: Sequence[str], token: str | None, seconds: float
) -> LoadResult:
    use_wrk = options.client == "wrk" or (options.client == "auto" and wrk_path() is not None)
    run = run_wrk if use_wrk else run_python_load
    return run(
        server.port,
        paths,
        token=token,
        connections=options.connections,
        duration=seconds,
        max_requests=options.max_requests,
    )


def _rate(results: Sequence[LoadResult]) -> tuple[float, str]:
    rate = statistics.median(result.per_second for result in results)
    latencies = [result.p50_ms for result in results if result.p50_ms is not None]
    latency = f" (p50 {statistics.median(latencies):.1f} ms)" if latencies else ""
    return rate, f"{rate:,.0f} req/s{latency}"


def _compare_json(
    options: HttpOptions,
    sides: _Sides,
    question: str,
    ours: Sequence[str],
    theirs: Sequence[str],
    report: Report,
) -> None:
    _same_answers(sides, ours[:5], theirs[:5])
    warmup = min(1.0, options.duration)
    _load(options, sides.ours, ours, sides.token, warmup)
    _load(options, sides.bare, theirs, None, warmup)
    mine: list[LoadResult] = []
    bare: list[LoadResult] = []
    for round_ in range(options.rounds):
        runs = [(sides.ours, ours, sides.token, mine), (sides.bare, theirs, None, bare)]
        for server, paths, token, results in runs if round_ % 2 == 0 else runs[::-1]:
            result = _load(options, server, paths, token, options.duration)
            if result.errors:
                report.error(f"http {question}: {result.errors} failed requests ({server.app})")
            if result.capped:
                report.notes.append(
                    f"http {question} ({server.app}) stopped at --http-max-requests;"
                    " its rate is understated"
                )
            results.append(result)
    our_rate, our_text = _rate(mine)
    bare_rate, bare_text = _rate(bare)
    ratio = our_rate / bare_rate if bare_rate else 0.0
    sides.say(f"   {question}: {our_text} vs {bare_text}: {ratio:.2f}")
    sides.rows.append(
        HttpRow(question, our_text, bare_text, ratio, f">= {JSON_TARGET}", ratio >= JSON_TARGET)
    )


def _download(
    server: _Server,
    path: str,
    token: str | None,
    *,
    requests: int,
    ranges: Sequence[tuple[int, int]] = (),
    sha256: bool = False,
    timeout: float = 300,
) -> dict[str, Any]:
    arguments = [
        "download",
        f"--port={server.port}",
        f"--path={path}",
        f"--token={token or ''}",
        f"--requests={requests}",
        f"--duration={timeout}",
        *(f"--range={first}-{last}" for first, last in ranges),
    ]
    if sha256:
        arguments.append("--sha256")
    result = run_client(arguments, timeout=timeout + 30)
    if result["errors"] or not result["requests"]:
        raise RuntimeError(f"{server.app} {path}: {result['errors']} failed downloads")
    return result


def _ranges(data: _Data, options: HttpOptions, count: int) -> list[tuple[int, int]]:
    length = max(1, min(int(options.range_mib * MIB), data.video_size))
    step = max(1, (data.video_size - length) // max(1, count))
    return [(n * step, n * step + length - 1) for n in range(count)]


def _compare_downloads(options: HttpOptions, sides: _Sides, data: _Data, report: Report) -> None:
    ours = f"/api/v1/pins/{data.video_id}/media"
    # Correctness first: the whole file and one range, hashed, from both.
    probe = _ranges(data, options, 3)[1]
    with open(data.video_path, "rb") as blob:
        blob.seek(probe[0])
        expected_range = hashlib.sha256(blob.read(probe[1] - probe[0] + 1)).hexdigest()
    for server, path, token in ((sides.ours, ours, sides.token), (sides.bare, "/file", None)):
        whole = _download(server, path, token, requests=1, sha256=True)
        piece = _download(server, path, token, requests=1, ranges=[probe], sha256=True)
        if whole["sha256"] != [data.video_sha256] or piece["sha256"] != [expected_range]:
            raise RuntimeError(f"{server.app} served different bytes for {path}")
    size_mib = data.video_size / MIB
    range_count = 8
    for question, ranges, requests in (
        (f"download {size_mib:.0f} MiB video", (), options.downloads),
        (
            f"download {options.range_mib:g} MiB ranges",
            _ranges(data, options, range_count),
            range_count,
        ),
    ):
        speeds: dict[str, list[float]] = {"pinsphere": [], "bare": []}
        runs = [(sides.ours, ours, sides.token), (sides.bare, "/file", None)]
        _download(sides.ours, ours, sides.token, requests=1, ranges=ranges[:1])
        _download(sides.bare, "/file", None, requests=1, ranges=ranges[:1])
        for round_ in range(options.rounds):
            for server, path, token in runs if round_ % 2 == 0 else runs[::-1]:
                result = _download(server, path, token, requests=requests, ranges=ranges)
                speeds[server.app].append(result["bytes"] / result["seconds"] / 1e6)
        mine = statistics.median(speeds["pinsphere"])
        bare = statistics.median(speeds["bare"])
        ratio = mine / bare if bare else 0.0
        sides.say(f"   {question}: {mine:,.0f} vs {bare:,.0f} MB/s: {ratio:.2f}")
        sides.rows.append(
            HttpRow(
                question,
                f"{mine:,.0f} MB/s",
                f"{bare:,.0f} MB/s (FileResponse)",
                ratio,
                f">= {DOWNLOAD_TARGET}",
                ratio >= DOWNLOAD_TARGET,
            )
        )


def _memory(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


def _reset_peak(pid: int) -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); ``False`` if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _peak_memory(pid: int) -> Iterator[dict[str, int]]:
    """The peak RSS while the block runs: ``VmHWM`` after a reset, and a 20 ms poll."""
    found = {"polled": 0, "hwm": 0}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                found["polled"] = max(found["polled"], _memory(pid)["VmRSS"])
            stop.wait(0.02)

    reset = _reset_peak(pid)
    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        yield found
    finally:
        stop.set()
        watcher.join()
        found["hwm"] = _memory(pid)["VmHWM"] if reset else 0


def _memory_check(options: HttpOptions, sides: _Sides, report: Report) -> None:
    pid = sides.ours.pid
    size = int(options.big_mib * MIB)
    label = f"{options.big_mib:g} MiB"
    timeout = max(120.0, options.big_mib)  # seconds; ~1 s per MiB is far below disk speed
    before = _memory(pid)["VmRSS"]
    with _peak_memory(pid) as upload_peak:
        uploaded = run_client(
            [
                "upload",
                f"--port={sides.ours.port}",
                f"--token={sides.token}",
                f"--size={size}",
                f"--seed={options.seed}",
                f"--duration={timeout}",
            ],
            timeout=timeout + 30,
        )
    if uploaded["status"] != 201 or not uploaded["sha256_ok"]:
        raise RuntimeError(f"the {label} upload failed: {uploaded}")
    path = f"/api/v1/pins/{uploaded['pin']}/media"
    with _peak_memory(pid) as download_peak:
        downloaded = _download(sides.ours, path, sides.token, requests=1, timeout=timeout)
    if downloaded["bytes"] != size:
        raise RuntimeError(f"the {label} download returned {downloaded['bytes']} bytes")
    for question, peak, seconds in (
        (f"peak RSS growth, {label} upload", upload_peak, uploaded["seconds"]),
        (f"peak RSS growth, {label} download", download_peak, downloaded["seconds"]),
    ):
        top = max(peak["hwm"], peak["polled"])
        growth = (top - before) / 1e6
        shown = (
            f"{growth:+.1f} MB (RSS {before / 1e6:.0f} -> peak {top / 1e6:.0f} MB;"
            f" {size / seconds / 1e6:,.0f} MB/s)"
        )
        sides.say(f"   {question}: {shown}")
        sides.rows.append(
            HttpRow(question, shown, "-", None, f"< {RSS_TARGET_MB:g} MB", growth < RSS_TARGET_MB)
        )


def _json_questions(
    options: HttpOptions, sides: _Sides, data: _Data, workers: int, report: Report
) -> None:
    suffix = f", {workers} worker{'s' if workers > 1 else ''}"
    bare_pins = [path.replace("/api/v1/pins/", "/pins/") for path in data.pin_paths]
    _compare_json(options, sides, "GET one pin's JSON" + suffix, data.pin_paths, bare_pins, report)
    ours = [f"/api/v1/pins?q={q}&limit=20" for q in data.tag_queries]
    theirs = [f"/pins?q={q}&limit=20" for q in data.tag_queries]
    _compare_json(options, sides, "tag search, 20 pins" + suffix, ours, theirs, report)


def run_http(options: HttpOptions, report: Report, out: TextIO = sys.stdout) -> list[HttpRow]:
    """Run the HTTP benchmark, print its table, and return its rows; errors go to ``report``."""

    def say(message: str) -> None:
        if not options.quiet:
            print(message, flush=True)

    rows: list[HttpRow] = []
    work = Path(tempfile.mkdtemp(prefix="pinsphere-http-bench-", dir=options.work_dir))
    upload_limit = int(max(options.big_mib, options.file_mib) * MIB) + 16 * MIB
    client = (
        "wrk"
        if options.client == "wrk" or (options.client == "auto" and wrk_path() is not None)
        else "python"
    )
    notes = [
        f"{options.pins:,} pins (SQLite, file:// blobs), {options.connections} connections,"
        f" {options.rounds} interleaved rounds of <= {options.duration:g} s /"
        f" <= {options.max_requests:,} requests per side; medians shown",
        "bare = FastAPI + raw sqlite3 (same rows, same JSON, no auth) and Starlette"
        " FileResponse with Pinsphere's 1 MiB chunk size; both under uvicorn with uvloop +"
        " httptools + access log, as `pinsphere serve`",
    ]
    if client == "python":
        notes.append(
            "wrk not found (apt-get install -y wrk): the Python asyncio client generated the"
            " JSON load; it may saturate before the servers do, which pulls ratios toward 1"
        )
    else:
        notes.append("JSON load: wrk, 1 thread")
    try:
        try:
            say(f"http: loading {options.pins:,} pins and a {options.file_mib:g} MiB video")
            data = _prepare(options, work, upload_limit)
            environment = _environment(data, work, upload_limit)
            plans = [(workers, True, workers == 1) for workers in options.workers]
            if 1 not in options.workers:
                plans.append((1, False, True))
            for workers, json_questions, transfers in plans:
                say(f"http: servers with {workers} worker(s)")
                with (
                    _Server("pinsphere", workers, environment, work) as ours,
                    _Server("bare", workers, environment, work) as bare,
                ):
                    sides = _Sides(ours, bare, _sign_in(ours), say, rows)
                    if json_questions:
                        _json_questions(options, sides, data, workers, report)
                    if transfers:
                        _compare_downloads(options, sides, data, report)
                        _memory_check(options, sides, report)
        except Exception as exc:
            report.error(f"http: {type(exc).__name__}: {exc}")
    finally:
        if options.keep:
            notes.append(f"store and server logs kept in {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    print_rows(rows, notes, out)
    return rows


# -- command line ------------------------------------------------------------------------------


def _workers(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(item) for item in text.split(",") if item.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts like 1,2, not {text!r}")
    return counts


def add_arguments(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """Add the HTTP benchmark's options (``--{prefix}pins`` ...) to a parser."""
    defaults = HttpOptions()

    def option(name: str, **kwargs: Any) -> None:
        parser.add_argument(f"--{prefix}{name}", dest="http_" + name.replace("-", "_"), **kwargs)

    option("pins", type=int, default=defaults.pins, help="pins in the HTTP benchmark's store")
    option("file-mib", type=float, default=defaults.file_mib, help="downloaded video, MiB")
    option("range-mib", type=float, default=defaults.range_mib, help="each Range request, MiB")
    option("big-mib", type=float, default=defaults.big_mib, help="memory check transfer, MiB")
    option("connections", type=int, default=defaults.connections, help="JSON load connections")
    option("duration", type=float, default=defaults.duration, help="seconds per JSON run")
    option("max-requests", type=int, default=defaults.max_requests, help="requests per JSON run")
    option("rounds", type=int, default=defaults.rounds, help="interleaved runs per side")
    option("downloads", type=int, default=defaults.downloads, help="whole downloads per round")
    option("workers", type=_workers, default=defaults.workers, help="uvicorn workers, e.g. 1,2")
    option("client", choices=("auto", "wrk", "python"), default=defaults.client)
    option("work-dir", type=Path, default=None, help="parent of the temporary store folder")
    option("keep", action="store_true", help="keep the store folder and server logs")


def options_from(args: argparse.Namespace) -> HttpOptions:
    """The :class:`HttpOptions` a parsed command line asks for."""
    return HttpOptions(
        pins=args.http_pins,
        seed=args.seed,
        file_mib=args.http_file_mib,
        range_mib=args.http_range_mib,
        big_mib=args.http_big_mib,
        connections=args.http_connections,
        duration=args.http_duration,
        max_requests=args.http_max_requests,
        rounds=args.http_rounds,
        downloads=args.http_downloads,
        workers=args.http_workers,
        client=args.http_client,
        work_dir=args.http_work_dir,
        keep=args.http_keep,
        quiet=args.quiet,
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m benchmarks.http_bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.http_bench",
        description="The REST service against a bare FastAPI service on the same data.",
    )
    add_arguments(parser)
    parser.add_argument("--seed", type=int, default=42, help="data generator seed")
    parser.add_argument("--quiet", action="store_true", help="print only the table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line; the exit status is 1 only when something broke."""
    args = build_parser().parse_args(argv)
    report = Report()
    run_http(options_from(args), report)
    if report.notes:
        for note in report.notes:
            print(f"note: {note}")
    if report.errors:
        print(f"\n{len(report.errors)} error(s):")
        for message in report.errors:
            print(f"  - {message}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
