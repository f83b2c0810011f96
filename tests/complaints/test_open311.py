"""Open311 GeoReport v2: services, submission with an API key, single and filtered reads, errors, field by field."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.complaints.conftest import FrozenClock, file

KEY = "civic-tool-key"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


@pytest.fixture
def keyed(app: FastAPI) -> str:
    """Configures one Open311 API key."""
    app.state.settings.complaints.open311_api_keys = [KEY]
    return KEY


def submit(client: TestClient, **fields: str):
    form = {"api_key": KEY, "service_code": "facilities", "address_string": "市民中心二楼B区",
            "description": "二楼卫生间漏水很久了没人修", **fields}
    return client.post("/open311/v2/requests.json", data={k: v for k, v in form.items() if v is not None})


def test_services_list_every_category(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == ["staff_attitude", "efficiency", "system_failure",
                                                    "fees_integrity", "facilities", "policy_answer", "other"]
    first = services[0]
    assert set(first) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert first["service_name"] == "服务态度"
    assert first["metadata"] is False
    assert first["type"] == "realtime"
    assert isinstance(first["keywords"], str) and "态度" in first["keywords"]


def test_submission_answers_id_notice_and_account(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    response = submit(client, lat="31.2304", long="121.4737", phone="13812345678", first_name="明",
                      last_name="李", email="li@example.cn", media_url="https://example.cn/p.jpg")
    assert response.status_code == 200
    assert response.json() == [{"service_request_id": "TS20261121-0001",
                                "service_notice": "首次答复时限30分钟，处理方案时限48小时。", "account_id": None}]


def test_submission_errors_use_the_standard_format(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    cases = [
        ({"api_key": None}, 403), ({"api_key": "wrong"}, 403), ({"service_code": None}, 400),
        ({"service_code": "potholes"}, 404), ({"address_string": None}, 400),
        ({"address_string": None, "lat": "31.2"}, 400), ({"description": ""}, 400),
        ({"description": "短"}, 400), ({"description": "长" * 2001}, 400), ({"phone": "12345"}, 400),
        ({"lat": "north", "long": "121.4"}, 400), ({"lat": "95", "long": "121.4"}, 400),
    ]
    for fields, status in cases:
        response = submit(client, **fields)
        assert response.status_code == status, fields
        body = response.json()
        assert isinstance(body, list) and body, fields
        assert set(body[0]) == {"code", "description"}
        assert body[0]["code"] == status
    assert client.get("/open311/v2/requests.json").json() == []


def test_json_body_is_refused_as_not_form_encoded(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    response = client.post("/open311/v2/requests.json", json={"api_key": KEY, "service_code": "other"})
    assert response.status_code == 403 or response.status_code == 400
    assert isinstance(response.json(), list)


def test_single_request_field_by_field(client: TestClient, keyed: str, staff_headers, clock: FrozenClock) -> None:
    number = submit(client, lat="31.2304", long="121.4737", media_url="https://example.cn/p.jpg").json()[0][
        "service_request_id"]
    clock.advance(minutes=5)
    client.post(f"/api/complaints/{number}/first-response", json={"text": "已派人查看"}, headers=staff_headers)
    [public] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert set(public) == REQUEST_FIELDS
    assert public["service_request_id"] == number
    assert public["status"] == "open"
    assert public["status_notes"] == "已派人查看"
    assert public["service_name"] == "环境设施"
    assert public["service_code"] == "facilities"
    assert public["description"] is None  # the citizen's words only go to keyed callers
    assert public["agency_responsible"] == "政务服务中心投诉受理组"
    assert public["service_notice"] == "首次答复时限30分钟，处理方案时限48小时。"
    assert public["requested_datetime"] == "2026-11-21T15:12:00+08:00"
    assert public["updated_datetime"] == "2026-11-21T15:17:00+08:00"
    assert public["expected_datetime"] == "2026-11-23T15:12:00+08:00"
    assert public["address"] == "市民中心二楼B区"
    assert public["address_id"] is None and public["zipcode"] is None
    assert public["lat"] == 31.2304 and public["long"] == 121.4737
    assert public["media_url"] == "https://example.cn/p.jpg"
    [private] = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY}).json()
    assert private["description"] == "二楼卫生间漏水很久了没人修"


def test_closed_request_and_integrity_reports(client: TestClient, keyed: str, staff_headers,
                                              clock: FrozenClock) -> None:
    number = submit(client, service_code="fees_integrity", description="办证被索要好处费两百元").json()[0][
        "service_request_id"]
    client.post(f"/api/complaints/{number}/resolution", json={"text": "已移交纪检部门"}, headers=staff_headers)
    [found] = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY}).json()
    assert found["status"] == "closed"
    assert found["status_notes"] == "已移交纪检部门"
    assert found["expected_datetime"] is None
    assert found["description"] is None


def test_unknown_request_is_a_404_in_the_standard_format(client: TestClient, clock: FrozenClock) -> None:
    response = client.get("/open311/v2/requests/TS20990101-0001.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_list_filters(client: TestClient, keyed: str, internal_headers, staff_headers, clock: FrozenClock) -> None:
    a = submit(client).json()[0]["service_request_id"]
    clock.advance(days=2)
    b = file(client, internal_headers)["number"]
    clock.advance(days=2)
    c = submit(client, service_code="system_failure", description="自助取号机死机了").json()[0]["service_request_id"]
    client.post(f"/api/complaints/{c}/resolution", json={"text": "已重启"}, headers=staff_headers)

    def ids(**params: str) -> list[str]:
        response = client.get("/open311/v2/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert ids() == [c, b, a]
    assert ids(service_code="facilities,system_failure") == [c, a]
    assert ids(status="open") == [b, a]
    assert ids(status="closed") == [c]
    assert ids(status="open,closed") == [c, b, a]
    assert ids(start_date="2026-11-22T00:00:00+08:00") == [c, b]
    assert ids(start_date="2026-11-22T00:00:00Z", end_date="2026-11-24T00:00:00Z") == [b]
    # Ids win over every other filter, as the standard says.
    assert ids(service_request_id=f"{a},{c}", status="open") == [c, a]
    clock.advance(days=91)
    assert ids() == []


def test_list_filter_errors(client: TestClient, clock: FrozenClock) -> None:
    for params, status in (({"status": "pending"}, 400), ({"start_date": "yesterday"}, 400),
                           ({"start_date": "2026-11-21T00:00:00"}, 400), ({"service_code": "potholes"}, 404),
                           ({"start_date": "2026-11-22T00:00:00Z", "end_date": "2026-11-21T00:00:00Z"}, 400)):
        response = client.get("/open311/v2/requests.json", params=params)
        assert response.status_code == status, params
        assert response.json()[0]["code"] == status


def xml_records(response, root: str, item: str) -> list[dict[str, str | None]]:
    """Parses a GeoReport v2 XML answer into records (empty elements as None)."""
    from defusedxml import ElementTree

    assert response.headers["content-type"].startswith("application/xml")
    top = ElementTree.fromstring(response.content)
    assert top.tag == root and all(node.tag == item for node in top)
    return [{child.tag: child.text for child in node} for node in top]


def test_every_endpoint_answers_in_xml_too(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    services = xml_records(client.get("/open311/v2/services.xml"), "services", "service")
    assert [s["service_code"] for s in services][:2] == ["staff_attitude", "efficiency"]
    assert services[0]["metadata"] == "false" and services[0]["service_name"] == "服务态度"

    form = {"api_key": KEY, "service_code": "facilities", "address_string": "市民中心二楼B区",
            "description": "二楼卫生间<漏水>很久了 & 没人修\x01"}
    created = xml_records(client.post("/open311/v2/requests.xml", data=form), "service_requests", "request")
    assert created == [{"service_request_id": "TS20261121-0001",
                        "service_notice": "首次答复时限30分钟，处理方案时限48小时。", "account_id": None}]

    one = xml_records(client.get("/open311/v2/requests/TS20261121-0001.xml", params={"api_key": KEY}),
                      "service_requests", "request")
    assert set(one[0]) == REQUEST_FIELDS
    assert one[0]["status"] == "open" and one[0]["zipcode"] is None
    # Markup in a citizen's words comes back as text; a control character XML cannot carry is dropped.
    assert one[0]["description"] == "二楼卫生间<漏水>很久了 & 没人修"

    listed = xml_records(client.get("/open311/v2/requests.xml", params={"status": "open"}), "service_requests",
                         "request")
    assert [r["service_request_id"] for r in listed] == ["TS20261121-0001"]


def test_xml_errors_use_the_standard_format(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    refused = client.post("/open311/v2/requests.xml", data={"api_key": "wrong", "service_code": "facilities"})
    assert refused.status_code == 403
    assert xml_records(refused, "errors", "error") == [{"code": "403", "description": "api_key is missing or invalid"}]
    missing = client.get("/open311/v2/requests/TS20990101-0001.xml")
    assert missing.status_code == 404 and xml_records(missing, "errors", "error")[0]["code"] == "404"
    for path in ("/open311/v2/services.yaml", "/open311/v2/requests.csv", "/open311/v2/requests/TS1.html"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == [{"code": 404, "description": "format must be json or xml"}]
