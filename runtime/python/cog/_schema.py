"""OpenAPI 3.0.2 document of a runner, from runtime introspection of its signature.

The document matches what Cog's static generator emits, byte for byte once serialised with
:func:`dumps`: compact JSON, keys of ordinary objects sorted (Cog builds them as Go maps), while
``paths``, ``components.schemas`` and every ``properties`` map keep insertion order (signature
order for inputs). Strings and numbers are written the way Go's ``encoding/json`` writes them
(``<``, ``>``, ``&`` escaped; ``1.0`` written as ``1``).

The same parsed signature (:class:`Signature`) drives input validation in ``_inputs``.

This module is the import path the rest of the SDK (and code written against it) uses; the work
is done in ``_introspect`` (what annotations mean), ``_openapi`` (signatures and the document),
``_constraints`` (the limits an input carries) and ``_jsonwriter`` (Go-compatible JSON).
"""
from ._constraints import broken_constraint
from ._introspect import SchemaError, TypeSpec, is_iterator_type, output_type_schema, parse_input_type, title, type_name
from ._jsonwriter import Ordered, dumps
from ._openapi import InputField, Signature, input_property, inspect_callable, openapi_document

__all__ = [
    "InputField",
    "Ordered",
    "SchemaError",
    "Signature",
    "TypeSpec",
    "broken_constraint",
    "dumps",
    "input_property",
    "inspect_callable",
    "is_iterator_type",
    "openapi_document",
    "output_type_schema",
    "parse_input_type",
    "title",
    "type_name",
]
