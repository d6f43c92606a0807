"""Sectors typed in the form are read by meaning, in both languages (knowledge/sectors.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBaseError, load_knowledge_base
from bot.lead_form import sector_of
from bot.local_api import LocalUser
from tests.conftest import Harness
from tests.test_lead_form import submit_form


@pytest.mark.parametrize(
    ("typed", "sector"),
    [
        # The page's own words, Maghrebi usage, loanwords and everyday variants.
        ("الأمن السيبري", "cybersecurity"),
        ("الأمن المعلوماتي", "cybersecurity"),
        ("سايبر", "cybersecurity"),
        ("الأمن الرقمي", "cybersecurity"),
        ("cyber", "cybersecurity"),
        ("Cyber-security consulting", "cybersecurity"),
        ("شركة أمن سيبراني", "cybersecurity"),
        ("الاتصالات", "it"),
        ("Telecoms operator", "it"),
        ("فنتك", "banking"),
        ("Fintech", "banking"),
        ("البنوك", "banking"),
        ("banks", "banking"),
        ("مصرف إسلامي", "banking"),
        ("جامعة", "academia"),
        ("الأوساط الأكاديمية", "academia"),
        ("Information security", "cybersecurity"),
        ("IT", "it"),
        ("زراعة", "other"),
        ("Agriculture", "other"),
    ],
)
def test_typed_sector_is_read_by_meaning(typed: str, sector: str) -> None:
    assert sector_of(typed) == sector


def test_unknown_sector_key_is_reported(tmp_path: Path) -> None:
    (tmp_path / "sectors.yaml").write_text("farming: [tractors]\nit: tech\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(tmp_path)
    found = [str(p) for p in info.value.problems]
    assert any("farming" in p and "unknown sector" in p for p in found)
    assert any("'it'" in p and "non-empty list" in p for p in found)


async def test_a_typed_arabic_sector_reaches_staff_as_that_sector(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await submit_form(bot, arabic_user, "ar", sector="typed:الأمن السيبري")
    [lead] = await bot.store.all_leads()
    assert (lead.sector, lead.sector_detail, lead.qualified) == ("cybersecurity", None, True)
    assert len(bot.staff_posts()) == 1
