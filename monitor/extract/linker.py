"""A learned second reader for regions: which (company, country) pairs of an item are sites.

The hand rules of ``regions.py`` decide, sentence by sentence, whether a place is the
company's infrastructure. Every new blind set brought phrasings no rule had seen (19 sets:
chips and models were solved, region recall on unseen text stayed at 0.76-0.89), while
almost every missed region had its company and its place in one sentence of the item. This
module scores each such (entity, country) pair with a logistic regression over words and
cue categories, trained on the labelled corpora (``bench/train_linker.py``), and adds the
pairs the rules did not give when the model is confident. The rules' own answer is one of
the features, so the model learns where they are reliable; it never removes a rule's fact.

One instance per pair and item, not per sentence: the gold labels say what the item
asserts, not which sentence says it, and a per-sentence model trained on item labels was
overconfident (leave-one-set-out region precision 0.66-0.82 against 0.87-0.94 per pair).

Weights live in ``monitor/data/linker.json`` (feature -> weight for the site model and for
the status model, and the threshold), read by linker_model.py. A watchlist's
``region_linker: false`` turns it off.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from monitor.extract.cues import clause_cues, status_of
from monitor.extract.linker_model import LinkerModel
from monitor.extract.mentions import Mention
from monitor.extract.rules import Collector, ReadText, sentence_evidence
from monitor.extract.sentences import clause_spans
from monitor.types import Fact, value_key

# cue categories whose presence and values are features
CUES = frozenset(
    [
        "infra",
        "not_infra",
        "serve",
        "deploy",
        "hardware",
        "planned",
        "planned_weak",
        "live",
        "negation",
        "hypothetical",
        "regulatory",
        "consumer",
        "existing",
        "continuing",
        "timed",
        "neutral",
    ]
)
_ACTORS = frozenset(["company", "product"])
_SITE_CUES = frozenset(["infra", "serve", "deploy", "hardware"])
_DOUBTING = frozenset(["negation", "hypothetical"])
_TENSES = frozenset(["planned", "planned_weak", "live", "existing", "continuing", "timed"])
_BETWEEN = CUES | {"company", "place", "product"}
# Latin words, or runs of CJK characters (read as bigrams)
_TOKEN = re.compile(r"[a-zà-ÿœ0-9]+|[\u3400-\u9fff]+")


def words_in(folded: str, start: int, end: int, limit: int) -> list[str]:
    """The first ``limit`` Latin words and Chinese character bigrams of
    ``folded[start:end]``, in order (a word cut by the window's edge counts as what is
    inside)."""
    out: list[str] = []
    for found in _TOKEN.finditer(folded, start, end):
        word = found.group()
        if "\u3400" <= word[0] <= "\u9fff" and len(word) > 1:
            wanted = min(len(word) - 1, limit - len(out))
            out.extend([word[i : i + 2] for i in range(wanted)])
        else:
            out.append(word)
        if len(out) >= limit:
            break
    return out


def last_words(folded: str, start: int, end: int, count: int) -> list[str]:
    """The last ``count`` words and bigrams of ``folded[start:end]``, in order."""
    found: list[str] = _TOKEN.findall(folded, start, end)
    out: list[str] = []
    index = len(found) - 1
    while index >= 0 and len(out) < count:
        word = found[index]
        index -= 1
        if "\u3400" <= word[0] <= "\u9fff" and len(word) > 1:
            i = len(word) - 2
            while i >= 0 and len(out) < count:
                out.append(word[i : i + 2])
                i -= 1
        else:
            out.append(word)
    out.reverse()
    return out


def _bucket(n: int) -> str:
    """floor(log2(n + 1)), at most 8, as text."""
    return str(min(8, (n + 1).bit_length() - 1))


@dataclass(slots=True)
class Pair:
    """An (entity, country) pair of an item: its features over every sentence naming both,
    and the sentences (spans of the read text), first first."""

    features: set[str]
    # sentence start, end, its place, and its mentions
    sentences: list[tuple[int, int, Mention, list[Mention]]]


def pair_features(
    fld: ReadText,
    sentences: Iterable[tuple[int, int, list[Mention]]],
    lang: str,
    title_end: int,
    lead: str | None,
    rule_pairs: set[tuple[str, str]],
    skip_rule_pairs: bool = False,
) -> dict[tuple[str, str], Pair]:
    """Features of every (entity, country) pair sharing one of ``sentences`` (start, end,
    mentions: the sentences of ``fld`` that name a place, questions left out).

    The actors of a sentence are its companies, programmes and the developers of the
    models and chips it names; a sentence with a place and no actor belongs to the item's
    first company (``lead``: "the company", "it"). ``rule_pairs`` are the pairs the rules
    gave the item; with ``skip_rule_pairs`` they get no features (the linker only adds)."""
    pairs: dict[tuple[str, str], Pair] = {}
    folded = fld.folded
    for s_start, s_end, sentence in sentences:
        places = [m for m in sentence if m.category == "place"]
        actors = [(m.value, m.start, m.end, m.category) for m in sentence if m.category in _ACTORS]
        n_lo = bisect_left(fld.name_starts, s_start)
        for name in fld.names[n_lo : bisect_left(fld.name_starts, s_end)]:
            actors.append((name.spec.entity, name.start, name.end, "name_" + name.spec.kind))
        via_lead = not actors and lead is not None
        if via_lead:
            assert lead is not None
            actors = [(lead, s_start, s_start, "lead")]
        if not actors:
            continue
        # each (entity, country) once a sentence: its nearest actor and place mentions
        nearest: dict[tuple[str, str], tuple[int, Mention, tuple[str, int, int, str]]] = {}
        for place in places:
            for actor in actors:
                key = (actor[0], place.value)
                if skip_rule_pairs and key in rule_pairs:
                    continue  # the linker only adds: a rule's pair needs no score
                gap = abs(actor[1] - place.start)
                closest = nearest.get(key)
                if closest is None or gap < closest[0]:
                    nearest[key] = (gap, place, actor)
        if not nearest:
            continue
        base = _sentence_features(sentence, places, actors, lang, s_start < title_end)
        for _gap, place, (entity, a_start, a_end, source) in nearest.values():
            features = set(base)
            features.update(
                _pair_features(folded, sentence, place, entity, a_start, a_end, s_start, s_end)
            )
            features.update(
                ("src=" + source, "kind=" + (place.kind or "?"), f"lead={entity == lead}")
            )
            if via_lead:
                features.add("vialead")
            key = (entity, place.value)
            known = pairs.get(key)
            if known is None:
                pairs[key] = Pair(features, [(s_start, s_end, place, sentence)])
            else:
                known.features |= features
                if known.sentences[-1][0] != s_start:
                    known.sentences.append((s_start, s_end, place, sentence))
    for key, pair in pairs.items():
        pair.features.add(f"nsent={min(4, len(pair.sentences))}")
        pair.features.add(f"rule={key in rule_pairs}")
    return pairs


def _sentence_features(
    sentence: list[Mention],
    places: list[Mention],
    actors: list[tuple[str, int, int, str]],
    lang: str,
    in_title: bool,
) -> set[str]:
    features = {"bias", "lang=" + lang}
    for m in sentence:
        if m.category in CUES:
            features.add("cat=" + m.category)
            features.add(f"catv={m.category}:{m.value}")
    features.add(f"ncomp={min(3, len({a[0] for a in actors}))}")
    features.add(f"nplace={min(4, len({p.value for p in places}))}")
    if in_title:
        features.add("title")
    return features


def _pair_features(
    folded: str,
    sentence: list[Mention],
    place: Mention,
    entity: str,
    a_start: int,
    a_end: int,
    s_start: int,
    s_end: int,
) -> list[str]:
    """Order, distance, the cues and words between the actor and the place, and the words
    around the place."""
    if a_end <= place.start:
        lo, hi, order = a_end, place.start, "order=cp"
    elif place.end <= a_start:
        lo, hi, order = place.end, a_start, "order=pc"
    else:
        lo, hi, order = place.start, place.start, "order=ov"
    out = [order, "dist=" + _bucket(hi - lo)]
    between = [m for m in sentence if m.start >= lo and m.end <= hi]
    for m in between:
        if m.category in _BETWEEN:
            out.append("bc=" + m.category)
        if m.category in CUES:
            out.append(f"bv={m.category}:{m.value}")
        if m.category == "company" and m.value != entity:
            out.append("otherco_between")
    # (the last words between, their number, and the words around the actor were
    # tried: no gain)
    out.extend("bw=" + t for t in words_in(folded, lo, hi, 12))
    before = last_words(folded, max(s_start, place.start - 30), place.start, 3)
    out.extend("pw-=" + t for t in before)
    out.extend("pw+=" + t for t in words_in(folded, place.end, min(s_end, place.end + 30), 3))
    return out


def site_sentence(pair: Pair) -> tuple[int, int, Mention, list[Mention]]:
    """The pair's first sentence with an infrastructure, serving or deployment cue (else
    its first): start, end, the place, and the sentence's mentions."""
    for sentence in pair.sentences:
        if any(m.category in _SITE_CUES for m in sentence[3]):
            return sentence
    return pair.sentences[0]


