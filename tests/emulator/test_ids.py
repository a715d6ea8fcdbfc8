"""The local cloud's ids have the shapes AWS gives them."""

from __future__ import annotations

import uuid

from workshop.emulator.ids import RANDOM_IDS


def test_request_ids_are_version_4_uuids() -> None:
    ids = [RANDOM_IDS.request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lower-case, dashed: what str(uuid.uuid4()) gives
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    # Every variant digit RFC 4122 allows turns up, and the random bits do vary.
    assert {text[19] for text in ids} == set("89ab")
    assert len({text[14:18] for text in ids}) > 1000


def test_connection_ids_look_like_api_gateways() -> None:
    ids = [RANDOM_IDS.connection_id() for _ in range(500)]
    assert len(set(ids)) == len(ids)
    assert all(len(text) == 16 and text.endswith("=") for text in ids)
