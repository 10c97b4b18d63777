"""Command-line entry points of the SDK (``python -m cog.command.<name>``)."""