def status_features(
    fld: ReadText, s_start: int, s_end: int, place: Mention, sentence: list[Mention], lang: str
) -> set[str]:
    """What tells a site's status: the rules' reading of the sentence and of the place's
    clause (``status_of``), the tense cues of each, and the nearest before and after."""
    clause = clause_cues(fld, clause_spans(fld.text, s_start, s_end), place.start)
    features = {"bias", "lang=" + lang}
    status, strength = status_of(sentence, place.start, place.end)
    features.add(f"ss={status}{strength}")
    status, strength = status_of(clause, place.start, place.end)
    features.add(f"sc={status}{strength}")
    before = after = None
    for c in sentence:
        if c.category not in _TENSES:
            continue
        features.add(f"sv={c.category}:{c.value}")
        if c.end <= place.start:
            before = c
        elif after is None and c.start >= place.end:
            after = c
    features.update(f"cv={c.category}:{c.value}" for c in clause if c.category in _TENSES)
    if before is not None:
        features.add(f"nb={before.category}:{before.value}")
    if after is not None:
        features.add(f"na={after.category}:{after.value}")
    return features


class RuleReading(NamedTuple):
    """What the rules read of an item (Extractor._by_rules), for the linker."""

    found: Collector
    fld: ReadText
    lead: str | None  # the first company named
    text_offset: int  # where the text starts in fld.text (after the title and a newline)
    placed_sentences: list[tuple[int, int, list[Mention]]]  # start, end, mentions


