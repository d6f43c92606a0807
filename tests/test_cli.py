"""The command-line contract that maintainers and tools rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.knowledge import load_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
# A bare environment, but the suite's own cache (tests/conftest.py).
ENV = {
    "PATH": "/usr/bin:/bin",
    "PYTHONPATH": str(ROOT),
    "PARTNERBOT_CACHE_DIR": os.environ["PARTNERBOT_CACHE_DIR"],
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=ENV,
    )


def test_ask_json_batch_keeps_order_and_fields() -> None:
    questions = ["what is expert secondment?", "سعر الذهب اليوم", "", "ما هي خيارات الشراكة؟"]
    result = run("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == [q for q in questions if q]
    assert rows[0]["id"] == "expert-secondment" and rows[0]["lang"] == "en"
    assert rows[1]["id"] is None and rows[1]["lang"] == "ar"
    assert rows[2]["id"] == "partnership-options"
    assert {"question", "lang", "id", "score", "suggestions"} <= set(rows[0])


def test_ask_plain_text_answer() -> None:
    result = run("ask", "--lang", "ar", "what", "is", "expert", "secondment")
    assert result.returncode == 0
    assert "[expert-secondment]" in result.stdout
    assert "الإنتربول" in result.stdout


def test_ask_and_kb_check_do_not_import_telegram() -> None:
    code = (
        "import sys, io\n"
        "from bot.cli import main\n"
        "sys.stdout = io.StringIO()\n"
        "main(['ask', '--json', 'hello'])\n"
        "main(['kb', 'check'])\n"
        "sys.stdout = sys.__stdout__\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'sqlalchemy')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_kb_check_summary_and_errors(tmp_path: Path) -> None:
    ok = run("kb", "check")
    assert ok.returncode == 0
    entries = len(load_knowledge_base())
    assert f"en: {entries} entries" in ok.stdout and f"ar: {entries} entries" in ok.stdout
    (tmp_path / "bad.yaml").write_text("- id: x\n  title: {en: X}\n", encoding="utf-8")
    bad = run("kb", "check", str(tmp_path))
    assert bad.returncode == 1
    assert "entry 'x', field 'title': missing language 'ar'" in bad.stderr


def test_bad_config_stops_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("matching:\n  answer_treshold: 80\n", encoding="utf-8")
    result = run("--config", str(config), "ask", "hello")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "matching.answer_treshold: unknown key" in result.stderr


def test_run_without_token_says_how_to_fix(tmp_path: Path) -> None:
    result = run("run")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr


def test_kb_unanswered_lists_most_frequent_first(tmp_path: Path) -> None:
    import asyncio

    from bot.db.migrate import upgrade_database
    from bot.db.store import Store

    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    upgrade_database(url)

    async def fill() -> None:
        store = Store.from_url(url)
        for text in ["price of gold", "Price of gold?", "jobs at interpol", "price of gold"]:
            await store.record_unanswered(1, text, "en", "fallback", 10.0)
        await store.close()

    asyncio.run(fill())
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: {url}\n", encoding="utf-8")
    result = run("--config", str(config), "kb", "unanswered")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "3" and "price of gold" in lines[0].lower()
    assert lines[1].split()[0] == "1" and "jobs at interpol" in lines[1]


def test_local_chat_runs_scripted_and_presses_buttons_by_number(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}\n", encoding="utf-8"
    )
    script = "what is expert secondment?\n1\n/apply\nACME\n/cancel\n"
    result = run("--config", str(config), "chat", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you> what is expert secondment?" in out
    assert "[1] Partnership options" in out  # buttons as numbered choices
    # "1" pressed the first button under the answer: the partnership options entry.
    after_press = out.split("you> 1", 1)[1]
    assert after_press.lstrip().startswith("[bot]\nPartnership options")
    assert "What is the name of your organisation?" in out
    assert "Organisation" in out.split("you> /cancel", 1)[1]  # says what was discarded
    assert out.rstrip().endswith("bye")


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path) -> None:
    """`partnerbot ask --json - < questions | head -1`: the pipe closes while answers are
    still written; the command stops without a traceback, as a shell tool does."""
    questions = tmp_path / "questions.txt"
    questions.write_text("".join(f"what is expert secondment {n}?\n" for n in range(20_000)))
    with questions.open("rb") as stdin:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ask", "--json", "-"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=ENV,
        )
        assert process.stdout is not None and process.stderr is not None
        assert json.loads(process.stdout.readline())["id"] == "expert-secondment"
        process.stdout.close()
        errors = process.stderr.read().decode()
        assert process.wait(timeout=60) == 141
    assert "Traceback" not in errors and "Broken pipe" not in errors, errors
