"""Commands: once, run, status, try (placeholder; filled by its issue)."""
