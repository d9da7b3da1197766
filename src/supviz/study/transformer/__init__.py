"""The transformer section (opt-in): a real transformer's layers pictured, with a trust score on every point."""
