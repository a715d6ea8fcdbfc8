"""The attribute helpers the SNS and SQS providers share."""

from __future__ import annotations

from workshop.emulator.providers.base import attribute_map, changed_attributes


def test_attribute_map_keeps_named_properties_as_text() -> None:
    properties = {"RawMessageDelivery": True, "FilterPolicy": {"game": ["trivia"]},
                  "DelaySeconds": 5, "Tags": [{"Key": "k", "Value": "v"}]}
    assert attribute_map(properties, ("RawMessageDelivery", "FilterPolicy", "DelaySeconds",
                                      "Absent")) == {
        "RawMessageDelivery": "true", "FilterPolicy": '{"game": ["trivia"]}',
        "DelaySeconds": "5"}


def test_changed_attributes_sets_what_changed_and_resets_what_has_a_default() -> None:
    before = {"A": "1", "B": "2", "C": "3"}
    after = {"A": "1", "B": "20", "D": "4"}
    assert changed_attributes(before, after) == {"B": "20", "D": "4"}
    assert changed_attributes(before, after, defaults={"C": "0"}) == {
        "B": "20", "C": "0", "D": "4"}
    assert changed_attributes(after, after) == {}
