"""Lead qualification: a score out of 100 and the reasons behind it, from config rules.

Reasons are codes with their values, not sentences: staff read them in their own
language (templates ``staff/lead``), and the stored lead stays language-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import QualificationConfig

Reason = dict[str, Any]  # {"code": "free_mail", "domain": "gmail.com"}


@dataclass(frozen=True)
class Verdict:
    score: int
    qualified: bool
    reasons: tuple[Reason, ...]


def qualify(data: Mapping[str, Any], rules: QualificationConfig) -> Verdict:
    """Start at 100 and deduct; a missing required field disqualifies outright."""
    score = 100
    reasons: list[Reason] = []
    missing = [key for key in rules.required_fields if not data.get(key)]
    if missing:
        reasons.append({"code": "missing_fields", "fields": missing})
        score = 0
    sector = data.get("sector")
    if sector not in rules.qualifying_sectors:
        score -= rules.sector_penalty
        reasons.append({"code": "sector", "sector": sector})
    domain = str(data.get("email", "")).rpartition("@")[2].lower()
    if domain in rules.free_mail_domains:
        score -= rules.free_mail_penalty
        reasons.append({"code": "free_mail", "domain": domain})
    score = max(score, 0)
    qualified = score >= rules.min_score
    if qualified and not reasons:
        reasons.append({"code": "all_passed"})
    elif not qualified:
        reasons.append({"code": "below_minimum", "score": score, "minimum": rules.min_score})
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
        "reasons": [dict(reason) for reason in verdict.reasons],
        "status": "new" if verdict.qualified else "unqualified",
    }
