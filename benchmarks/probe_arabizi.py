"""How many messages of each kind in a probe set the bot reads as Arabizi.

    python benchmarks/probe_arabizi.py [benchmarks/probes/arabizi_2026-12-07.yaml]

A probe set is a YAML list of ``{q: message, kind: arabizi | english | other}``: the
Arabizi ones should be read as Arabizi (and answered in Arabic), the others not.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

from bot.knowledge import load_knowledge_base
from bot.matching import Matcher

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "benchmarks/probes/arabizi_2026-12-07.yaml"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    items = yaml.safe_load(path.read_text("utf-8"))
    matcher = Matcher.from_knowledge_base(load_knowledge_base(), learned=False)
    read = Counter(item["kind"] for item in items if matcher.is_arabizi(item["q"]))
    total = Counter(item["kind"] for item in items)
    for kind in sorted(total):
        print(f"{kind}: read as Arabizi {read[kind]} of {total[kind]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
