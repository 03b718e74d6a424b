"""The pure diff: an item's facts against what is known (FACTS.md "Scoring")."""

from __future__ import annotations

import pytest

from monitor.changes import KnownFact, decide, merge_item_facts
from monitor.types import Evidence, Fact

MX_PLANNED = Fact("alibaba", "region", "MX", "planned", Evidence("plans Mexico", 0, 12))
MX_LIVE = Fact("alibaba", "region", "MX", "live", Evidence("opened Mexico", 20, 33))
R2_LIVE = Fact("deepseek", "model", "DeepSeek R2", "live")
KEY_MX = ("alibaba", "region", "mx")
KEY_R2 = ("deepseek", "model", "deepseekr2")


@pytest.mark.parametrize(
    ("facts", "known", "expected"),
    [
        ([MX_PLANNED], {}, ["new"]),
        ([MX_LIVE], {}, ["new"]),
        ([MX_PLANNED], {KEY_MX: KnownFact(1, "planned", "observed")}, ["evidence"]),
        ([MX_LIVE], {KEY_MX: KnownFact(1, "planned", "observed")}, ["live"]),
        ([MX_LIVE], {KEY_MX: KnownFact(1, "live", "baseline")}, ["evidence"]),
        ([MX_PLANNED], {KEY_MX: KnownFact(1, "live", "observed")}, ["evidence"]),
        ([MX_LIVE], {KEY_MX: KnownFact(1, "planned", "observed", dismissed=True)}, ["evidence"]),
        ([R2_LIVE], {KEY_R2: KnownFact(2, "planned", "baseline")}, ["live"]),
        ([MX_PLANNED, MX_LIVE, R2_LIVE], {}, ["new", "new"]),
    ],
    ids=[
        "unknown-planned", "unknown-live", "known-planned-again", "planned-to-live",
        "baseline-live", "live-reported-planned", "dismissed", "baseline-planned-to-live",
        "one-decision-per-triple",
    ],
)  # fmt: skip
def test_decide(facts: list[Fact], known: dict, expected: list[str]) -> None:
    assert [d.action for d in decide(facts, known)] == expected


def test_merge_keeps_furthest_status_with_its_evidence() -> None:
    (merged,) = merge_item_facts(
        [MX_PLANNED, Fact("alibaba", "region", "mx", "live", MX_LIVE.evidence)]
    )
    assert merged.status == "live" and merged.evidence == MX_LIVE.evidence
    (merged,) = merge_item_facts([MX_LIVE, MX_PLANNED])
    assert merged is MX_LIVE


def test_value_spellings_are_one_triple() -> None:
    same = [
        Fact("deepseek", "model", v, "planned")
        for v in ("DeepSeek-R2", "deepseek r2", "DeepSeek R2")
    ]
    assert len(merge_item_facts(same)) == 1
    decisions = decide(same, {KEY_R2: KnownFact(2, "planned", "baseline")})
    assert [d.action for d in decisions] == ["evidence"]


def test_unusable_facts_are_ignored() -> None:
    facts = [
        Fact("alibaba", "region", "MX", "rumoured"),
        Fact("alibaba", "model", "---", "live"),
        Fact("alibaba", "model", "x" * 201, "live"),
    ]
    assert decide(facts, {}) == []
