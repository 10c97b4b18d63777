"""What the static schema puts in place of things it does not evaluate.

* :class:`External` stands for a name imported from a module that is not loaded (``torch``, a
  package's ``__init__``): any attribute, call or subscript of it is another ``External``.
* :class:`Unresolved` stands for an expression the static analysis refuses to evaluate (a call,
  a name defined by code that does not run).
* ``pydantic`` and ``typing_extensions`` get small stand-in modules so that output models and
  typing helpers are recognised without those packages on the host, the same on every host.

Both markers are callable and usable in ``X | None`` so that annotations mentioning them still
evaluate; the schema step then reports them with Cog's messages.
"""
import builtins
import types
import typing


class Marker:
    """Common behaviour of the two markers: they absorb attribute access, calls and subscripts."""

    def __init__(self, text: str):
        self.text = text

    def _derive(self, text: str) -> "Marker":
        raise NotImplementedError

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # typing and dataclasses probe dunders; do not fake them
        return self._derive(f"{self.text}.{name}")

    def __call__(self, *args, **kwargs):
        return self._derive(f"{self.text}(...)")

    def __getitem__(self, item):
        return self._derive(f"{self.text}[...]")

    def __iter__(self):
        # One item, itself: `list(marker)` (as Input(choices=...) does) must end, and keep the marker.
        return iter((self,))

    def __or__(self, other):
        return typing.Union[self, other]

    def __ror__(self, other):
        return typing.Union[other, self]

    def __mro_entries__(self, bases):
        # `class Net(torch.nn.Module)`: the class still gets created, on a plain base that remembers
        # what it stood for.
        name = self.text.rsplit(".", 1)[-1].split("(")[0].split("[")[0] or "Base"
        return (type(name, (StandIn,), {"__cog_standin__": self}),)

    def __repr__(self) -> str:
        return self.text


class External(Marker):
    """A name imported from a module that static analysis does not load."""

    def __init__(self, text: str, module: str):
        super().__init__(text)
        self.module = module

    def _derive(self, text: str) -> "External":
        return External(text, self.module)


class Unresolved(Marker):
    """An expression that static analysis does not evaluate; ``reason`` says why when known."""

    def __init__(self, text: str, line: int = 0, reason: str = ""):
        super().__init__(text)
        self.line = line
        self.reason = reason

    def _derive(self, text: str) -> "Unresolved":
        return Unresolved(text, self.line, self.reason)


class StandIn:
    """Base of classes derived from a marker; ``__cog_standin__`` is the marker."""

    __cog_standin__: typing.ClassVar[Marker]


def standin_of(value: typing.Any) -> typing.Optional[Marker]:
    """The marker ``value`` is or derives from, if any."""
    if isinstance(value, Marker):
        return value
    if isinstance(value, type) and "__cog_standin__" in vars(value):  # not user classes built on one
        return value.__cog_standin__
    return None


# ---------------------------------------------------------------------------------------------
# pydantic


class _Undefined:
    def __repr__(self) -> str:
        return "PydanticUndefined"


_UNDEFINED = _Undefined()


class _FieldSpec:
    """What the stand-in ``pydantic.Field()`` returns: only whether the field has a default matters."""

    def __init__(self, required: bool):
        self.required = required


def _field(default: typing.Any = _UNDEFINED, *args: typing.Any, default_factory: typing.Any = None, **kwargs: typing.Any):
    return _FieldSpec(required=(default is _UNDEFINED or default is Ellipsis) and default_factory is None)


class _ModelField:
    def __init__(self, annotation: typing.Any, required: bool):
        self.annotation = annotation
        self._required = required

    def is_required(self) -> bool:
        return self._required


class _ModelMeta(type):
    @property
    def model_fields(cls) -> typing.Dict[str, _ModelField]:
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = {}
        for name, annotation in hints.items():
            if name.startswith("_") or typing.get_origin(annotation) is typing.ClassVar:
                continue
            default = cls.__dict__.get(name, _UNDEFINED)
            for base in cls.__mro__[1:]:
                if default is not _UNDEFINED:
                    break
                default = base.__dict__.get(name, _UNDEFINED)
            required = default.required if isinstance(default, _FieldSpec) else default is _UNDEFINED
            fields[name] = _ModelField(annotation, required)
        return fields


class PydanticBaseModel(metaclass=_ModelMeta):
    """Stand-in for ``pydantic.BaseModel``: exposes ``model_fields`` as pydantic v2 does."""

    def model_dump(self) -> dict:  # pragma: no cover - marks the class as a pydantic v2 model
        return {}


def pydantic_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.BaseModel = PydanticBaseModel
    module.Field = _field
    module.__getattr__ = lambda attr: External(f"{name}.{attr}", name)
    return module


# ---------------------------------------------------------------------------------------------
# typing_extensions


def typing_extensions_module() -> types.ModuleType:
    """``typing_extensions`` as the host's ``typing`` (Python 3.11 has what models use of it)."""
    module = types.ModuleType("typing_extensions")

    def lookup(attr: str) -> typing.Any:
        if hasattr(typing, attr):
            return getattr(typing, attr)
        return External(f"typing_extensions.{attr}", "typing_extensions")

    module.__getattr__ = lookup
    module.__all__ = [name for name in typing.__all__]
    return module


# ---------------------------------------------------------------------------------------------
# builtins

# The builtins stub modules see: types, constructors and pure helpers, no I/O and no code loading.
_SAFE_BUILTINS = """
    None Ellipsis NotImplemented True False __build_class__
    object type int float complex bool str bytes bytearray list tuple dict set frozenset range slice
    property staticmethod classmethod super len abs min max sum round sorted reversed enumerate zip
    map filter isinstance issubclass callable hash id repr format chr ord any all divmod pow
    Exception BaseException ValueError TypeError KeyError IndexError RuntimeError NotImplementedError
    AttributeError ImportError ModuleNotFoundError StopIteration StopAsyncIteration ArithmeticError
    LookupError OSError Warning DeprecationWarning UserWarning FutureWarning
""".split()


def safe_builtins(import_hook: typing.Callable) -> dict:
    namespace = {name: getattr(builtins, name) for name in _SAFE_BUILTINS}
    namespace["__import__"] = import_hook
    return namespace
