"""``Input(...)``: per-parameter metadata that becomes the Input schema and its validation."""
import dataclasses
import typing

# Distinguishes "no default given" from an explicit ``default=None``.
MISSING: typing.Any = dataclasses.MISSING


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """What ``Input()`` returns; the schema generator reads it from the parameter default."""

    default: typing.Any = MISSING
    description: typing.Optional[str] = None
    ge: typing.Optional[float] = None
    le: typing.Optional[float] = None
    min_length: typing.Optional[int] = None
    max_length: typing.Optional[int] = None
    regex: typing.Optional[str] = None
    choices: typing.Optional[typing.List[typing.Any]] = None
    deprecated: typing.Optional[bool] = None
    accept: typing.Optional[str] = None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


def Input(  # noqa: N802 - the public spelling is Cog's
    default: typing.Any = MISSING,
    *,
    description: typing.Optional[str] = None,
    ge: typing.Optional[float] = None,
    le: typing.Optional[float] = None,
    min_length: typing.Optional[int] = None,
    max_length: typing.Optional[int] = None,
    regex: typing.Optional[str] = None,
    choices: typing.Optional[typing.Sequence[typing.Any]] = None,
    deprecated: typing.Optional[bool] = None,
    accept: typing.Optional[str] = None,
    default_factory: typing.Any = None,
) -> typing.Any:
    """Describe a runner parameter: default, description, constraints, choices, accepted files."""
    if default_factory is not None:
        raise TypeError(
            "default_factory is not supported in Input() — use a literal default value instead"
        )
    return FieldInfo(
        default=default,
        description=description,
        ge=ge,
        le=le,
        min_length=min_length,
        max_length=max_length,
        regex=regex,
        choices=list(choices) if choices is not None else None,
        deprecated=deprecated,
        accept=accept,
    )


__all__ = ["FieldInfo", "Input"]
