"""Commands: changes_cmds (placeholder; filled by its issue)."""
