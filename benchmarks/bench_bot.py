"""Load benchmark (issue 7): partnerbot under many simulated users, beside a bare echo bot.

    .venv/bin/python benchmarks/bench_bot.py            # 200 users, about 3.5-4 minutes
    .venv/bin/python benchmarks/bench_bot.py --quick    # 40 users, under a minute

N simulated users talk to the bot through ``tests/bot_api_server.py`` (a real HTTP stand-in
for the Bot API on 127.0.0.1), all at once, each sending its next message only after the
bot answered the previous one. Most ask a seeded mix of English and Arabic questions (some
get the fallback); ``--form-share`` of them (10%) complete the partnership form by pressing
the buttons the bot sent and typing the answers. In one run, on one machine:

  echo  a bare python-telegram-bot echo bot (benchmarks/echo_bot.py), long polling;
  (a)   one ``partnerbot run`` process, polling, on a fresh SQLite file;
  (b)   two ``partnerbot run --webhook`` workers on PostgreSQL (the ``bench`` database, its
        schema reset first), behind a forwarder started here that hands each connection
        to the next worker in turn (as nginx's TCP balancing would);
  slow  (a) again, shorter, with the stand-in answering every sendMessage after 0.5 s.

Printed: updates handled per second (replies / wall time of the load phase), reply latency
p50/p95/p99 (the user's message to the first message the bot sent back, both on this
process's monotonic clock: ours before the update is queued, the stand-in's on arrival of the
bot's call), CPU ms per update (user+system of the bot processes over the load phase, from
/proc/<pid>/stat; PostgreSQL's backends for ``bench`` shown apart), errors (ERROR lines in the
bots' logs, users without a reply within 30 s, "something went wrong" replies, missing
buttons), leads confirmed / stored / posted to the staff chat, and peak RSS (VmHWM) per
process, each beside the echo bot where a ratio makes sense and beside the issue's targets,
marked PASS/FAIL. These are figures, not tests: the exit code is 0 whenever the run ends.
"Details" adds where the time went: each process's CPU, the rest of the machine's (other
work on the machine skews every figure), the staff posts' delay, the webhook POSTs' times.

Caveats: the stand-in posts webhook updates over up to ``--webhook-connections`` connections
at once (40, Telegram's default ``max_connections``; never two of one chat at once; 1 posts
them one after the other, as this benchmark did before 2026-12-06); the echo bot
has no flood limiter, partnerbot has one unless ``--no-flood-control``. With it, partnerbot's
updates/s and latency are Telegram's limit (about 30 messages a second for the token, which
(b)'s two workers share), not its capacity: ``--no-flood-control`` measures the capacity.

``--profile`` (or BENCH_PROFILE=1) runs partnerbot under cProfile during the load phase only
and prints where (a) and one (b) worker spent their time (profiled runs are slower);
``--keep DIR`` keeps the logs and profiles; ``--only echo,polling`` runs some phases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import pstats
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_api_server import BotApiServer, Call  # noqa: E402

STAFF_CHAT = -100500
SECRET = "bench-webhook-secret"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
REPLY_TIMEOUT = 30.0  # a user without an answer this long counts as an error and gives up
STARTUP_TIMEOUT = 60.0
# After the load, how long staff posts may take to arrive: the flood limiter spaces posts
# into one group 3.1 s apart, so a burst of N leads needs about 3.1 * N s in one process.
DRAIN_SECONDS_PER_LEAD = 3.5
DRAIN_TIMEOUT = (20.0, 120.0)  # at least, at most
STOP_GRACE = 15.0  # SIGTERM, then SIGKILL after this
FIRST_USER = 10_000

# (text, Telegram app language): 6 English, 6 Arabic; three get the fallback or "did you mean".
QUESTIONS = [
    ("what is expert secondment?", "en"),
    ("hello", "en"),
    ("How does information sharing work?", "en"),
    ("how do I become a partner?", "en"),
    ("how can my company become a partner?", "en"),  # "did you mean"
    ("who won the football match yesterday?", "en"),  # fallback
    ("ما هي خيارات الشراكة؟", "ar"),
    ("كيف أصبح شريكا؟", "ar"),
    ("مرحبا", "ar"),
    ("ما هي إعارة الخبراء؟", "ar"),
    ("هل يمكن للبنوك أن تصبح شريكة؟", "ar"),
    ("كم سعر تذكرة الطيران إلى باريس؟", "ar"),  # fallback
]
FORM_VALUES = {
    "en": {
        "question": "how do I become a partner?",
        "organisation": "Acme Security",
        "country": "Jordan",
        "name": "Sam Smith",
        "role": "Head of threat intelligence",
        "email": "sam.{uid}@acme-security.com",
        "phone": "skip",
        "message": "no thanks",
    },
    "ar": {
        "question": "كيف أصبح شريكا؟",
        "organisation": "شركة الأمان العربية",
        "country": "الأردن",
        "name": "سارة أحمد",
        "role": "مديرة أمن المعلومات",
        "email": "sara.{uid}@arab-bank.jo",
        "phone": "تخطي",
        "message": "لا شكرا",
    },
}
ERROR_REPLY = re.compile(r"went wrong|حدث خطأ")
LEAD_POST = re.compile(r"lead #(\d+)", re.IGNORECASE)
LEAD_EMAIL_UID = re.compile(r"(?:sam|sara)\.(\d+)@")  # the user id in the form's email
HANDLED = re.compile(r" handled in (\d+) ms")


@dataclass(frozen=True)
class Step:
    """One thing a user does: send text or press a button (callback data, or its prefix).

    ``ready``: a button (prefix) the bot's newest message must carry before the user goes
    on; it is how a person knows the bot finished answering (the form's next prompt).
    """

    kind: str  # "send" | "press"
    value: str
    ready: str | None = None


@dataclass
class UserPlan:
    uid: int
    lang: str
    steps: list[Step]
    is_form: bool


def form_plan(uid: int, lang: str) -> list[Step]:
    """The partnership form in the order of tests/test_lead_form.py ``form_steps``."""
    v = FORM_VALUES[lang]
    return [
        Step("send", v["question"], "form:start"),  # the answer offers "Become a partner"
        Step("press", "form:start", "form:cancel"),  # intro, then "Step 1 of 10" (Cancel)
        Step("send", v["organisation"], "form:sector:cybersecurity"),
        Step("press", "form:sector:cybersecurity"),
        Step("send", v["country"]),
        Step("send", v["name"]),
        Step("send", v["role"]),
        Step("send", v["email"].format(uid=uid)),
        Step("send", v["phone"], "form:interest:information-sharing"),  # "no phone", step 8
        Step("press", "form:interest:information-sharing"),  # the keyboard is edited
        Step("press", "form:interests_done"),
        Step("send", v["message"], "form:consent:yes"),
        Step("press", "form:consent:yes", "form:confirm"),
        Step("press", "form:confirm"),
    ]


def question_plan(rng: random.Random, count: int) -> list[Step]:
    return [Step("send", rng.choice(QUESTIONS)[0]) for _ in range(count)]


def user_plans(users: int, form_share: float, questions: int, seed: int) -> list[UserPlan]:
    """Seeded: the same users, languages and questions for every bot in the run."""
    rng = random.Random(seed)
    forms = round(users * form_share)
    form_slots = set(rng.sample(range(users), forms)) if forms else set()
    plans = []
    for i in range(users):
        uid = FIRST_USER + i
        lang = "ar" if i % 2 else "en"
        if i in form_slots:
            plans.append(UserPlan(uid, lang, form_plan(uid, lang), is_form=True))
        else:
            plans.append(UserPlan(uid, lang, question_plan(rng, questions), is_form=False))
    return plans


@dataclass(frozen=True)
class Reply:
    at: float
    buttons: tuple[str, ...]  # callback data of the inline keyboard
    text: str


# /proc ------------------------------------------------------------------------------------
def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of a live process (or one of its threads), in seconds (0 if gone)."""
    try:
        where = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
        stat = Path(where).read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main_thread_cpu(pid: int) -> float:
    """CPU seconds of a process's main thread (its event loop); the rest is other threads
    (the resolver's, a database driver's where it has them; SQLite statements run inline)."""
    return cpu_seconds(pid, pid)


def peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends connected to ``database`` (when visible)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# The bot processes -------------------------------------------------------------------------
class BotProcess:
    """A bot subprocess with its log in a file; always stopped with SIGTERM, then SIGKILL."""

    running: list[BotProcess] = []  # noqa: RUF012 - every live one, for the final cleanup

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name, self.argv, self.env, self.workdir = name, argv, env, workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.peak_rss: float | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        log = self.log_path.open("wb")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                cwd=self.workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl-C on the benchmark is ours to pass on
                preexec_fn=die_with_parent,
            )
        finally:
            log.close()
        BotProcess.running.append(self)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None

    async def wait_for_log(self, needle: str, timeout: float = STARTUP_TIMEOUT) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while needle not in self.log_text():
            if self.exited():
                raise PhaseError(f"{self.name} exited at start-up:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise PhaseError(f"{self.name} not ready within {timeout:.0f} s:\n{self.tail()}")
            await asyncio.sleep(0.1)

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.peak_rss = peak_rss_mb(self.proc.pid) or self.peak_rss
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        if self in BotProcess.running:
            BotProcess.running.remove(self)

    def error_lines(self, levels: tuple[str, ...] = ("ERROR", "CRITICAL")) -> list[str]:
        return [
            line
            for line in self.log_text().splitlines()
            if any(f" {level} " in line for level in levels)
        ]

    def handled_ms(self) -> list[float]:
        return [float(m.group(1)) for m in HANDLED.finditer(self.log_text())]


def die_with_parent() -> None:
    """In the child: SIGTERM when the benchmark dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PhaseError(Exception):
    """A bot could not be started or measured; its column shows n/a."""


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNERBOT_", "TELEGRAM_"))}
    env.update(PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


# Run ``bot.cli`` with a profiler that SIGUSR1 turns on and SIGUSR2 off: the benchmark
# profiles the load phase only, not start-up (imports, the knowledge base, migrations).
PROFILED_CLI = """
import cProfile, signal, sys
profiler = cProfile.Profile()
signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
signal.signal(signal.SIGUSR2, lambda *_: profiler.disable())
out, sys.argv = sys.argv[1], ["partnerbot", *sys.argv[2:]]
from bot.cli import main
try:
    code = main(sys.argv[1:])
finally:
    profiler.disable()
    profiler.dump_stats(out)
raise SystemExit(code)
"""


def partnerbot_argv(workdir: Path, name: str, profile: bool, *extra: str) -> list[str]:
    config = ["--config", str(workdir / "config.yaml"), "run", *extra]
    if profile:
        return [sys.executable, "-c", PROFILED_CLI, str(workdir / f"{name}.prof"), *config]
    return [sys.executable, "-m", "bot.cli", *config]


def write_config(workdir: Path, *, database_rate_limit: bool, flood_control: bool) -> None:
    lines = [
        "telegram:",
        f"  staff_chat_id: {STAFF_CHAT}",
        "bot:",
        "  rate_limit_messages: 100000",
    ]
    if database_rate_limit:
        lines.append("  rate_limit_store: database")
    if not flood_control:
        lines += ["serving:", "  flood_control: false"]
    (workdir / "config.yaml").write_text("\n".join(lines) + "\n")


# Watching what the users receive ------------------------------------------------------------
class Tracker:
    """Follows the stand-in's calls and wakes each user when the bot sent it something."""

    def __init__(self, server: BotApiServer) -> None:
        self.server = server
        self.seen = 0
        self.replies: dict[int, list[Reply]] = defaultdict(list)
        self.events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.error_replies = 0
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> Tracker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            self.poll()
            await asyncio.sleep(0.005)

    def poll(self) -> None:
        calls = self.server.calls  # the server runs on this loop: each call is complete
        for call in calls[self.seen :]:
            self._take(call)
        self.seen = len(calls)

    def _take(self, call: Call) -> None:
        method = call.method
        visible = (method.startswith("send") and method != "sendChatAction") or method.startswith(
            "edit"
        )
        if not visible or call.status != 200 or call.chat_id is None or call.chat_id <= 0:
            return
        markup = call.params.get("reply_markup")
        rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
        buttons = tuple(b.get("callback_data", "") for row in rows for b in row)
        text = str(call.params.get("text", ""))
        if ERROR_REPLY.search(text):
            self.error_replies += 1
        self.replies[call.chat_id].append(Reply(call.at, buttons, text))
        self.events[call.chat_id].set()

    async def wait(
        self,
        chat: int,
        done: Callable[[list[Reply]], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        deadline = time.monotonic() + timeout
        event = self.events[chat]
        while not done(self.replies[chat]):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds
    no_reply: int = 0  # users who waited REPLY_TIMEOUT in vain (or were cut by the timeout)
    missing_buttons: int = 0
    error_replies: int = 0  # "something went wrong" sent to a user
    confirmed_at: dict[int, float] = field(default_factory=dict)  # uid: Confirm answered
    started: float = 0.0
    ended: float = 0.0
    timed_out: bool = False

    @property
    def replies(self) -> int:
        return len(self.latencies)

    @property
    def confirmed(self) -> int:
        return len(self.confirmed_at)

    @property
    def wall(self) -> float:
        return max(self.ended - self.started, 1e-9)


def has_button(prefix: str) -> Callable[[list[Reply]], bool]:
    return lambda replies: bool(replies) and any(b.startswith(prefix) for b in replies[-1].buttons)


async def drive_user(
    server: BotApiServer,
    tracker: Tracker,
    plan: UserPlan,
    result: LoadResult,
    *,
    real_buttons: bool,
) -> None:
    """One person: each message only after the bot answered the previous one."""
    uid = plan.uid
    for step in plan.steps:
        before = len(tracker.replies[uid])
        if step.kind == "send":
            sent_at = time.monotonic()
            server.user_text(uid, step.value, language_code=plan.lang)
        else:
            message = server.messages(uid)[-1]
            data = step.value
            if real_buttons:  # press what the bot sent, as a person would
                choices = [d for row in message.buttons for _, d in row if d.startswith(data)]
                if not choices:
                    result.missing_buttons += 1
                    return
                data = choices[0]
            elif data == "form:start":
                data = f"form:start:{plan.lang}"
            sent_at = time.monotonic()
            server.user_press(uid, message, data, language_code=plan.lang)
        if not await tracker.wait(uid, lambda r, n=before: len(r) > n, REPLY_TIMEOUT):
            result.no_reply += 1
            return
        result.latencies.append(tracker.replies[uid][before].at - sent_at)
        ready = has_button(step.ready) if step.ready and real_buttons else None
        if ready is not None and not await tracker.wait(uid, ready, REPLY_TIMEOUT):
            result.missing_buttons += 1
            return
        if step.value == "form:confirm":
            result.confirmed_at[uid] = tracker.replies[uid][before].at
        result.ended = max(result.ended, time.monotonic())


async def run_load(
    server: BotApiServer,
    plans: list[UserPlan],
    *,
    real_buttons: bool,
    timeout: float,  # noqa: ASYNC109
) -> LoadResult:
    result = LoadResult()
    with Tracker(server) as tracker:
        result.started = result.ended = time.monotonic()
        tasks = [
            asyncio.create_task(drive_user(server, tracker, p, result, real_buttons=real_buttons))
            for p in plans
        ]
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        if pending:
            result.timed_out = True
            result.no_reply += len(pending)
            result.ended = time.monotonic()
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        tracker.poll()
        result.error_replies = tracker.error_replies
    return result


async def warm_up(server: BotApiServer, real_buttons: bool, users: int = 1) -> None:
    """A few answered messages first: imports, templates and connections are ready."""
    plans = [
        UserPlan(FIRST_USER - 1 - i, "en", [Step("send", q) for q, _ in QUESTIONS[:6]], False)
        for i in range(users)
    ]
    result = await run_load(server, plans, real_buttons=real_buttons, timeout=STARTUP_TIMEOUT)
    if result.no_reply or result.replies == 0:
        raise PhaseError("no answer to the warm-up messages")


# The round-robin forwarder (what nginx does in front of the workers) -----------------------
class Forwarder:
    """Each connection the stand-in opens goes to the next worker in turn, and its bytes are
    copied both ways, as nginx's stream (TCP) balancing does. It stands for nginx, which
    in C costs the machine next to nothing: an HTTP proxy in Python here (each POST parsed
    and sent again) cost this process about 0.5 ms of CPU per webhook update, taken from
    the two workers sharing the machine with it. Telegram keeps its connections open, so
    requests spread as the connections do (40 of them: 20 per worker)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.connections = [0] * len(ports)
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> Forwarder:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in self.ports:  # a worker that refuses the connection: the next one
            i = self._next
            self._next = (i + 1) % len(self.ports)
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", self.ports[i]
                )
            except OSError:
                continue
            self.connections[i] += 1
            break
        else:
            writer.close()
            return
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            pipe = asyncio.create_task(_copy(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Bytes from ``source`` to ``sink`` until either side closes; then close ``sink``,
    which ends the other direction too."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Databases ------------------------------------------------------------------------------------
def sqlite_leads(path: Path) -> tuple[int, int]:
    """(leads stored, distinct users with a lead)."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        row = db.execute("SELECT count(*), count(DISTINCT user_id) FROM leads").fetchone()
    return int(row[0]), int(row[1])


async def postgres_leads() -> tuple[int, int]:
    db = await asyncpg.connect(PG_DSN, timeout=10)
    try:
        row = await db.fetchrow("SELECT count(*), count(DISTINCT user_id) FROM leads")
    finally:
        await db.close()
    assert row is not None
    return int(row[0]), int(row[1])


async def reset_postgres() -> None:
    """A fresh ``bench`` database schema (the database is created when missing)."""
    try:
        db = await asyncpg.connect(PG_DSN, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(PG_DSN.rsplit("/", 1)[0] + "/postgres", timeout=10)
        try:
            await admin.execute("CREATE DATABASE bench")
        finally:
            await admin.close()
        db = await asyncpg.connect(PG_DSN, timeout=10)
    try:
        await db.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await db.close()


# One bot under load ---------------------------------------------------------------------------
@dataclass
class BotFigures:
    name: str
    load: LoadResult | None = None
    cpu: float = 0.0  # seconds, bot processes, over the load phase
    threads_cpu: float = 0.0  # of which threads other than the main (event loop) thread
    db_cpu: float | None = None  # seconds, PostgreSQL backends for bench (sampled)
    db_sessions: int | None = None  # PostgreSQL connections opened during the load
    db_active: float | None = None  # seconds PostgreSQL spent executing statements
    others_cpu: float = 0.0  # seconds, every other process on the machine
    steal_cpu: float = 0.0  # of which the hypervisor's (time this VM wanted but was not given)
    staff_max_per_minute: int = 0  # most posts into the staff chat in any 60 s
    bench_cpu: float = 0.0  # seconds, this process (stand-in, users, forwarder)
    rss: list[float] = field(default_factory=list)
    error_lines: list[str] = field(default_factory=list)
    leads_stored: int | None = None
    lead_users: int | None = None
    staff_posts: list[int] = field(default_factory=list)
    handled_ms: list[float] = field(default_factory=list)
    forwarded: list[int] = field(default_factory=list)  # connections per worker, in the phase
    post_ms: list[float] = field(default_factory=list)  # webhook POST answered by a worker
    failure: str | None = None
    profiles: list[Path] = field(default_factory=list)
    handled_in_load: list[int] = field(default_factory=list)  # updates per process (its log)
    post_delays: list[float] = field(default_factory=list)  # s, Confirm answered -> staff post
    warning_lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.load is not None

    @property
    def ups(self) -> float:
        assert self.load is not None
        return self.load.replies / self.load.wall

    @property
    def cpu_ms(self) -> float:
        assert self.load is not None
        return self.cpu * 1000 / max(self.load.replies, 1)

    @property
    def errors(self) -> int:
        assert self.load is not None
        return (
            len(self.error_lines)
            + self.load.no_reply
            + self.load.missing_buttons
            + self.load.error_replies
        )

    def latency_ms(self, q: float) -> float:
        assert self.load is not None
        return percentile(self.load.latencies, q) * 1000


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def measure(
    figures: BotFigures,
    server: BotApiServer,
    procs: list[BotProcess],
    plans: list[UserPlan],
    *,
    real_buttons: bool,
    timeout: float,  # noqa: ASYNC109
    database: str | None = None,
    profile: bool = False,
) -> None:
    """The load phase proper: CPU and PostgreSQL counters (and the profilers) around it."""
    cpu0 = sum(cpu_seconds(p.pid) for p in procs)
    main0 = sum(main_thread_cpu(p.pid) for p in procs)
    (busy0, steal0), bench0 = machine_cpu(), own_cpu()
    handled0 = [len(p.handled_ms()) for p in procs]
    sampler = PostgresSampler(database) if database else None
    stats0 = await postgres_stats(database) if database else None
    signal_all(procs, signal.SIGUSR1 if profile else None)
    with sampler or contextlib.nullcontext():
        figures.load = await run_load(server, plans, real_buttons=real_buttons, timeout=timeout)
    signal_all(procs, signal.SIGUSR2 if profile else None)
    figures.handled_in_load = [
        len(p.handled_ms()) - n for p, n in zip(procs, handled0, strict=True)
    ]
    figures.cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
    main_cpu = sum(main_thread_cpu(p.pid) for p in procs) - main0
    figures.threads_cpu = max(0.0, figures.cpu - main_cpu)
    figures.bench_cpu = own_cpu() - bench0
    if sampler is not None and database:
        figures.db_cpu = sampler.cpu()
        stats1 = await postgres_stats(database)
        if stats0 is not None and stats1 is not None:
            figures.db_sessions = stats1[0] - stats0[0]
            figures.db_active = (stats1[1] - stats0[1]) / 1000
    busy, steal = machine_cpu()
    figures.steal_cpu = steal - steal0
    figures.others_cpu = max(
        0.0, busy - busy0 - figures.cpu - figures.bench_cpu - (figures.db_cpu or 0.0)
    )
    for proc in procs:
        if proc.exited():
            figures.failure = f"{proc.name} exited during the load:\n{proc.tail()}"


class PostgresSampler:
    """CPU of the backends serving ``database``, sampled: backends come and go with the
    pool's overflow connections, so a snapshot at the end would miss most of them."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.first = postgres_backends(database)
        self.last = dict(self.first)
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> PostgresSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sample()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self.sample()

    def sample(self) -> None:
        for pid, cpu in postgres_backends(self.database).items():
            self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def cpu(self) -> float:
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


async def postgres_stats(database: str) -> tuple[int, float] | None:
    """(sessions opened so far, ms spent executing statements) for ``database``."""
    try:
        db = await asyncpg.connect(PG_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await db.execute("SELECT pg_stat_clear_snapshot()")
        row = await db.fetchrow(
            "SELECT sessions, active_time FROM pg_stat_database WHERE datname = $1", database
        )
    except asyncpg.PostgresError:
        return None
    finally:
        await db.close()
    return (int(row[0]), float(row[1])) if row is not None else None


def machine_cpu() -> tuple[float, float]:
    """(CPU seconds all processes on this machine have used, seconds the hypervisor took
    from this VM), from /proc/stat; the first includes the second."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK, steal / CLK_TCK


def signal_all(procs: list[BotProcess], signum: int | None) -> None:
    for proc in procs:
        if signum is not None and not proc.exited():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signum)


async def drain_staff_posts(server: BotApiServer, expected: int) -> None:
    """Staff posts go through the outbox (and the flood limiter): give them time."""
    low, high = DRAIN_TIMEOUT
    deadline = time.monotonic() + min(high, max(low, DRAIN_SECONDS_PER_LEAD * expected + 10))
    while time.monotonic() < deadline:
        if len({post.lead for post in staff_posts(server)}) >= expected:
            await asyncio.sleep(1.0)  # a repeat would show up now
            return
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class StaffPost:
    lead: int  # the lead's number in the post
    uid: int | None  # the user who sent it (from the email the benchmark typed)
    at: float


def staff_posts(server: BotApiServer) -> list[StaffPost]:
    """The posts (not edits) in the staff chat, one per post."""
    posts = []
    for sent in server.messages(STAFF_CHAT):
        text = sent.text or ""
        if sent.method == "sendMessage" and (lead := LEAD_POST.search(text)):
            uid = LEAD_EMAIL_UID.search(text)
            posts.append(StaffPost(int(lead.group(1)), int(uid.group(1)) if uid else None, sent.at))
    return posts


async def finish(figures: BotFigures, server: BotApiServer, procs: list[BotProcess]) -> None:
    for proc in procs:
        if not proc.exited():
            figures.rss.append(peak_rss_mb(proc.pid) or float("nan"))
    posts = staff_posts(server)
    figures.staff_posts = [post.lead for post in posts]
    confirmed = figures.load.confirmed_at if figures.load else {}
    first: dict[int, float] = {}
    for post in posts:
        if post.uid in confirmed and post.uid not in first:
            first[post.uid] = post.at - confirmed[post.uid]
    figures.post_delays = list(first.values())
    figures.staff_max_per_minute = server.max_rate(STAFF_CHAT, 60.0)


async def bench_echo(args: argparse.Namespace, plans: list[UserPlan], tmp: Path) -> BotFigures:
    figures = BotFigures("echo")
    workdir = tmp / "echo"
    workdir.mkdir()
    async with BotApiServer(keep=2_000_000, max_poll_seconds=1.0) as server:
        env = {
            **base_env(),
            "TELEGRAM_BOT_TOKEN": server.token,
            "ECHO_API_BASE_URL": server.base_url,
        }
        proc = BotProcess(
            "echo", [sys.executable, str(ROOT / "benchmarks" / "echo_bot.py")], env, workdir
        )
        try:
            await proc.start()
            await server.wait_for(
                lambda calls: any(c.method == "getUpdates" for c in calls), STARTUP_TIMEOUT
            )
            await warm_up(server, real_buttons=False)
            await measure(
                figures, server, [proc], plans, real_buttons=False, timeout=args.phase_timeout
            )
            await finish(figures, server, [proc])
        except (PhaseError, TimeoutError) as exc:
            figures.failure = str(exc) or type(exc).__name__
        finally:
            await proc.stop()
        figures.error_lines = proc.error_lines()
    return figures


async def bench_polling(
    args: argparse.Namespace,
    plans: list[UserPlan],
    tmp: Path,
    *,
    name: str = "polling",
    slow: float | None = None,
) -> BotFigures:
    figures = BotFigures(name)
    workdir = tmp / name
    workdir.mkdir()
    write_config(workdir, database_rate_limit=False, flood_control=not args.no_flood_control)
    database = workdir / "partnerbot.sqlite3"
    async with BotApiServer(keep=2_000_000, max_poll_seconds=1.0) as server:
        env = {
            **base_env(),
            "TELEGRAM_BOT_TOKEN": server.token,
            "PARTNERBOT_API_BASE_URL": server.base_url,
            "PARTNERBOT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        }
        proc = BotProcess(name, partnerbot_argv(workdir, name, args.profile), env, workdir)
        try:
            await proc.start()
            await proc.wait_for_log("polling for updates")
            await warm_up(server, real_buttons=True)
            if slow is not None:
                server.fail("sendMessage", "slow", times=None, delay=slow)
            await measure(
                figures,
                server,
                [proc],
                plans,
                real_buttons=True,
                timeout=args.phase_timeout,
                profile=args.profile,
            )
            await drain_staff_posts(server, figures.load.confirmed if figures.load else 0)
            await finish(figures, server, [proc])
        except (PhaseError, TimeoutError) as exc:
            figures.failure = str(exc) or type(exc).__name__
        finally:
            await proc.stop()
            server.clear_faults()
        figures.error_lines = proc.error_lines()
        figures.warning_lines = proc.error_lines(("WARNING",))
        figures.handled_ms = proc.handled_ms()
        if database.exists():
            with contextlib.suppress(sqlite3.Error):
                figures.leads_stored, figures.lead_users = sqlite_leads(database)
        if args.profile:
            figures.profiles.append(workdir / f"{name}.prof")
    return figures


async def bench_webhook(args: argparse.Namespace, plans: list[UserPlan], tmp: Path) -> BotFigures:
    figures = BotFigures("webhook")
    workdir = tmp / "webhook"
    workdir.mkdir()
    write_config(workdir, database_rate_limit=True, flood_control=not args.no_flood_control)
    await reset_postgres()
    ports = [free_port(), free_port()]
    procs: list[BotProcess] = []
    async with (
        BotApiServer(
            keep=2_000_000, max_poll_seconds=1.0, webhook_connections=args.webhook_connections
        ) as server,
        Forwarder(ports) as forwarder,
    ):
        try:
            for i, port in enumerate(ports):
                env = {
                    **base_env(),
                    "TELEGRAM_BOT_TOKEN": server.token,
                    "PARTNERBOT_API_BASE_URL": server.base_url,
                    "PARTNERBOT_DATABASE_URL": args.pg_url,
                    "PARTNERBOT_WEBHOOK_URL": f"http://127.0.0.1:{forwarder.port}/telegram",
                    "PARTNERBOT_WEBHOOK_SECRET": SECRET,
                    "PARTNERBOT_WEBHOOK_PORT": str(port),
                    # Two processes on one token share Telegram's limits, as deployed.
                    "PARTNERBOT_WORKERS": str(len(ports)),
                }
                name = f"webhook{i + 1}"
                argv = partnerbot_argv(workdir, name, args.profile, "--webhook")
                procs.append(BotProcess(name, argv, env, workdir))
            for proc in procs:
                await proc.start()
            for proc in procs:
                await proc.wait_for_log("webhook set")
            await warm_up(server, real_buttons=True, users=2)
            forwarder.connections = [0] * len(ports)
            posts_before = len(server.deliveries)
            await measure(
                figures,
                server,
                procs,
                plans,
                real_buttons=True,
                timeout=args.phase_timeout,
                database="bench",
                profile=args.profile,
            )
            figures.forwarded = list(forwarder.connections)
            figures.post_ms = [d.seconds * 1000 for d in server.deliveries[posts_before:]]
            await drain_staff_posts(server, figures.load.confirmed if figures.load else 0)
            await finish(figures, server, procs)
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                figures.leads_stored, figures.lead_users = await postgres_leads()
        except (PhaseError, TimeoutError, OSError, asyncpg.PostgresError) as exc:
            figures.failure = str(exc) or type(exc).__name__
        finally:
            await asyncio.gather(*(proc.stop() for proc in procs))
        for proc in procs:
            figures.error_lines += proc.error_lines()
            figures.warning_lines += proc.error_lines(("WARNING",))
            figures.handled_ms += proc.handled_ms()
            if args.profile:
                figures.profiles.append(workdir / f"{proc.name}.prof")
    return figures


# The report ---------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def ratio(value: float, base: float) -> str:
    if base <= 0 or value != value or base != base:  # zero or NaN
        return ""
    return f" ({value / base:.2f}x)"


def report(
    args: argparse.Namespace,
    echo: BotFigures,
    polling: BotFigures,
    webhook: BotFigures,
    slow: BotFigures,
    users: int,
    forms: int,
) -> None:
    def cell(f: BotFigures, text: Callable[[BotFigures], str]) -> str:
        return text(f) if f.ok else "n/a"

    def with_ratio(f: BotFigures, value: Callable[[BotFigures], float], fmt: str) -> str:
        if not f.ok:
            return "n/a"
        v = value(f)
        base = value(echo) if echo.ok and f is not echo else 0.0
        return f"{v:{fmt}}{ratio(v, base)}"

    def check(f: BotFigures, good: Callable[[BotFigures], bool]) -> str:
        return verdict(good(f)) if f.ok and echo.ok else ("n/a" if not f.ok else "?")

    def check_alone(f: BotFigures, good: Callable[[BotFigures], bool]) -> str:
        return verdict(good(f)) if f.ok else "n/a"

    def leads(f: BotFigures) -> str:
        if not f.ok or f is echo:
            return "-"
        assert f.load is not None
        posted = len(set(f.staff_posts))
        dups = len(f.staff_posts) - posted
        return f"{f.load.confirmed}/{f.leads_stored}/{posted}" + (f" +{dups} dup" if dups else "")

    def leads_ok(f: BotFigures) -> bool:
        assert f.load is not None
        posted = len(set(f.staff_posts))
        return (
            f.leads_stored == f.load.confirmed == forms
            and f.lead_users == f.leads_stored
            and posted == f.leads_stored
            and len(f.staff_posts) == posted
        )

    def rss(f: BotFigures) -> str:
        return ", ".join(f"{r:.0f}" for r in f.rss) if f.rss else "?"

    def cpu_db(f: BotFigures) -> str:
        if not f.ok or f.db_cpu is None or f.load is None:
            return "-"
        total = (f.cpu + f.db_cpu) * 1000 / max(f.load.replies, 1)
        return f"{total:.2f}{ratio(total, echo.cpu_ms if echo.ok else 0.0)}"

    rows: list[tuple[str, str, str, str, str, str, str]] = [
        (
            "updates/s (replies / wall)",
            with_ratio(echo, lambda f: f.ups, ".1f"),
            with_ratio(polling, lambda f: f.ups, ".1f"),
            with_ratio(webhook, lambda f: f.ups, ".1f"),
            "(a) >= 0.5x echo, (b) >= 1.0x",
            check(polling, lambda f: f.ups >= 0.5 * echo.ups),
            check(webhook, lambda f: f.ups >= 1.0 * echo.ups),
        ),
        (
            "latency p50 ms",
            with_ratio(echo, lambda f: f.latency_ms(50), ".0f"),
            with_ratio(polling, lambda f: f.latency_ms(50), ".0f"),
            with_ratio(webhook, lambda f: f.latency_ms(50), ".0f"),
            "",
            "",
            "",
        ),
        (
            "latency p95 ms",
            with_ratio(echo, lambda f: f.latency_ms(95), ".0f"),
            with_ratio(polling, lambda f: f.latency_ms(95), ".0f"),
            with_ratio(webhook, lambda f: f.latency_ms(95), ".0f"),
            "",
            "",
            "",
        ),
        (
            "latency p99 ms",
            with_ratio(echo, lambda f: f.latency_ms(99), ".0f"),
            with_ratio(polling, lambda f: f.latency_ms(99), ".0f"),
            with_ratio(webhook, lambda f: f.latency_ms(99), ".0f"),
            f"<= 1.5x echo (at {users} users)",
            check(polling, lambda f: f.latency_ms(99) <= 1.5 * echo.latency_ms(99)),
            check(webhook, lambda f: f.latency_ms(99) <= 1.5 * echo.latency_ms(99)),
        ),
        (
            "CPU ms/update (bot procs)",
            with_ratio(echo, lambda f: f.cpu_ms, ".2f"),
            with_ratio(polling, lambda f: f.cpu_ms, ".2f"),
            with_ratio(webhook, lambda f: f.cpu_ms, ".2f"),
            "<= 2.0x echo",
            check(polling, lambda f: f.cpu_ms <= 2.0 * echo.cpu_ms),
            check(webhook, lambda f: f.cpu_ms <= 2.0 * echo.cpu_ms),
        ),
        (
            "CPU ms/update incl. PG",
            "-",
            "(SQLite in-proc)",
            cpu_db(webhook),
            "(information)",
            "",
            "",
        ),
        (
            "errors (total)",
            cell(echo, lambda f: str(f.errors)),
            cell(polling, lambda f: str(f.errors)),
            cell(webhook, lambda f: str(f.errors)),
            "0",
            check_alone(polling, lambda f: f.errors == 0),
            check_alone(webhook, lambda f: f.errors == 0),
        ),
        (
            "  ERROR log lines",
            cell(echo, lambda f: str(len(f.error_lines))),
            cell(polling, lambda f: str(len(f.error_lines))),
            cell(webhook, lambda f: str(len(f.error_lines))),
            "",
            "",
            "",
        ),
        (
            "  users w/o reply in 30 s",
            cell(echo, lambda f: str(f.load.no_reply if f.load else 0)),
            cell(polling, lambda f: str(f.load.no_reply if f.load else 0)),
            cell(webhook, lambda f: str(f.load.no_reply if f.load else 0)),
            "",
            "",
            "",
        ),
        (
            "  error replies / no button",
            cell(echo, lambda f: f"{f.load.error_replies if f.load else 0}/-"),
            cell(
                polling,
                lambda f: f"{f.load.error_replies}/{f.load.missing_buttons}" if f.load else "?",
            ),
            cell(
                webhook,
                lambda f: f"{f.load.error_replies}/{f.load.missing_buttons}" if f.load else "?",
            ),
            "",
            "",
            "",
        ),
        (
            "leads confirmed/stored/posted",
            "-",
            leads(polling),
            leads(webhook),
            f"{forms}/{forms}/{forms}, no dups",
            check_alone(polling, leads_ok),
            check_alone(webhook, leads_ok),
        ),
        (
            "peak RSS MB per process",
            cell(echo, rss),
            cell(polling, rss),
            cell(webhook, rss),
            "<= 120 MB per worker",
            check_alone(polling, lambda f: bool(f.rss) and max(f.rss) <= 120),
            check_alone(webhook, lambda f: bool(f.rss) and max(f.rss) <= 120),
        ),
    ]
    headers = ("", "echo", "(a) 1 polling", "(b) 2 webhook+PG", "target", "(a)", "(b)")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print()
    print(f"Load: {users} users ({forms} fill in the form), seed {args.seed}")
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(line)
    slow_row = (
        f"{slow.ups:.1f}" if slow.ok else "n/a",
        f"p50 {slow.latency_ms(50):.0f} ms, p99 {slow.latency_ms(99):.0f} ms" if slow.ok else "",
    )
    print(
        f"Slow Bot API (every sendMessage answered after {args.slow_delay} s), (a) only, "
        f"{len(slow_plans(args))} users: updates/s per worker {slow_row[0]} "
        f"(target >= 20: {check_alone(slow, lambda f: f.ups >= 20)}); latency {slow_row[1]}"
        + (f"; errors {slow.errors}" if slow.ok else "")
    )
    print()
    details(echo, polling, webhook, slow)


def details(*all_figures: BotFigures) -> None:
    print("Details:")
    for f in all_figures:
        if not f.ok:
            print(f"  {f.name}: not measured: {f.failure}")
            continue
        assert f.load is not None
        parts = [
            f"{f.load.replies} replies in {f.load.wall:.1f} s",
            f"bot CPU {f.cpu:.1f} s ({100 * f.cpu / f.load.wall:.0f}% of a core,"
            f" {100 * f.threads_cpu / max(f.cpu, 1e-9):.0f}% of it outside the main thread)",
            f"benchmark process (stand-in, users) {100 * f.bench_cpu / f.load.wall:.0f}% of a core",
        ]
        if f.db_cpu is not None:
            parts.append(
                f"PostgreSQL backends {100 * f.db_cpu / f.load.wall:.0f}% of a core (sampled),"
                f" {f.db_sessions} new connections, statements active"
                f" {1000 * (f.db_active or 0) / max(f.load.replies, 1):.1f} ms/update"
            )
        parts.append(
            f"other processes on the machine {100 * f.others_cpu / f.load.wall:.0f}%"
            f" (of which the hypervisor's steal {100 * f.steal_cpu / f.load.wall:.0f}%)"
        )
        if f.handled_ms:
            parts.append(
                f"in-process handling (log) p50 {percentile(f.handled_ms, 50):.0f} ms, "
                f"p95 {percentile(f.handled_ms, 95):.0f} ms"
            )
        if len(f.handled_in_load) > 1:
            parts.append(f"updates handled per worker {f.handled_in_load}")
        if f.forwarded:
            parts.append(
                f"webhook connections opened per worker {f.forwarded}, POSTs answered in p50 "
                f"{percentile(f.post_ms, 50):.0f} ms, p95 {percentile(f.post_ms, 95):.0f} ms"
            )
        if f.post_delays:
            parts.append(
                f"staff post {percentile(f.post_delays, 50):.1f} s (p50), "
                f"{max(f.post_delays):.1f} s (max) after the lead's Confirm, at most "
                f"{f.staff_max_per_minute} posts in any 60 s (Telegram: 20 per group)"
            )
        if f.warning_lines:
            kinds = sorted({warning_kind(line) for line in f.warning_lines})
            parts.append(f"{len(f.warning_lines)} WARNING lines ({'; '.join(kinds)[:300]})")
        if f.load.timed_out:
            parts.append("PHASE TIMED OUT")
        print(f"  {f.name}: " + "; ".join(parts))
        for text in sorted(set(f.error_lines))[:3]:
            print(f"    {text[:200]}")


def profile_area(filename: str, function: str) -> str:
    """Where a profiled function lives: a package, the project, the stdlib, or C."""
    if filename == "~":
        return "waiting in epoll (idle)" if "select.epoll" in function else "C built-ins"
    if match := re.search(r"site-packages/([^/]+)", filename):
        return match.group(1).removesuffix(".py")
    if str(ROOT) in filename:
        return "project: " + Path(filename).relative_to(ROOT).parts[0] + "/"
    if match := re.search(r"python3\.\d+/([^/]+)", filename):
        return "stdlib " + match.group(1).removesuffix(".py")
    return filename


# Synchronous functions (counted once per call, unlike coroutines, which cProfile counts
# once per resumption), per handled update.
PROFILE_COUNTS = {
    "SQL statements": ("sqlalchemy/engine/base.py", "_execute_context"),
    "pool checkouts": ("sqlalchemy/pool/base.py", "_checkout"),
    "new database connections": ("sqlalchemy/pool/base.py", "__connect"),
    "pre-ping round trips": ("sqlalchemy/engine/default.py", "_do_ping_w_event"),
    "commits": ("sqlalchemy/engine/default.py", "do_commit"),
    "rollbacks (incl. reset on return)": ("sqlalchemy/engine/default.py", "do_rollback"),
    "SQLite statements (inline)": ("bot/db/sqlite_inline.py", "execute"),
    "Bot API requests": ("bot/bot_api_request.py", "do_request"),
    "knowledge-base matches": ("bot/matching/__init__.py", "match"),
    "templates rendered": ("jinja2/environment.py", "render"),
}


def warning_kind(line: str) -> str:
    """A log line without its time and numbers, to group repeats."""
    text = line.split(" WARNING ", 1)[-1]
    return re.sub(r"\d+", "N", text)[:90]


def print_profile(path: Path, updates: int, top: int = 15) -> None:
    """The load phase's profile: time by area, counts per update, the costliest functions."""
    if not path.exists():
        print(f"(no profile at {path})")
        return
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, own, _, _) in stats.items():
        by_area[profile_area(filename, function)] += own
    busy = sum(v for k, v in by_area.items() if not k.startswith("waiting"))
    print(f"\nProfile of {path.stem}, load phase only ({updates} updates; cProfile slows it):")
    print(
        f"  own time by area, of {busy:.1f} s busy ({1000 * busy / max(updates, 1):.1f} ms/update):"
    )
    for area, own in sorted(by_area.items(), key=lambda kv: -kv[1])[:14]:
        share = "" if area.startswith("waiting") else f"{100 * own / busy:4.0f}%"
        print(f"    {own:6.2f} s {share:>5}  {area}")
    print("  per update:")
    for label, (where, function) in PROFILE_COUNTS.items():
        calls = sum(v[1] for (f, _, fn), v in stats.items() if fn == function and f.endswith(where))
        if calls:
            print(f"    {calls / max(updates, 1):6.1f}  {label}")
    print(f"  top {top} functions by own time:")
    ranked = sorted(stats.items(), key=lambda kv: -kv[1][2])
    shown = 0
    for (filename, line, function), (_, calls, own, _, _) in ranked:
        if "select.epoll" in function:
            continue
        where = filename if filename == "~" else f"{profile_area(filename, function)}:{line}"
        print(f"    {own:6.2f} s {calls:8d}x  {where} {function}"[:150])
        shown += 1
        if shown == top:
            break


def code_version() -> str:
    """The commit measured, and whether bot/, handlers/ or knowledge/ differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bot", "handlers", "knowledge"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" with local changes" if dirty else "")


def slow_plans(args: argparse.Namespace) -> list[UserPlan]:
    return user_plans(args.slow_users, 0.0, args.slow_questions, args.seed + 1)


async def main_async(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM: stop the bots on the way out, as for Ctrl-C
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    plans = user_plans(args.users, args.form_share, args.questions, args.seed)
    forms = sum(p.is_form for p in plans)
    actions = sum(len(p.steps) for p in plans)
    print(
        f"{args.users} users, {forms} with the form, {actions} messages and presses per bot"
        f" (questions: {sum(lang == 'en' for _, lang in QUESTIONS)} English,"
        f" {sum(lang == 'ar' for _, lang in QUESTIONS)} Arabic, seed {args.seed});"
        f" {os.cpu_count()} CPUs; flood control {'off' if args.no_flood_control else 'on'};"
        f" PostgreSQL over {'a Unix socket' if 'host=/' in args.pg_url else 'TCP'};"
        f" partnerbot at {code_version()}" + ("; PROFILING (slower)" if args.profile else ""),
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench_bot_") as name:
        tmp = Path(name)
        if args.keep is not None:  # keep the logs (and profiles) for a closer look
            tmp = args.keep
            tmp.mkdir(parents=True, exist_ok=False)
        started = time.monotonic()

        def phases_in(folder: Path) -> dict[str, Callable[[], Awaitable[BotFigures]]]:
            return {
                "echo": lambda: bench_echo(args, plans, folder),
                "polling": lambda: bench_polling(args, plans, folder),
                "webhook": lambda: bench_webhook(args, plans, folder),
                "slow": lambda: bench_polling(
                    args, slow_plans(args), folder, name="slow", slow=args.slow_delay
                ),
            }

        runs: dict[str, list[BotFigures]] = {name: [] for name in phases_in(tmp)}
        try:
            # Rounds alternate the bots, so that a slow spell of the machine (it happens on
            # shared hosts) falls on all of them rather than on one.
            for round_ in range(args.rounds):
                folder = tmp if args.rounds == 1 else tmp / f"round{round_ + 1}"
                folder.mkdir(exist_ok=True)
                for name, phase in phases_in(folder).items():
                    if name not in args.only:
                        continue
                    figures = await phase()
                    runs[name].append(figures)
                    print(
                        f"  {name} done ({time.monotonic() - started:.0f} s)"
                        + (f": {round_summary(figures)}" if args.rounds > 1 else ""),
                        flush=True,
                    )
        finally:
            for proc in list(BotProcess.running):
                await proc.stop()
        done = {
            name: median_run(found) if found else BotFigures(name, failure="not run (--only)")
            for name, found in runs.items()
        }
        echo, polling, webhook, slow = done["echo"], done["polling"], done["webhook"], done["slow"]
        report(args, echo, polling, webhook, slow, args.users, forms)
        for figures in (polling, webhook):
            for path in figures.profiles[:1]:  # (b): the first worker stands for both
                print_profile(
                    path, figures.load.replies // len(figures.profiles) if figures.load else 0
                )


def round_summary(figures: BotFigures) -> str:
    if not figures.ok:
        return f"failed: {figures.failure}"
    assert figures.load is not None
    return (
        f"{figures.ups:.1f} updates/s, {figures.cpu_ms:.2f} ms CPU per update, other processes"
        f" {100 * figures.others_cpu / figures.load.wall:.0f}% of a core"
        f" (steal {100 * figures.steal_cpu / figures.load.wall:.0f}%)"
    )


def median_run(runs: list[BotFigures]) -> BotFigures:
    """The run of median throughput (the lower middle of an even count); the first failed
    run if any failed, so that rounds never hide a failure."""
    failed = [f for f in runs if not f.ok]
    if failed:
        first = failed[0]
        first.failure = f"{len(failed)} of {len(runs)} rounds failed; the first: {first.failure}"
        return first
    ranked = sorted(runs, key=lambda f: f.ups)
    return ranked[(len(ranked) - 1) // 2]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--users", type=int, default=None, help="simulated users (default 200)")
    parser.add_argument("--quick", action="store_true", help="40 users, fewer messages each")
    parser.add_argument("--form-share", type=float, default=0.10, help="share filling the form")
    parser.add_argument("--questions", type=int, default=None, help="questions per other user")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--phase-timeout", type=float, default=150.0, help="seconds per load phase (default 150)"
    )
    parser.add_argument("--slow-delay", type=float, default=0.5)
    parser.add_argument(
        "--rounds",
        type=positive,
        default=1,
        help="run the bots this many times, alternating; report each bot's median run",
    )
    parser.add_argument(
        "--webhook-connections",
        type=int,
        default=40,
        help="webhook POSTs in flight at once, as Telegram's max_connections (default 40)",
    )
    parser.add_argument("--no-flood-control", action="store_true", help="serving.flood_control off")
    parser.add_argument(
        "--pg-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench",
        help="the webhook workers' database (default over TCP; a machine that runs PostgreSQL "
        "itself may use its Unix socket: postgresql+asyncpg://postgres@/bench?host=/var/run/postgresql)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        default=bool(os.environ.get("BENCH_PROFILE")),
        help="run partnerbot under cProfile (also BENCH_PROFILE=1)",
    )
    parser.add_argument("--keep", type=Path, help="a new folder to keep bot logs and profiles in")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default={"echo", "polling", "webhook", "slow"},
        help="comma-separated phases to run (echo,polling,webhook,slow); default all",
    )
    args = parser.parse_args(argv)
    if args.users is None:
        args.users = 40 if args.quick else 200
    if args.questions is None:
        args.questions = 6 if args.quick else 8
    args.slow_users = args.users
    args.slow_questions = 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: the bots were stopped, no figures", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