def _pairs(
    read: RuleReading, facts: list[Fact], lang: str, skip_rule_pairs: bool = False
) -> dict[tuple[str, str], Pair]:
    rule_pairs = {(f.entity, f.value) for f in facts if f.kind == "region"}
    return pair_features(
        read.fld,
        read.placed_sentences,
        lang,
        read.text_offset,
        read.lead,
        rule_pairs,
        skip_rule_pairs,
    )


def linked_regions(
    read: RuleReading, facts: list[Fact], lang: str, model: LinkerModel
) -> list[Fact]:
    """The rules' facts plus the regions the linker is confident of. It never removes a
    rule's region: a threshold for that gained nothing leave-one-set-out, and scoring
    only the other pairs cuts the linker's cost by ~40 %."""
    pairs = _pairs(read, facts, lang, skip_rule_pairs=True)
    if not pairs:
        return facts
    added: list[Fact] = []
    for (entity, country), pair in pairs.items():
        if model.probability(pair.features) < model.add:
            continue
        if read.found.denies((entity, "region", value_key(country))):
            continue
        s_start, s_end, place, cues = site_sentence(pair)
        if any(c.category in _DOUBTING for c in cues):
            continue  # the sentence negates or supposes
        live = model.live(status_features(read.fld, s_start, s_end, place, cues, lang))
        evidence = sentence_evidence(read.fld.text, read.text_offset, s_start, s_end)
        added.append(Fact(entity, "region", country, "live" if live else "planned", evidence))
    return facts + added if added else facts


def training_pairs(
    read: RuleReading, facts: list[Fact], lang: str
) -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """Every pair's features and its site sentence's status features (for training)."""
    pairs = {}
    for key, pair in _pairs(read, facts, lang).items():
        s_start, s_end, place, cues = site_sentence(pair)
        status = status_features(read.fld, s_start, s_end, place, cues, lang)
        pairs[key] = (pair.features, status)
    return pairs
