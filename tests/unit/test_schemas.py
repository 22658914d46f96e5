"""The timestamp format every response uses: UTC, microseconds always present, a Z."""

from datetime import UTC, datetime

from app.api.schemas import rfc3339


def test_rfc3339_always_has_six_digits_of_microseconds_and_a_z() -> None:
    assert rfc3339(datetime(2026, 11, 26, 16, 0, tzinfo=UTC)) == "2026-11-26T16:00:00.000000Z"
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)) == (
        "2026-01-02T03:04:05.123456Z"
    )
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)) == "2026-01-02T03:04:05.000007Z"
