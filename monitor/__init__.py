"""monitor: tracks where cloud/AI providers expand (regions, chips, models), alerts analysts."""

__version__ = "0.1.0"
USER_AGENT = f"monitor/{__version__} (market-tracking bot; +https://pypi.org/project/monitor/)"
