"""The sources.yaml shipped with monitor validates and covers what the product promises."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from monitor.config import load_config
from monitor.sources import kinds

SHIPPED = Path(__file__).resolve().parent.parent / "sources.yaml"

# how each tracked company shows up in a source's name or (decoded) URL
COMPANIES = {
    "alibaba": ("alibaba", "qwen", "阿里"),
    "huawei": ("huawei", "华为"),
    "tencent": ("tencent", "腾讯"),
    "nvidia": ("nvidia", "英伟达"),
    "deepseek": ("deepseek",),
    "openai": ("openai",),
    "anthropic": ("anthropic",),
}


def test_shipped_config_validates() -> None:
    config = load_config(SHIPPED)
    assert len(config.sources) >= 15
    assert {source.kind for source in config.sources} == set(kinds())
    assert {"en", "fr", "zh"} <= {source.lang for source in config.sources}


def test_shipped_config_covers_every_company() -> None:
    config = load_config(SHIPPED)
    haystacks = [f"{s.name} {unquote(s.url)}".lower() for s in config.sources]
    for company, spellings in COMPANIES.items():
        assert any(spelling in haystack for haystack in haystacks for spelling in spellings), (
            company
        )


def test_shipped_config_has_the_promised_source_families() -> None:
    config = load_config(SHIPPED)
    urls = [source.url for source in config.sources]
    hf_orgs = {url.split("author=")[1].split("&")[0] for url in urls if "huggingface.co/api" in url}
    assert {"Qwen", "deepseek-ai", "tencent"} <= hf_orgs
    assert any(url.endswith("/releases.atom") for url in urls)
    assert any("api.github.com/repos/" in url for url in urls)
    news_langs = {s.lang for s in config.sources if "news.google.com/rss/search" in s.url}
    assert {"en", "fr", "zh"} <= news_langs
    # a Chinese-language source that is not a search engine: regional press
    assert any(s.lang in ("zh", "zh-Hant") and "google" not in s.url for s in config.sources)
    assert any(s.url.startswith("https://api-docs.deepseek.com/news/") for s in config.sources)


def test_news_searches_cover_every_company_in_every_language() -> None:
    config = load_config(SHIPPED)
    for lang in ("en", "fr", "zh"):
        queries = [
            unquote(s.url.replace("+", " ")).lower()
            for s in config.sources
            if s.lang == lang and "news.google.com/rss/search" in s.url
        ]
        for company, spellings in COMPANIES.items():
            assert any(spelling in q for q in queries for spelling in spellings), (lang, company)
