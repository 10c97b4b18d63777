"""The SDK version reported as ``cog.__version__`` (the runtime reports it in /health-check)."""

__version__ = "0.22.0"
