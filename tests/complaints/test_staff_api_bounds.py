"""The staff API refuses out-of-range ids with a clear 422 instead of failing in the database."""

import pytest
from fastapi.testclient import TestClient

from tests.complaints.conftest import FrozenClock


@pytest.mark.parametrize("escalation_id", [2**100, 2**31, 0, -1])
def test_escalation_ids_out_of_range_are_refused(client: TestClient, staff_headers, clock: FrozenClock,
                                                 escalation_id: int) -> None:
    """Found by the OpenAPI fuzz: an id past 64 bits raised OverflowError in SQLite (a 500)."""
    response = client.post(f"/api/complaints/escalations/{escalation_id}/acknowledge", headers=staff_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_an_unknown_escalation_in_range_is_404(client: TestClient, staff_headers, clock: FrozenClock) -> None:
    response = client.post(f"/api/complaints/escalations/{2**31 - 1}/acknowledge", headers=staff_headers)
    assert response.status_code == 404
