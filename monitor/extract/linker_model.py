"""The region linker's weights (``monitor/data/linker.json``) and its two logistic
regressions: plain arithmetic over a dict, no library at run time.

Apart from the features (linker.py) so that a command that only asks whether the weights
are there (``monitor doctor``) does not import the extractor."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class LinkerModel:
    """Two logistic regressions: is a pair a site (``weights``), and is a site live
    (``status_weights``); a pair the rules did not give is added at ``add`` or above."""

    weights: dict[str, float]
    add: float
    status_weights: dict[str, float]

    def probability(self, features: Iterable[str]) -> float:
        return _logistic(self.weights, features)

    def live(self, features: Iterable[str]) -> bool:
        return _logistic(self.status_weights, features) >= 0.5


def _logistic(weights: dict[str, float], features: Iterable[str]) -> float:
    z = sum(weights.get(f, 0.0) for f in features)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def default_model() -> LinkerModel | None:
    """The shipped model, or None when its file is missing (the rules still run)."""
    try:
        raw = resources.files("monitor").joinpath("data/linker.json").read_text("utf-8")
    except FileNotFoundError:
        return None
    data = json.loads(raw)
    weights = {str(k): float(v) for k, v in data["weights"].items()}
    status = {str(k): float(v) for k, v in data["status_weights"].items()}
    return LinkerModel(weights, float(data["add"]), status)
