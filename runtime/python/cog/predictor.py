"""``BaseRunner`` (and its deprecated alias ``BasePredictor``): the class users subclass."""
import typing
import warnings

from ._scope import Scope, current_scope


class BaseRunner:
    """Optional base class for runners: ``setup()`` once, then ``run(**inputs)`` per prediction."""

    def setup(self, weights: typing.Any = None) -> None:  # noqa: ARG002 - documented hook
        """Load the model; called once before serving. Override it when needed."""

    def run(self, **kwargs: typing.Any) -> typing.Any:
        raise NotImplementedError("run() must be implemented")

    @property
    def scope(self) -> Scope:
        """The current prediction's scope (inert outside a prediction)."""
        return current_scope()

    def record_metric(self, name: str, value: typing.Any, mode: str = "replace") -> None:
        current_scope().record_metric(name, value, mode)


class BasePredictor(BaseRunner):
    """Deprecated: subclass :class:`BaseRunner` and define ``run()`` instead."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        warnings.warn(
            "BasePredictor is deprecated, use BaseRunner instead", DeprecationWarning, stacklevel=2
        )

    def predict(self, **kwargs: typing.Any) -> typing.Any:
        raise NotImplementedError("predict() must be implemented")


# BaseRunner.run and BasePredictor.predict are placeholders: the loader ignores them when it
# decides whether a user class defines run() or predict().
PLACEHOLDER_METHODS = (BaseRunner.run, BasePredictor.predict, BaseRunner.setup)

__all__ = ["BasePredictor", "BaseRunner"]
