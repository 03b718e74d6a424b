"""monitor: tracks where cloud and AI providers expand (regions, chips, models) and alerts analysts."""

__version__ = "0.1.0"
USER_AGENT = (
    f"monitor/{__version__} (+https://github.com/monitor-project/monitor; market-tracking bot)"
)
