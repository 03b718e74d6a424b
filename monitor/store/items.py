"""Sources and items: registering sources and storing new items once.

An item is a duplicate when any of these matches an item already stored:
- its normalised GUID, within the same source (GUIDs are only unique per feed);
- its canonical URL (scheme and host lower-cased, fragment, default port and tracking
  parameters such as utm_* or fbclid dropped, query sorted), across all sources;
- the hash of its normalised title and text, across all sources (wire copy re-posted).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.elements import ColumnClause

from monitor.store.db import in_chunks, to_naive_utc, utcnow
from monitor.store.models import LANG_LENGTH, ItemRow, SeenKeyRow, SourceRow
from monitor.types import Item

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
        "ref", "ref_src", "ref_url", "cmpid", "ncid", "sr_share", "spm", "from", "feature",
        "_hsenc", "_hsmi", "mkt_tok", "ocid", "guccounter", "guce_referrer",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_")
# Dedupe-key lookups: keys per IN list (three lists and a source a statement: under the
# 999 bound parameters of older SQLite builds).
KEY_CHUNK = 300


def canonical_url(url: str | None) -> str | None:
    """The URL with the parts that do not change the page removed (None if not http/https)."""
    if not url or ":" not in url:  # no scheme (a GUID such as "post-123"): not a URL
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    hostname = parts.hostname  # parsed from the netloc at each access: read once
    if scheme not in ("http", "https") or not hostname:
        return None
    host = hostname.lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    if port in (80, 443):
        port = None
    netloc = f"{host}:{port}" if port else host
    query = ""
    if parts.query:
        query = urlencode(
            sorted(
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
            )
        )
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    # http and https serve the same article: the key ignores the scheme.
    return urlunsplit(("", netloc, path, query, "")).lstrip("/")


def guid_key(guid: str | None) -> str | None:
    """Normalised GUID: trimmed; a URL-shaped GUID is canonicalised like a URL."""
    if not guid or not guid.strip():
        return None
    guid = guid.strip()
    return canonical_url(guid) or guid


def content_hash(item: Item) -> str:
    """SHA-256 of title and text with case and whitespace folded."""
    # " ".join(split()): the same as re.sub(r"\s+", " ", ...).strip() (str.isspace is the
    # regex's \s), in a third of the time; the hash of every stored item depends on it
    norm = " ".join(f"{item.title}\n{item.text}".lower().split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def get_or_create_source(session: Session, name: str, kind: str, url: str) -> SourceRow:
    """The source's row, created on first sight; kind and URL follow the config."""
    from monitor.store.sources import sync_sources  # that module imports this one

    return sync_sources(session, [(name, kind, url)])[name]


def store_items(
    session: Session, source: SourceRow, items: Iterable[Item], *, first_pass: bool = False
) -> list[ItemRow]:
    """Add the items not stored before; return the new rows (written, not committed).
    ``first_pass``: they come from the source's first successful pass (alerts nobody when
    ``alerts.quiet_first_pass``).

    The caller commits once per source, so an interrupted pass stores all or none of a
    source's new items and a repeated pass finds them as duplicates.
    """
    return store_source_items(session, [(source, item) for item in items], first_pass=first_pass)


def store_source_items(
    session: Session, pairs: Iterable[tuple[SourceRow, Item]], *, first_pass: bool = False
) -> list[ItemRow]:
    """:func:`store_items` for items of several sources at once (a replay): the same
    dedupe, in the order given, with one lookup per key kind for the whole batch."""
    values = _insert(session, _new_items(session, pairs, first_pass))
    found: dict[str, ItemRow] = {}
    for chunk in in_chunks([v["content_hash"] for v in values]):
        query = select(ItemRow).where(ItemRow.content_hash.in_(chunk))
        found.update((row.content_hash, row) for row in session.scalars(query))
    return [found[v["content_hash"]] for v in values]


def insert_source_items(
    session: Session, pairs: Iterable[tuple[SourceRow, Item]], *, first_pass: bool = False
) -> int:
    """:func:`store_source_items` without reading the new rows back: how many were new
    (all the polling pass needs)."""
    return len(_insert(session, _new_items(session, pairs, first_pass)))


