"""Request ids carry the time of the request (UUIDv7), which the last service reads back."""

from __future__ import annotations

import time
import uuid

from vaxrec.ids import new_request_id, seconds_since_request


def test_request_ids_are_version_7_and_ordered_by_time() -> None:
    ids = [new_request_id() for _ in range(50)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert [i.int >> 80 for i in ids] == sorted(i.int >> 80 for i in ids)
    assert len(set(ids)) == 50


def test_the_age_of_a_request_is_read_from_its_id() -> None:
    before = time.time()
    request_id = new_request_id()
    age = seconds_since_request(request_id, now=before + 2.5)
    assert age is not None
    assert 2.4 <= age <= 2.5 + (time.time() - before)
    # RFC 9562 appendix A.6's example: 2022-02-22 19:22:22 UTC (1645557742000 ms).
    example = uuid.UUID("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")
    assert seconds_since_request(example, now=1645557742.0 + 60) == 60.0


def test_an_id_without_a_time_has_no_age() -> None:
    assert seconds_since_request(uuid.uuid4()) is None
