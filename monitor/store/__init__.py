"""Storage: SQLAlchemy models and the few queries the rest of monitor needs.

Nothing outside this package writes SQL (``tests/test_store_boundary.py`` checks it).
One module per concern; callers own the transaction (``db.transaction``):

- ``db``: engine, sessions, schema upgrades; ``models``: the tables;
- ``items``: storing fetched items once, the items waiting to be processed;
- ``sources``: source rows and their fetch state (back-off, validators, due times);
- ``facts``: known facts and one item's diff writes (facts, changes, observations);
- ``outbox``: alert deliveries (add, claim, finish, retry, digest, summaries);
- ``health``: sources newly down or recovered, for the health alerts;
- ``state``: small key/value rows and the daemon's row lock;
- ``queries``: reading the change log (``ChangeQuery``: filters, keyset pages, counts);
- ``review``: the analyst's state changes on the log (dismissal);
- ``baseline``: loading the seed facts.
"""
