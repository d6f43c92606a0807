"""Lead qualification: a score out of 100 and the reasons behind it, from config rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.config import QualificationConfig


@dataclass(frozen=True)
class Verdict:
    score: int
    qualified: bool
    reasons: tuple[str, ...]


def qualify(data: Mapping[str, Any], rules: QualificationConfig) -> Verdict:
    """Start at 100 and deduct; a missing required field disqualifies outright."""
    score = 100
    reasons: list[str] = []
    missing = [key for key in rules.required_fields if not data.get(key)]
    if missing:
        reasons.append(f"missing required field(s): {', '.join(missing)}")
        score = 0
    sector = data.get("sector")
    if sector not in rules.qualifying_sectors:
        score -= rules.sector_penalty
        reasons.append(f"sector '{sector}' is not a qualifying sector")
    domain = str(data.get("email", "")).rpartition("@")[2].lower()
    if domain in rules.free_mail_domains:
        score -= rules.free_mail_penalty
        reasons.append(f"free-mail address ({domain})")
    score = max(score, 0)
    qualified = score >= rules.min_score
    if qualified and not reasons:
        reasons.append("all rules passed")
    elif not qualified:
        reasons.append(f"score {score} is below the minimum of {rules.min_score}")
    return Verdict(score, qualified, tuple(reasons))
