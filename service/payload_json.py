"""Payloads written and read as JSON exactly as the SDK's default converter does, at less CPU.

Every change passes the whole case through payloads three times (the local activity's input, written
by the workflow and read by the activity; the update's result, read by the API). The default
converter writes a dataclass with `dataclasses.asdict`, which copies every value on the way, and
reads one by looking its fields' types up again each time (`typing.get_type_hints`): a tenth of the
worker's CPU per transition in a profiled bench run (docs/benchmarks.md). Here a dataclass is written
as its fields, one level at a time (the JSON encoder goes down by itself), and read with its fields'
types looked up once per class; a field whose JSON value already is what its type says (text, a flag,
a JSON object) is taken as it is, after a check of its kind. Same bytes, same objects
(tests/service/test_payload_json.py).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any

from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)

Reader = Callable[[Any], Any]


class _Encoder(AdvancedJSONEncoder):
    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {field.name: getattr(o, field.name) for field in dataclasses.fields(o)}
        return super().default(o)


class _Dataclasses(JSONTypeConverter):
    def to_typed_value(self, hint: type, value: Any) -> Any:
        fields = _fields(hint) if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None
        if fields is None or not isinstance(value, dict):
            return JSONTypeConverter.Unhandled
        given: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, init, read in fields:
            if name in value:
                try:
                    converted = read(value[name])
                except Exception as error:
                    raise TypeError(f"Failed converting field {name} on dataclass {hint}") from error
                (given if init else later)[name] = converted
        made = hint(**given)
        for name, converted in later.items():
            object.__setattr__(made, name, converted)  # as the default converter restores init=False fields
        return made


_DATACLASSES = _Dataclasses()


@functools.cache
def _fields(hint: type) -> tuple[tuple[str, bool, Reader], ...]:
    hints = typing.get_type_hints(hint)
    return tuple((field.name, field.init, _reader(hints[field.name])) for field in dataclasses.fields(hint))


def _reader(hint: Any) -> Reader:
    kind = _as_is(hint)
    if kind is not None:
        return functools.partial(_checked, kind, hint)
    return functools.partial(_converted, hint)


def _as_is(hint: Any) -> tuple[type, ...] | None:
    """The kinds of JSON value a field of this type is taken as, unconverted; None: convert it."""
    if hint is Any:
        return (object,)
    if hint is str or hint is bool:
        return (hint,)
    if typing.get_origin(hint) is dict and typing.get_args(hint) == (str, Any):
        return (dict,)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        parts = [_as_is(arg) for arg in typing.get_args(hint) if arg is not type(None)]
        if type(None) in typing.get_args(hint) and all(part is not None for part in parts):
            return (type(None), *(kind for part in parts if part for kind in part))
    return None


def _checked(kind: tuple[type, ...], hint: Any, value: Any) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"Expected {hint}, got {type(value)}")
    return value


def _converted(hint: Any, value: Any) -> Any:
    return value_to_type(hint, value, [_DATACLASSES])


class PayloadConverter(CompositePayloadConverter):
    """The default converters, with JSON written and read as above."""

    def __init__(self) -> None:
        json_plain = JSONPlainPayloadConverter(encoder=_Encoder, custom_type_converters=[_DATACLASSES])
        super().__init__(
            *(
                json_plain if isinstance(each, JSONPlainPayloadConverter) else each
                for each in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )
