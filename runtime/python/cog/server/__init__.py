"""Cog's in-container server entry point (``python -m cog.server.http``), served by cog-server."""
