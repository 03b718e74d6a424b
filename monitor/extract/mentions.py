"""One Aho-Corasick pass over folded text finds companies, places, blockers and cues."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import ahocorasick

from monitor.extract.lexicon import CATEGORIES
from monitor.extract.places import gazetteer
from monitor.extract.textfold import fold_chinese, has_cjk
from monitor.extract.watchlist import Watchlist


class Entry(NamedTuple):
    """What a key means: a category (company, place, blocker, or a cue category).

    A tuple, not a dataclass: tens of thousands are built and deduplicated per extractor
    (a tuple hashes and compares in C)."""

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


_CJK = re.compile("[\u3000-\u9fff\uf900-\uffef]")  # any character _is_cjk accepts


# Latin scanning: every character that cannot continue a Latin word (punctuation, spaces,
# and, by the regex below, everything from U+3000 on) becomes a space, in the text and in
# the keys alike. A key that must start (end) at a word boundary carries a space before
# (after) it, so the automaton itself enforces the boundary and words inside other words
# ("gion" in "region", a town inside a word) are never reported. Same length: offsets hold.
_NON_WORD = {c: " " for c in range(0x3000) if not chr(c).isalnum()}
_JOINTS = re.compile(r"[\s\-‐‑–]+")
_WIDE = re.compile(r"[^\x00-\u2fff]")
# The fast route: str.translate looks every character of a non-ASCII string up in a dict
# (15 us for a 400-character Chinese item); bytes.translate is a C table. Text whose
# characters are all below U+0100 or at U+3000 and above (ASCII, French, Chinese) is
# encoded as Latin-1 with one "?" (a non-word character) for each wide character.
_BYTE_WORD = bytes(b if chr(b).isalnum() else 0x20 for b in range(256))
_MIDDLE = re.compile("[\u0100-\u2fff]")  # characters the Latin-1 route cannot carry
# ... the non-word ones among them (curly quotes, dashes) are blanked first by a regex
_MIDDLE_NON_WORD = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x100, 0x3000) if not chr(c).isalnum()) + "]"
)


def _latin_scan(folded: str) -> str:
    if not folded.isascii() and _MIDDLE.search(folded) is not None:
        folded = _MIDDLE_NON_WORD.sub(" ", folded)
        if _MIDDLE.search(folded) is not None:  # letters such as "ł", "ấ": the dict route
            scan = folded.translate(_NON_WORD)
            return f" {_WIDE.sub(' ', scan)} "
    scan = folded.encode("latin-1", "replace").translate(_BYTE_WORD).decode("latin-1")
    return f" {scan} "


def _utf16(text: str) -> str:
    """Each character as two code units of U+0000-U+00FF (its UTF-16 bytes); a
    character beyond U+FFFF takes four."""
    return text.encode("utf-16-be", "surrogatepass").decode("latin-1")


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not _is_cjk(char)


class MentionMatcher:
    """Built once per watchlist; ``find`` is read-only and safe to call from threads."""

    def __init__(self, watchlist: Watchlist, family_keys: dict[str, list[int]] | None = None):
        # Two automata: keys with Chinese characters slow down scanning of Latin text
        # 5x (the root fans out to thousands of characters), so the Chinese automaton
        # only runs over text that has Han characters.
        self._latin = ahocorasick.Automaton()
        self._han = ahocorasick.Automaton()
        # The Chinese keys again, each character written as its two UTF-16 bytes: a trie
        # node keeps its children in a list searched one by one, and the root of the
        # Chinese automaton has ~2,000 (the first characters of the keys); split in bytes,
        # no node has more than 256 and the scan is ~8x faster. ``_han`` stays for text
        # with characters beyond U+FFFF (four bytes: offsets would not halve).
        self._han_wide = ahocorasick.Automaton()
        entries: dict[str, list[Entry]] = {}

        def add(surface: str, entry: Entry) -> None:
            key = fold_chinese(surface).lower()
            if key:
                entries.setdefault(key, []).append(entry)

        for entity, company in watchlist.companies.items():
            for alias in company.all_aliases():
                exact = alias if alias.isupper() and len(alias) <= 4 else None
                add(alias, Entry("company", entity, exact, False, False))
            for product in company.products:  # ties short model names to the company
                add(product, Entry("product", entity, None, False, False))
        places, blockers = gazetteer()
        # A town written like a word the extractor reads otherwise is not a town: "Vera"
        # (Rubin), or a Chinese name inside a cue ("中心" of 数据中心)
        own_words = {key for key, values in entries.items()} | set(family_keys or {})
        cue_words = [
            fold_chinese(w.rstrip("*")).lower()
            for by_lang in CATEGORIES.values()
            for words in by_lang.values()
            for w in words
            if has_cjk(w)
        ]
        # one string to search, not a loop over the words (no key holds a newline)
        cue_text = "\n".join(cue_words)
        new = tuple.__new__  # ~60,000 places: NamedTuple's own __new__ is a Python call
        for place in places:  # add() inlined: this loop is most of the build time
            text = place.text
            simplified = fold_chinese(text)
            key = simplified.lower()
            if not key:
                continue
            if place.kind.startswith("city") and (
                key in own_words or (has_cjk(key) and key in cue_text)
            ):
                continue
            latin = _CJK.search(text) is None
            exact = simplified if place.case_sensitive and latin else None
            capitalised = latin and place.kind == "country"
            entry = new(Entry, ("place", place.country, exact, capitalised, False, place.kind))
            entries.setdefault(key, []).append(entry)
        for blocker in blockers:
            add(blocker, Entry("blocker", blocker, None, False, False))
        for category, by_lang in CATEGORIES.items():
            for words in by_lang.values():
                for word in words:
                    prefix = word.endswith("*")
                    add(word.rstrip("*"), Entry(category, word, None, False, prefix))
        for key, indexes in (family_keys or {}).items():
            for index in indexes:  # model/chip family names: "qwen" in "qwen3" too
                entries.setdefault(key, []).append(Entry("family", str(index), None, False, True))
        for key, values in entries.items():
            unique = tuple(dict.fromkeys(values)) if len(values) > 1 else tuple(values)
            # checks the scan must make for this key, known here once: a key none of whose
            # readings needs a case check takes the fast path
            if len(unique) == 1:
                plain = unique[0].exact is None and not unique[0].capitalised
            else:
                plain = all(e.exact is None and not e.capitalised for e in unique)
            if _CJK.search(key) is not None:
                info = (len(key), _is_word_char(key[0]), _is_word_char(key[-1]), plain, unique)
                self._han.add_word(key, info)
                self._han_wide.add_word(_utf16(key), info)
                continue
            self._add_latin(key, plain, unique)
        for automaton in (self._latin, self._han, self._han_wide):
            if len(automaton):
                automaton.make_automaton()

    def _add_latin(self, key: str, plain: bool, readings: tuple[Any, ...]) -> None:
        """Add a Latin key with its boundary spaces; readings that allow any word ending
        (``launch*``) go under a key without the closing space."""
        body = key if key.isalnum() else key.translate(_NON_WORD)  # most keys: one word
        # a Latin key has no CJK character, so _is_word_char(c) is c.isalnum() here
        lead = 1 if key[0].isalnum() else 0
        closed = key[-1].isalnum()
        if len(readings) == 1:  # most keys: no split by ending
            groups: tuple[tuple[bool, tuple[Any, ...]], ...] = ((readings[0][4], readings),)
        else:
            groups = tuple(
                (prefix, tuple(r for r in readings if r[4] is prefix)) for prefix in (False, True)
            )
        for prefix, chosen in groups:
            if not chosen:
                continue
            trail = 1 if closed and not prefix else 0
            scan_key = " " * lead + body + " " * trail
            existing = self._latin.get(scan_key, None)
            if existing is not None:  # two keys alike but for punctuation ("open-sourced")
                chosen = tuple(dict.fromkeys(existing[4] + chosen))
                plain = plain and existing[3]
            self._latin.add_word(scan_key, (len(scan_key), lead, trail, plain, chosen))

    def find(self, original: str, folded: str) -> list[Mention]:
        """Mentions in ``original`` (``folded`` is its fold(): same length, lower-case)."""
        found: list[Mention] = []
        if not folded:
            return found
        append = found.append
        new = tuple.__new__  # NamedTuple's own __new__ is a Python function: 2x slower here
        if len(self._latin):
            # offsets in the scan string are one more than in the text (its opening space)
            for end_index, (length, lead, trail, plain, values) in self._latin.iter(
                _latin_scan(folded)
            ):
                start = end_index - length + lead
                end = end_index - trail
                if plain:  # most keys: no reading needs a case check
                    for category, value, _exact, _capitalised, _prefix, kind in values:
                        append(new(Mention, (category, value, start, end, kind)))
                    continue
                for category, value, exact, capitalised, _prefix, kind in values:
                    if (
                        exact is not None
                        and original[start:end] != exact
                        # "Hô Chi Minh-Ville" for "Hô Chi Minh Ville": only the joints differ
                        and _JOINTS.sub(" ", original[start:end]) != _JOINTS.sub(" ", exact)
                    ):
                        continue
                    if capitalised and not original[start].isupper():
                        continue
                    append(new(Mention, (category, value, start, end, kind)))
        if not len(self._han) or not has_cjk(folded):
            return found
        size = len(folded)
        wide = _utf16(folded)
        halve = len(wide) == 2 * size  # no character beyond U+FFFF
        hits = self._han_wide.iter(wide) if halve else self._han.iter(folded)
        # Characters at or above U+3000 are CJK (or rarer symbols) and never continue a
        # Latin word, so one comparison replaces a call.
        for end_index, (length, latin_start, latin_end, plain, values) in hits:
            if halve:
                if not end_index & 1:
                    continue  # a key's bytes found straddling two characters
                end_index >>= 1
            start = end_index - length + 1
            if latin_start and start:
                before = folded[start - 1]
                if before < "\u3000" and before.isalnum():
                    continue
            end = end_index + 1
            right_ok = True
            if latin_end and end < size:
                after = folded[end]
                right_ok = not (after < "\u3000" and after.isalnum())
            for category, value, exact, capitalised, prefix, kind in values:
                if not right_ok and not prefix:
                    continue
                if not plain:
                    if exact is not None and original[start:end] != exact:
                        continue
                    if capitalised and not original[start].isupper():
                        continue
                append(new(Mention, (category, value, start, end, kind)))
        return found


def drop_nested(mentions: list[Mention], groups: dict[str, int]) -> list[Mention]:
    """Drop every mention lying inside a longer mention of the same group; mentions of
    categories not in ``groups`` (family names) are left out of the result.

    The result is ordered by (group, start, longest first), ties in their given order."""
    # plain tuples sorted as they are, the position breaking ties: no key function to call
    # per mention, and the same order as a stable sort by (group, start, -end)
    keyed = []
    for index, m in enumerate(mentions):
        group = groups.get(m[0])
        if group is not None:
            keyed.append((group, m[2], -m[3], index, m))
    keyed.sort()
    kept: list[Mention] = []
    current = -1
    max_end = -1
    previous_start = previous_end = -1
    group_max_end = -1  # max end of the spans before the current (start, end) span
    for group, start, negative_end, _index, m in keyed:
        end = -negative_end
        if group != current:
            current, max_end, previous_start, previous_end = group, -1, -1, -1
        if start != previous_start or end != previous_end:
            group_max_end = max_end
            previous_start, previous_end = start, end
        if group_max_end < end:  # no earlier, longer span covers it
            kept.append(m)
        if end > max_end:
            max_end = end
    return kept