def _insert(session: Session, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One multi-row INSERT on the session's transaction (and savepoint), not an ORM
    object per item: building, tracking and flushing 10,000 ``ItemRow`` objects was half
    the CPU of a first pass. The new rows do not enter the session."""
    if values:
        session.connection().execute(insert(cast(Table, ItemRow.__table__)), values)
    return values


def _new_items(
    session: Session, pairs: Iterable[tuple[SourceRow, Item]], first_pass: bool
) -> list[dict[str, Any]]:
    """The column values of the items of ``pairs`` not stored before, in the order given;
    their sources' ``items_count`` is raised to match."""
    candidates = []
    seen_guid: set[tuple[int, str]] = set()
    seen_url: set[str] = set()
    seen_hash: set[str] = set()
    for source, item in pairs:
        g, u, h = guid_key(item.guid), canonical_url(item.url), content_hash(item)
        if (g and (source.id, g) in seen_guid) or (u and u in seen_url) or h in seen_hash:
            continue  # duplicate inside the batch
        if g:
            seen_guid.add((source.id, g))
        if u:
            seen_url.add(u)
        seen_hash.add(h)
        candidates.append((source, item, g, u, h))
    if not candidates:
        return []
    known_guid, known_url, known_hash = _known_keys(session, candidates)
    now = utcnow()
    values: list[dict[str, Any]] = []
    added: Counter[SourceRow] = Counter()
    for source, item, g, u, h in candidates:
        if (g and (source.id, g) in known_guid) or (u and u in known_url) or h in known_hash:
            continue
        values.append(
            {
                "source_id": source.id,
                "guid_key": g,
                "url_key": u,
                "content_hash": h,
                "url": item.url,
                "title": item.title,
                "text": item.text,
                # a longer "lang" is no language tag (and PostgreSQL would refuse the item)
                "lang": item.lang if item.lang and len(item.lang) <= LANG_LENGTH else None,
                "published_at": to_naive_utc(item.published),
                "fetched_at": now,
                "extra": dict(item.extra) or None,  # None: stored as JSON null, as before
                "first_pass": first_pass,
            }
        )
        added[source] += 1
    for source, count in added.items():
        source.items_count = (source.items_count or 0) + count
    return values


def _keys_statement() -> CompoundSelect[Any]:
    """One statement for every dedupe key of a chunk: the stored items' and the keys of
    items retention deleted (SeenKeyRow), by GUID within ``:source``, by canonical URL and
    by content hash. Built once, so its cache key and compiled form are reused. The kind
    is lower-case (g, u, h) for a stored item's key, upper-case for a deleted item's."""
    selects = []
    for table, kinds in (
        (cast(Table, ItemRow.__table__), "guh"),
        (cast(Table, SeenKeyRow.__table__), "GUH"),
    ):
        c = table.c
        guids: BindParameter[str] = bindparam("guids", expanding=True)
        urls: BindParameter[str] = bindparam("urls", expanding=True)
        hashes: BindParameter[str] = bindparam("hashes", expanding=True)
        g: ColumnClause[str] = literal_column(f"'{kinds[0]}'")
        u: ColumnClause[str] = literal_column(f"'{kinds[1]}'")
        h: ColumnClause[str] = literal_column(f"'{kinds[2]}'")
        selects += [
            select(g, c.source_id, c.guid_key).where(
                c.source_id == bindparam("source"), c.guid_key.in_(guids)
            ),
            select(u, c.source_id, c.url_key).where(c.url_key.in_(urls)),
            select(h, c.source_id, c.content_hash).where(c.content_hash.in_(hashes)),
        ]
    return union_all(*selects)


_KEYS = _keys_statement()


def _known_keys(
    session: Session,
    candidates: list[tuple[SourceRow, Item, str | None, str | None, str]],
) -> tuple[set[tuple[int, str]], set[str], set[str]]:
    """The (source id, GUID) pairs, canonical URLs and content hashes already stored.

    One prebuilt statement per chunk of keys, on the session's connection: the ORM's six
    queries per source, each built anew, cost more than the lookups themselves. A
    source's 20 items take one statement.

    A deleted item's keys found again are marked seen now: retention forgets keys not seen
    for ``forget_keys_after``, never those of an item its source still lists."""
    guids_by_source: dict[int, set[str]] = {}
    for source, _, g, _, _ in candidates:
        if g:
            guids_by_source.setdefault(source.id, set()).add(g)
    guid_chunks = [
        (source_id, chunk)
        for source_id, guids in guids_by_source.items()
        for chunk in in_chunks(sorted(guids), KEY_CHUNK)
    ]
    url_chunks = list(in_chunks(sorted({u for _, _, _, u, _ in candidates if u}), KEY_CHUNK))
    hash_chunks = list(in_chunks(sorted({h for _, _, _, _, h in candidates}), KEY_CHUNK))
    known_guid: set[tuple[int, str]] = set()
    known_url: set[str] = set()
    known_hash: set[str] = set()
    seen_guid: set[tuple[int, str]] = set()  # the same, of deleted items (seen_keys)
    seen_url: set[str] = set()
    seen_hash: set[str] = set()
    connection = session.connection()  # Core: the ORM's per-statement work is not needed
    for index in range(max(len(guid_chunks), len(url_chunks), len(hash_chunks))):
        source_id, guids = guid_chunks[index] if index < len(guid_chunks) else (0, [])
        params = {
            "source": source_id,
            "guids": list(guids),
            "urls": list(url_chunks[index]) if index < len(url_chunks) else [],
            "hashes": list(hash_chunks[index]) if index < len(hash_chunks) else [],
        }
        for kind, stored_source, key in connection.execute(_KEYS, params):
            if key is None:
                continue
            if kind in "gG":
                known_guid.add((stored_source, key))
            elif kind in "uU":
                known_url.add(key)
            else:
                known_hash.add(key)
            if kind == "G":
                seen_guid.add((stored_source, key))
            elif kind == "U":
                seen_url.add(key)
            elif kind == "H":
                seen_hash.add(key)
    if seen_guid or seen_url or seen_hash:
        _mark_seen(session, seen_guid, seen_url, seen_hash)
    return known_guid, known_url, known_hash


def _mark_seen(
    session: Session, guids: set[tuple[int, str]], urls: set[str], hashes: set[str]
) -> None:
    """Keys of deleted items that a listing shows again: seen now (``deleted_at`` is when
    the item was deleted or, since, last seen; it never goes back)."""
    now = utcnow()
    by_source: dict[int, list[str]] = {}
    for source_id, g in guids:
        by_source.setdefault(source_id, []).append(g)
    conditions = [
        and_(SeenKeyRow.source_id == source_id, SeenKeyRow.guid_key.in_(chunk))
        for source_id, values in by_source.items()
        for chunk in in_chunks(sorted(values))
    ]
    conditions += [SeenKeyRow.url_key.in_(chunk) for chunk in in_chunks(sorted(urls))]
    conditions += [SeenKeyRow.content_hash.in_(chunk) for chunk in in_chunks(sorted(hashes))]
    for condition in conditions:
        session.execute(
            update(SeenKeyRow)
            .where(condition, SeenKeyRow.deleted_at < now)
            .values(deleted_at=now)
            .execution_options(synchronize_session=False)
        )


def pending_item_ids(session: Session, limit: int | None = None) -> list[int]:
    """Unprocessed items in published order (undated ones by fetch time), then content
    hash (as monitor.changes.Point: the same order whichever item was fetched first)."""
    when = func.coalesce(ItemRow.published_at, ItemRow.fetched_at)
    query = (
        select(ItemRow.id)
        .where(ItemRow.processed_at.is_(None))
        .order_by(when, ItemRow.content_hash)  # not id: the order fetches came in
        .limit(limit)
    )
    return list(session.scalars(query).all())


def unprocessed_items(session: Session, item_ids: Sequence[int]) -> list[ItemRow]:
    """The items among ``item_ids`` still unprocessed, with their sources, in the order of
    ``item_ids``: one query per chunk. On a server database the rows are locked for the
    caller's transaction and rows another process holds are skipped (SKIP LOCKED), so
    processes running side by side share the pending items instead of each walking all."""
    found: dict[int, ItemRow] = {}
    for chunk in in_chunks(list(item_ids)):
        query = (
            select(ItemRow)
            .options(joinedload(ItemRow.source, innerjoin=True))
            .where(ItemRow.id.in_(chunk), ItemRow.processed_at.is_(None))
            .with_for_update(skip_locked=True, of=ItemRow)
        )
        found.update((row.id, row) for row in session.scalars(query))
    return [found[i] for i in item_ids if i in found]


def mark_processed(session: Session, item_ids: Sequence[int], now: datetime) -> None:
    """Items read that reported no fact: processed, in one statement per chunk."""
    for chunk in in_chunks(list(item_ids)):
        session.execute(
            update(ItemRow)
            .where(ItemRow.id.in_(chunk), ItemRow.processed_at.is_(None))
            .values(processed_at=now)
            .execution_options(synchronize_session=False)
        )
