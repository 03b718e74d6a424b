"""Placeholder: the watchlist section of sources.yaml (replaced by the extraction issue)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Watchlist(BaseModel):
    model_config = ConfigDict(extra="allow")


def default_watchlist() -> Watchlist:
    return Watchlist()
