"""The limits an input may carry (``Input(choices=, ge=, le=, min_length=, max_length=, regex=)``),
checked here alone: for a default when the schema is made (``_openapi``) and for a request's
value (``_inputs``). Each caller words the broken limit its own way, as Cog's two checks do.
"""
import re
import typing

if typing.TYPE_CHECKING:  # pragma: no cover
    from ._openapi import InputField

# Each limit of ``Input()`` with the JSON-schema keyword the OpenAPI document writes it as.
SCHEMA_KEYWORDS = {"ge": "minimum", "le": "maximum", "min_length": "minLength", "max_length": "maxLength",
                   "regex": "pattern"}

def broken_constraint(field: "InputField", value: typing.Any, text_limits: bool = True) -> typing.Optional[str]:
    """The first limit of ``field`` that ``value`` breaks: ``choices``, ``ge``, ``le``,
    ``min_length``, ``max_length`` or ``regex``; None when it keeps them all. ``text_limits``
    False leaves out the three that apply to strings."""
    info = field.info
    if field.choices is not None and value not in field.choices:
        return "choices"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if info.ge is not None and value < info.ge:
            return "ge"
        if info.le is not None and value > info.le:
            return "le"
    if isinstance(value, str) and text_limits:
        if info.min_length is not None and len(value) < info.min_length:
            return "min_length"
        if info.max_length is not None and len(value) > info.max_length:
            return "max_length"
        if info.regex is not None and not re.search(info.regex, value):
            return "regex"
    return None
