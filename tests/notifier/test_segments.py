"""The SMS segment counter against the GSM 03.38 and UCS-2 rules."""

from __future__ import annotations

import pytest

from services.notifier._segments import count_segments


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        # Extension characters take an escape septet too.
        ("€" * 80, "GSM-7", 160, 1),
        ("{" * 81, "GSM-7", 162, 2),
        # é, ñ, ü, ¿, ¡ are in the default alphabet; á is not.
        ("¿Dónde?", "UCS-2", 7, 1),
        ("¿Qué año?", "GSM-7", 9, 1),
        ("é" * 70 + "á", "UCS-2", 71, 2),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),
        ("中" * 135, "UCS-2", 135, 3),
        # An emoji is a surrogate pair: two code units.
        ("😀" * 35, "UCS-2", 70, 1),
    ],
)
def test_count(text: str, encoding: str, units: int, count: int) -> None:
    segments = count_segments(text)
    assert (segments.encoding, segments.units, segments.count) == (encoding, units, count)


def test_an_escape_pair_is_not_split_between_parts() -> None:
    # 152 plain septets then a two-septet character: 154 would not fit in a 153-septet part.
    assert count_segments("a" * 152 + "€" + "a" * 10).count == 2
    assert count_segments("a" * 152 + "€" + "a" * 152).count == 3


def test_a_surrogate_pair_is_not_split_between_parts() -> None:
    assert count_segments("中" * 66 + "😀" + "中" * 66).count == 3
