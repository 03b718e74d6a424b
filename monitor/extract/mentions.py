"""One Aho-Corasick pass over folded text finds companies, places, blockers and cues."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from monitor.extract.lexicon import CATEGORIES
from monitor.extract.places import gazetteer
from monitor.extract.textfold import fold_chinese
from monitor.extract.watchlist import Watchlist


@dataclass(frozen=True, slots=True)
class Entry:
    """What a key means: a category (company, place, blocker, or a cue category)."""

    category: str
    value: str  # entity id, country code, or the cue itself
    exact: str | None  # the form the original text must show (case-sensitive match)
    capitalised: bool  # Latin place names must start with a capital ("turkey" is a bird)
    prefix: bool  # trailing '*': any word ending allowed
    kind: str = ""  # place kind: country, city, short, demonym


class Mention(NamedTuple):
    """A cue, company or place found in a field, at [start, end)."""

    category: str
    value: str
    start: int
    end: int
    kind: str = ""


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef"


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not _is_cjk(char)


class MentionMatcher:
    """Built once per watchlist; ``find`` is read-only and safe to call from threads."""

    def __init__(self, watchlist: Watchlist):
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[Entry]] = {}

        def add(surface: str, entry: Entry) -> None:
            key = fold_chinese(surface).lower()
            if key:
                entries.setdefault(key, []).append(entry)

        for entity, company in watchlist.companies.items():
            for alias in company.all_aliases():
                exact = alias if alias.isupper() and len(alias) <= 4 else None
                add(alias, Entry("company", entity, exact, False, False))
        places, blockers = gazetteer()
        for place in places:
            text = place.text
            latin = not any(_is_cjk(c) for c in text)
            exact = fold_chinese(text) if place.case_sensitive and latin else None
            capitalised = latin and place.kind == "country"
            add(text, Entry("place", place.country, exact, capitalised, False, place.kind))
        for blocker in blockers:
            add(blocker, Entry("blocker", blocker, None, False, False))
        for category, by_lang in CATEGORIES.items():
            for words in by_lang.values():
                for word in words:
                    prefix = word.endswith("*")
                    add(word.rstrip("*"), Entry(category, word, None, False, prefix))
        for key, values in entries.items():
            unique = tuple(dict.fromkeys(values))
            info = (len(key), _is_word_char(key[0]), _is_word_char(key[-1]), unique)
            self._automaton.add_word(key, info)
        self._automaton.make_automaton()

    def find(self, original: str, folded: str) -> list[Mention]:
        """Mentions in ``original`` (``folded`` is its fold(): same length, lower-case)."""
        found: list[Mention] = []
        if not folded:
            return found
        size = len(folded)
        for end_index, (length, latin_start, latin_end, values) in self._automaton.iter(folded):
            start = end_index - length + 1
            end = end_index + 1
            if latin_start and start > 0 and _is_word_char(folded[start - 1]):
                continue
            right_ok = not (latin_end and end < size and _is_word_char(folded[end]))
            for entry in values:
                if not right_ok and not entry.prefix:
                    continue
                if entry.exact is not None and fold_chinese(original[start:end]) != entry.exact:
                    continue
                if entry.capitalised and not original[start].isupper():
                    continue
                found.append(Mention(entry.category, entry.value, start, end, entry.kind))
        return found


def drop_nested(mentions: list[Mention], categories: set[str]) -> list[Mention]:
    """Among mentions of ``categories``, drop any lying inside a longer one (keep others)."""
    spans = sorted(
        ((m.start, m.end) for m in mentions if m.category in categories),
        key=lambda s: (s[0], -s[1]),
    )
    kept: list[Mention] = []
    for m in mentions:
        if m.category not in categories:
            kept.append(m)
            continue
        inside = any(a <= m.start and m.end <= b and (b - a) > (m.end - m.start) for a, b in spans)
        if not inside:
            kept.append(m)
    return kept
