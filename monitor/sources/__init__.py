"""Source kinds: one module per kind, each registered under the string users write."""
