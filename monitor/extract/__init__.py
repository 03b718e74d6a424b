"""Fact extraction: pure functions from an item's text to facts with evidence."""
