"""Payloads written and read as JSON exactly as the SDK's default converter does, at less CPU.

Every change passes the whole case through payloads three times (the local activity's input, written
by the workflow and read by the activity; the update's result, read by the API). The default
converter writes a dataclass with `dataclasses.asdict`, which copies every value on the way, and
reads one by looking its fields' types up again each time (`typing.get_type_hints`): a tenth of the
worker's CPU per transition in a profiled bench run (docs/benchmarks.md). Here a dataclass is written
as its fields, one level at a time (the JSON encoder goes down by itself), and read with its fields'
types looked up once per class, and each field read by a reader made once for its type (text, flags,
numbers, optional values, lists, text-keyed maps, dataclasses: the default converter's rules without
their per-value dispatch). Same bytes, same objects (tests/service/test_payload_json.py).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Iterable, Mapping
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
    """How a value of this type is read, by the default converter's rules (`value_to_type`) decided
    once per type for the shapes Casework's payloads have; any other shape is left to the SDK."""
    if hint is Any:
        return _as_is
    if hint in _SCALARS:
        return functools.partial(_scalar, hint, _SCALARS[hint])
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return functools.partial(_first_of, tuple(_reader(arg) for arg in args), type(None) in args, hint)
    if origin is list and len(args) == 1:
        return functools.partial(_list_of, _reader(args[0]), hint)
    if origin is dict and len(args) == 2 and args[0] is str:
        return functools.partial(_map_of, None if args[1] is Any else _reader(args[1]), hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return functools.partial(_dataclass, hint)
    return functools.partial(_converted, hint)


# What value_to_type takes for each plain type; it then returns `hint(value)` (an int read as a float field is a float).
_SCALARS: dict[Any, tuple[type, ...]] = {str: (str,), bool: (bool,), int: (int, float), float: (int, float), type(None): (type(None),)}


def _as_is(value: Any) -> Any:
    return value


def _scalar(hint: type, kinds: tuple[type, ...], value: Any) -> Any:
    if not isinstance(value, kinds):
        raise TypeError(f"Expected value to be {hint}, was {type(value)}")
    return value if type(value) is hint or value is None else hint(value)


def _first_of(readers: tuple[Reader, ...], optional: bool, hint: Any, value: Any) -> Any:
    if value is None and optional:
        return None  # no other arm of the shapes read here takes None: the default would reach its None arm
    for read in readers:
        try:
            return read(value)
        except Exception:
            pass
    raise TypeError(f"Failed converting to {hint} from {value}")


def _list_of(read: Reader, hint: Any, value: Any) -> list:
    if not isinstance(value, Iterable):
        raise TypeError(f"Expected {hint}, value was {type(value)}")
    items = []
    for index, item in enumerate(value):
        try:
            items.append(read(item))
        except Exception as error:
            raise TypeError(f"Failed converting {hint} index {index}") from error
    return items


def _map_of(read: Reader | None, hint: Any, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise TypeError(f"Expected {hint}, value was {type(value)}")
    if read is None:
        return value if type(value) is dict else dict(value)
    read_map = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"Failed converting key {key!r} to type {str} in mapping {hint}")
        try:
            read_map[key] = read(item)
        except Exception as error:
            raise TypeError(f"Failed converting value for key {key!r} in mapping {hint}") from error
    return read_map


def _dataclass(hint: type, value: Any) -> Any:
    made = _DATACLASSES.to_typed_value(hint, value)
    if made is JSONTypeConverter.Unhandled:
        raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
    return made


def _converted(hint: Any, value: Any) -> Any:
    return value_to_type(hint, value, [_DATACLASSES])


# Built once: a data converter makes a new payload converter each time it is made, and the worker
# makes one per workflow activation.
_CONVERTERS = tuple(
    JSONPlainPayloadConverter(encoder=_Encoder, custom_type_converters=[_DATACLASSES]) if isinstance(each, JSONPlainPayloadConverter) else each
    for each in DefaultPayloadConverter.default_encoding_payload_converters
)


class PayloadConverter(CompositePayloadConverter):
    """The default converters, with JSON written and read as above."""

    def __init__(self) -> None:
        super().__init__(*_CONVERTERS)
