"""Lead qualification: a score out of 100 and the reasons behind it, from config rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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


def lead_record(
    state: Mapping[str, Any],
    rules: QualificationConfig,
    *,
    user_id: int,
    username: str | None,
    source: str | None,
) -> dict[str, Any]:
    """A finished form as the values of a lead row, with its verdict."""
    data = state["data"]
    verdict = qualify(data, rules)
    return {
        "user_id": user_id,
        "username": username,
        "language": state["lang"],
        "source": source,
        "organisation": data["organisation"],
        "sector": data["sector"],
        "sector_detail": data.get("sector_detail"),
        "country": data["country"],
        "name": data["name"],
        "role": data["role"],
        "email": data["email"],
        "phone": data.get("phone"),
        "interests": data["interests"],
        "message": data.get("message"),
        "consent_at": datetime.fromisoformat(data["consent"]),
        "score": verdict.score,
        "qualified": verdict.qualified,
        "reasons": list(verdict.reasons),
        "status": "new" if verdict.qualified else "unqualified",
    }
