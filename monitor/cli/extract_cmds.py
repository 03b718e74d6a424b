"""Commands: extract_cmds (placeholder; filled by its issue)."""
