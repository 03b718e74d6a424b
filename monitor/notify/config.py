"""Placeholder: the alerts section of sources.yaml (replaced by the alerts issue)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
