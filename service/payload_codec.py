"""Customer data encrypted in Temporal's history: an AES-256-GCM payload codec with named keys for rotation.

Every payload a client or worker sends (workflow and activity inputs and results, updates, memos,
failures' messages) is encrypted before it leaves the process; Temporal stores only ciphertext.
Search attributes are not payloads that go through a codec: they stay plaintext (workflows/search.py
puts nothing personal in them)."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from service.payload_json import PayloadConverter

SETTING = "CASEWORK_PAYLOAD_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12  # 96 bits, fresh from the OS for every payload
KEY_BYTES = 32  # AES-256
_KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PayloadKeyError(ValueError):
    """A payload key setting that cannot be used; the message names the setting and the key id, never the key."""


class UnknownPayloadKey(ValueError):
    """A payload encrypted with a key this process does not hold."""


@dataclass(frozen=True)
class PayloadKey:
    key_id: str
    secret: bytes = field(repr=False)


def parse_payload_keys(text: str, setting: str = SETTING) -> tuple[PayloadKey, ...]:
    """`id:KEY[,id:KEY…]`, the first encrypting and all decrypting, where KEY is the base64 of 32 random
    bytes or `@/path/to/file` holding that base64; or the whole value `@/path/to/file` holding such
    entries, one a line or comma-separated. Empty: no encryption."""
    text = text.strip()
    if text.startswith("@"):
        text = _read(Path(text[1:]), setting, "the key list").replace("\n", ",")
    keys: list[PayloadKey] = []
    for number, entry in enumerate((part.strip() for part in text.split(",")), start=1):
        if not entry or entry.startswith("#"):
            continue
        key_id, colon, value = entry.partition(":")
        key_id, value = key_id.strip(), value.strip()
        if not colon or not _KEY_ID_PATTERN.match(key_id):
            raise PayloadKeyError(f"{setting}: entry {number} is not `id:base64-key` or `id:@/path/to/file` (ids: letters, digits, . _ -)")
        if any(key.key_id == key_id for key in keys):
            raise PayloadKeyError(f"{setting}: the key id {key_id} is listed twice")
        if value.startswith("@"):
            value = _read(Path(value[1:]), setting, f"key {key_id}").strip()
        keys.append(PayloadKey(key_id, _secret(value, key_id, setting)))
    return tuple(keys)


def _read(path: Path, setting: str, what: str) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise PayloadKeyError(f"{setting}: cannot read the file of {what}, {path}: {getattr(error, 'strerror', None) or error}") from None


def _secret(value: str, key_id: str, setting: str) -> bytes:
    try:
        secret = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadKeyError(f"{setting}: key {key_id} is not valid base64") from None
    if len(secret) != KEY_BYTES:
        raise PayloadKeyError(f"{setting}: key {key_id} is {len(secret)} bytes, AES-256 needs {KEY_BYTES} (base64 of 32 random bytes)")
    return secret


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM. The encrypted payload carries the key id in its metadata and the whole original
    payload (metadata and data) serialised inside, authenticated with the key id. Payloads without
    our encoding (written before encryption was turned on) pass through decode unchanged."""

    def __init__(self, keys: Sequence[PayloadKey]):
        if not keys:
            raise PayloadKeyError(f"{SETTING}: no key")
        self._encrypting = keys[0]
        self._ciphers = {key.key_id: AESGCM(key.secret) for key in keys}

    def __repr__(self) -> str:
        return f"EncryptionCodec(keys={list(self._ciphers)})"

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._encrypting.key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownPayloadKey(
                f"a payload is encrypted with key {key_id!r}, which {SETTING} does not hold (it has {', '.join(self._ciphers)}): "
                "add that key back to read it"
            )
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise UnknownPayloadKey(f"a payload marked with key {key_id!r} does not decrypt with that key: the key or the payload is wrong") from None
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def codec_for(keys: Sequence[PayloadKey]) -> EncryptionCodec | None:
    return EncryptionCodec(keys) if keys else None


def data_converter(keys: Sequence[PayloadKey]) -> DataConverter:
    """The data converter of every client and worker: the default one (its JSON made cheaper:
    service/payload_json.py), encrypting when keys are set.
    Failures' messages and stack traces are encoded too (they may quote what a customer wrote)."""
    codec = codec_for(keys)
    if codec is None:
        return DataConverter(payload_converter_class=PayloadConverter)
    return DataConverter(
        payload_converter_class=PayloadConverter, payload_codec=codec, failure_converter_class=DefaultFailureConverterWithEncodedAttributes
    )


async def decode_in_place(codec: PayloadCodec | None, messages: Iterable[Message]) -> None:
    """Decode every payload inside these protobuf messages (a history's events), where they are."""
    found = payloads_in(messages)
    if codec is None:
        encrypted = next((payload for payload in found if payload.metadata.get("encoding") == ENCODING), None)
        if encrypted is not None:
            key_id = encrypted.metadata.get(KEY_ID, b"?").decode(errors="replace")
            raise UnknownPayloadKey(f"{SETTING}: this history is encrypted (key {key_id!r}) and this process holds no payload keys")
        return
    if not found:
        return
    for original, decoded in zip(found, await codec.decode(found), strict=True):
        if decoded is not original:
            original.CopyFrom(decoded)


def payloads_in(messages: Iterable[Message]) -> list[Payload]:
    """Every payload inside these messages (nested, repeated, in maps), the objects themselves."""
    found: list[Payload] = []
    for message in messages:
        _collect(message, found)
    return found


def _collect(message: Message, found: list[Payload]) -> None:
    if isinstance(message, Payload):
        found.append(message)
        return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            values: Any = value.values()
            if descriptor.message_type.fields_by_name["value"].message_type is None:
                continue
        elif descriptor.is_repeated:
            values = value
        else:
            values = (value,)
        for child in values:
            _collect(child, found)
