"""Exceptions raised by the cog runtime into model code."""


class CancelationException(BaseException):
    """Raised inside a running sync ``run()`` when its prediction is canceled.

    A ``BaseException`` so that ``except Exception`` in model code does not swallow it; code
    that catches it for cleanup must re-raise it.
    """


__all__ = ["CancelationException"]
