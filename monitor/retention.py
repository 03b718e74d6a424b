"""``retention:`` in sources.yaml: how long items that reported no fact are kept.

    retention:
      drop_text_after: 30d    # the text of an item with no fact is emptied after this
      delete_after: 180d      # such an item is deleted; its dedupe keys stay (seen_keys)
      forget_keys_after: 365d # those keys go once not seen for this long (none: never)
      every: 1d               # how often the daemon prunes (and `monitor prune` by hand)

Facts, changes, their evidence (the items they cite) and deliveries are always kept. The
keys are dropped once no listing has shown their item for ``forget_keys_after`` (a
listing that shows it again marks it seen), so that the database stops growing.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from monitor.notify.config import Duration, OptionalDuration


class RetentionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drop_text_after: Duration = timedelta(days=30)
    delete_after: Duration = timedelta(days=180)
    forget_keys_after: OptionalDuration = timedelta(days=365)
    every: Duration = timedelta(days=1)
