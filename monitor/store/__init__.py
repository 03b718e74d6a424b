"""Storage: SQLAlchemy models and the few queries the rest of monitor needs.

Nothing outside this package writes SQL.
"""
