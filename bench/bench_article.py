"""Article main text: monitor's own extractor against trafilatura, on real news pages.

Scores both on ../shared/corpora/trafilatura-pages/expectations.json the way upstream
trafilatura scores extractors: every "with" snippet found in the text is a hit, every
"without" snippet found is a leak; precision = hits / (hits + leaks), recall = hits /
(hits + misses). Also times both.

    .venv/bin/python bench/bench_article.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.errors import ParseError  # noqa: E402
from monitor.sources import article  # noqa: E402

PAGES = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "corpora"
PAGES = PAGES / "trafilatura-pages"
URL = "https://example.com/"


def pages() -> list[tuple[bytes, dict[str, list[str]]]]:
    entries = json.loads((PAGES / "expectations.json").read_text(encoding="utf-8"))
    found = []
    for entry in entries.values():
        for folder in ("cache", "eval"):
            path = PAGES / folder / entry["file"]
            if path.is_file():
                found.append((path.read_bytes(), entry))
                break
    return found


def score(name: str, text_of: Callable[[bytes], str]) -> None:
    hits = misses = leaks = clean = 0
    started = time.process_time()
    corpus = pages()
    for body, entry in corpus:
        try:
            text = text_of(body)
        except ParseError:
            text = ""
        for snippet in entry.get("with", []):
            hits, misses = (hits + 1, misses) if snippet in text else (hits, misses + 1)
        for snippet in entry.get("without", []):
            leaks, clean = (leaks + 1, clean) if snippet in text else (leaks, clean + 1)
    cpu = time.process_time() - started
    precision = hits / (hits + leaks)
    recall = hits / (hits + misses)
    f1 = 2 * precision * recall / (precision + recall)
    print(
        f"{name:<28} pages {len(corpus)}  precision {precision:.3f}  recall {recall:.3f}"
        f"  F1 {f1:.3f}  ({cpu:.1f} s CPU)"
    )


def main() -> None:
    if not PAGES.is_dir():
        sys.exit(f"pages not found in {PAGES}")
    score("trafilatura (article.py)", lambda body: article.read_article(body, URL).text)
    score("own density extractor", lambda body: article.density_text(body, URL))


if __name__ == "__main__":
    main()
