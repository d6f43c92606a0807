"""The ``partnerbot`` command line.

``ask`` and ``kb check`` must start fast and work without the Telegram stack,
so everything heavier is imported inside the command that needs it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.knowledge import KnowledgeBase, KnowledgeBaseError, load_knowledge_base

DESCRIPTION = """\
partnerbot answers prospective partners' questions in Arabic and English and
collects partnership leads for staff.

commands:
  chat            talk to the bot in this terminal (no token, no network)
  ask TEXT...     answer one question (or '-' for one question per stdin line)
  kb check [PATH] validate the knowledge base; print a summary or the errors
  kb explain TEXT show how a question is matched and why it is answered or not
  kb test FILE... run your own question set; hits, misses, confusions, shares
  kb unanswered   list stored unanswered questions, most frequent first
  db upgrade      apply database migrations
  run             run the bot on Telegram with long polling (needs a token)
"""

CONFIG_HELP = "config file (default: ./config.yaml when present, else built-in defaults)"


def build_parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the command; the subcommands' copy
    # must not reset a value given before the command, hence SUPPRESS.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help=CONFIG_HELP,
    )
    parser = argparse.ArgumentParser(
        prog="partnerbot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, default=None, help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser(
        "ask",
        parents=[common],
        help="answer one question from the knowledge base",
        description="Answer a question. With '-', read one question per line from stdin.",
    )
    ask.add_argument("--lang", choices=["ar", "en"], help="answer language (default: detected)")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    ask.add_argument("text", nargs="+", help="the question, or '-' to read stdin")

    kb = commands.add_parser("kb", parents=[common], help="knowledge-base tools")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    check = kb_commands.add_parser(
        "check",
        parents=[common],
        help="validate the knowledge base",
        description="Validate the knowledge base. Exit 1 and list every problem, or print a "
        "summary of entries per language and exit 0.",
    )
    check.add_argument("path", nargs="?", type=Path, help="folder or file (default: from config)")
    unanswered = kb_commands.add_parser(
        "unanswered",
        parents=[common],
        help="questions the bot could not answer, by count",
    )
    unanswered.add_argument("--limit", type=int, default=50, help="how many rows (default 50)")
    explain = kb_commands.add_parser(
        "explain",
        parents=[common],
        help="show how one question is matched and why it is answered or not",
        description="Show, for a maintainer, how the matcher reads a question: folded text, "
        "words, stems, synonyms and idioms, out-of-scope cues, the top 5 entries with their "
        "scores, and the decision with the threshold that decided it.",
    )
    explain.add_argument("--lang", choices=["ar", "en"], help="answer language (default: detected)")
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.add_argument("text", nargs="+", help="the question")
    kb_test = kb_commands.add_parser(
        "test",
        parents=[common],
        help="run your own question set against the knowledge base",
        description="Match every question of YAML files in the dev sample's format (items "
        "with q, lang: ar|en, expect: [entry ids], [] for out of scope) and print hits, "
        "misses and confusions per entry and shares per language. Exit 1 when, in either "
        "language, the share answered right (in scope) or refused (out of scope) is below "
        "--min-correct; exit 2 on an invalid file.",
    )
    kb_test.add_argument("files", nargs="+", type=Path, help="question files (YAML)")
    kb_test.add_argument(
        "--min-correct",
        type=float,
        default=0.9,
        help="least share (0-1) answered right / refused, per language (default 0.9)",
    )
    kb_test.add_argument(
        "--failures", action="store_true", help="list every question not answered right"
    )

    db = commands.add_parser("db", parents=[common], help="database tools")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", parents=[common], help="apply Alembic migrations")

    commands.add_parser(
        "chat",
        parents=[common],
        help="local terminal chat with the real bot, no token",
        description="Chat with the bot in this terminal through an in-process stand-in for "
        "the Telegram Bot API. Buttons appear as numbered choices: type the number. "
        "Works with piped input, one message per line.",
    )
    run = commands.add_parser(
        "run",
        parents=[common],
        help="run on Telegram (long polling, or a webhook with --webhook)",
        description="Run one bot process. Needs TELEGRAM_BOT_TOKEN or telegram.token. "
        "Updates are stored in the database before they are handled, so several "
        "processes can serve one bot; see the README's deployment section.",
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve Telegram's webhook (webhook.* in the config; PARTNERBOT_WEBHOOK_SECRET)",
    )
    run.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        return _dispatch(args, config)
    except ConfigError as exc:
        print(f"partnerbot: config error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeBaseError as exc:
        print(
            f"partnerbot: the knowledge base has {len(exc.problems)} problem(s):", file=sys.stderr
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`partnerbot ask --json - < questions | head`): nothing
        # more to say, and the flush at exit must not fail on the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE


ASK_BATCH = 256  # answers written at once by `ask -`


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    if args.command == "ask":
        return _ask(args, config)
    if args.command == "kb" and args.kb_command == "check":
        kb = load_knowledge_base(args.path or config.bot.knowledge_path)
        return _print_summary(kb)
    if args.command == "kb" and args.kb_command == "explain":
        from bot.kb_tools import run_explain

        return run_explain(config, " ".join(args.text), args.lang, as_json=args.json)
    if args.command == "kb" and args.kb_command == "test":
        from bot.kb_tools import run_test

        return run_test(config, args.files, args.min_correct, failures=args.failures)
    if args.command == "kb" and args.kb_command == "unanswered":
        from bot.maintenance import print_unanswered

        return print_unanswered(config, args.limit)
    if args.command == "db":
        from bot.db.migrate import upgrade_database

        upgrade_database(config.database.url)
        print("database is up to date")
        return 0
    if args.command == "chat":
        from bot.local_chat import run_local_chat

        return run_local_chat(config)
    if args.command == "run":
        from bot.serve import run

        return run(config, webhook=args.webhook, log_json=args.log_json)
    raise AssertionError(f"unhandled command {args.command}")


def _ask(args: argparse.Namespace, config: Config) -> int:
    from bot.answers import plain_answer
    from bot.matching import Matcher

    kb = load_knowledge_base(config.bot.knowledge_path)
    matcher = Matcher.from_knowledge_base(kb, config.matching.thresholds())
    lines = sys.stdin if args.text == ["-"] else [" ".join(args.text)]
    encode = json.JSONEncoder(ensure_ascii=False).encode
    out: list[str] = []
    for line in lines:
        question = line.strip()
        if not question:
            continue
        result = matcher.match(question, args.lang)
        if args.json:
            out.append(encode({**result.as_dict(), "also": list(result.also)}))
        else:
            out.append(plain_answer(kb, result))
        if len(out) >= ASK_BATCH:  # one write per batch, not per answer
            sys.stdout.write("\n".join(out) + "\n")
            out.clear()
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()
    return 0


def _print_summary(kb: KnowledgeBase) -> int:
    print(f"knowledge base OK: {len(kb)} entries, {len(kb.menu())} in the topics menu")
    for lang, (entries, variants) in kb.summary().items():
        print(f"  {lang}: {entries} entries, {variants} question variants")
    for name, phrases in kb.intents.items():
        counts = ", ".join(f"{lang} {len(p)}" for lang, p in phrases.items())
        print(f"  intent {name}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
