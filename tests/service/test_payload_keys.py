"""CASEWORK_PAYLOAD_KEYS: keys from the environment or files, the first encrypting; a bad one refuses
to start, naming the setting and the key's id, never the key."""

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload

from service.payload_codec import ENCODING, EncryptionCodec, UnknownPayloadKey, decode_in_place
from service.payload_json import PayloadConverter
from service.settings import Settings, SettingsError
from service.temporal import connect_options

KEY = base64.b64encode(os.urandom(32)).decode()
OTHER = base64.b64encode(os.urandom(32)).decode()


def test_keys_come_from_the_setting_and_files_and_the_first_encrypts(tmp_path):
    (tmp_path / "old.key").write_text(OTHER + "\n")
    settings = Settings.from_env({"CASEWORK_PAYLOAD_KEYS": f"2026-12:{KEY}, 2026-06:@{tmp_path / 'old.key'}"})
    assert [key.key_id for key in settings.payload_keys] == ["2026-12", "2026-06"]
    assert settings.payload_keys[1].secret == base64.b64decode(OTHER)
    codec = connect_options(settings.temporal_connection)["data_converter"].payload_codec
    assert isinstance(codec, EncryptionCodec) and codec.key_ids == ("2026-12", "2026-06")
    for text in (repr(settings), repr(settings.temporal_connection), repr(codec)):
        assert KEY not in text and OTHER not in text and "secret" not in text


def test_the_whole_list_may_come_from_one_file(tmp_path):
    listing = tmp_path / "payload-keys"
    listing.write_text(f"# newest first\nb:{KEY}\na:{OTHER}\n")
    settings = Settings.from_env({"CASEWORK_PAYLOAD_KEYS": f"@{listing}"})
    assert [key.key_id for key in settings.payload_keys] == ["b", "a"]


def test_without_keys_payloads_stay_as_they_were():
    settings = Settings.from_env({})
    assert settings.payload_keys == ()
    converter = connect_options(settings.temporal_connection)["data_converter"]
    assert converter.payload_codec is None
    assert converter.payload_converter_class is PayloadConverter  # the cheaper JSON, keys or not


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("k1:" + base64.b64encode(os.urandom(16)).decode(), "key k1 is 16 bytes"),
        ("k1:not*base64!", "key k1 is not valid base64"),
        (f"k1:{KEY},k1:{OTHER}", "the key id k1 is listed twice"),
        (KEY, "entry 1 is not `id:base64-key`"),
        ("k1:@/nowhere/payload.key", "cannot read the file of key k1"),
    ],
)
def test_a_bad_key_refuses_to_start_naming_the_setting_not_the_key(value, says):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CASEWORK_PAYLOAD_KEYS": value})
    message = str(refused.value)
    assert message.startswith("CASEWORK_PAYLOAD_KEYS: ") and says in message
    assert KEY not in message and OTHER not in message and "not*base64!" not in message


async def test_each_payload_gets_a_fresh_nonce_and_a_tampered_one_is_refused():
    codec = EncryptionCodec(Settings.from_env({"CASEWORK_PAYLOAD_KEYS": f"k1:{KEY}"}).payload_keys)
    original = Payload(metadata={"encoding": b"json/plain"}, data=b'"the same text"')
    first, second = await codec.encode([original, original])
    assert first.metadata["encoding"] == ENCODING and first.metadata["encryption-key-id"] == b"k1"
    assert first.data[:12] != second.data[:12] and b"the same text" not in first.data
    assert await codec.decode([first, second]) == [original, original]
    tampered = Payload()
    tampered.CopyFrom(first)
    tampered.data = first.data[:-1] + bytes([first.data[-1] ^ 1])
    with pytest.raises(UnknownPayloadKey, match="does not decrypt"):
        await codec.decode([tampered])
    # Not ours (written before encryption): passed through as it is.
    assert await codec.decode([original]) == [original]


async def test_an_encrypted_history_read_without_keys_says_so_instead_of_failing_to_decode():
    codec = connect_options(Settings.from_env({"CASEWORK_PAYLOAD_KEYS": f"k1:{KEY}"}).temporal_connection)["data_converter"].payload_codec
    (sealed,) = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"\xe5\xbc\xa0\xe4\xbc\x9f"')])
    with pytest.raises(UnknownPayloadKey, match=r"key 'k1'.*holds no payload keys"):
        await decode_in_place(None, [sealed])
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    await decode_in_place(None, [plain])  # nothing encrypted: nothing to say
