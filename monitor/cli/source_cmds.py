"""Commands: source_cmds (placeholder; filled by its issue)."""
