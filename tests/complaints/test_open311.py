"""Open311 GeoReport v2: services, submission with an API key, single and filtered reads, errors, field by field.

And what the public must never see: internal staff notes, names, phone and ID numbers, free-text addresses,
and a way to walk every ticket without a key.
"""

import re

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
    assert client.get("/open311/v2/requests.json", params={"api_key": KEY}).json() == []


def test_json_body_is_refused_as_not_form_encoded(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    response = client.post("/open311/v2/requests.json", json={"api_key": KEY, "service_code": "other"})
    assert response.status_code == 403 or response.status_code == 400
    assert isinstance(response.json(), list)


def test_single_request_field_by_field(client: TestClient, keyed: str, staff_headers, clock: FrozenClock) -> None:
    number = submit(client, lat="31.2304", long="121.4737", media_url="https://example.cn/p.jpg",
                    address_string="市民中心二楼5号窗口旁").json()[0]["service_request_id"]
    clock.advance(minutes=5)
    client.post(f"/api/complaints/{number}/first-response", json={"text": "已派人查看", "is_public": True},
                headers=staff_headers)
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
    assert public["address"] == "5号窗口"  # the service window, never the citizen's free text
    assert public["address_id"] is None and public["zipcode"] is None
    assert public["lat"] is None and public["long"] is None and public["media_url"] is None
    [private] = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY}).json()
    assert private["description"] == "二楼卫生间漏水很久了没人修"
    assert private["address"] == "5号窗口"
    assert private["lat"] == 31.2304 and private["long"] == 121.4737
    assert private["media_url"] == "https://example.cn/p.jpg"


def test_closed_request_and_integrity_reports(client: TestClient, keyed: str, staff_headers,
                                              clock: FrozenClock) -> None:
    number = submit(client, service_code="fees_integrity", description="办证被索要好处费两百元").json()[0][
        "service_request_id"]
    client.post(f"/api/complaints/{number}/resolution", json={"text": "已移交纪检部门", "is_public": True},
                headers=staff_headers)
    [found] = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY}).json()
    assert found["status"] == "closed"
    assert found["status_notes"] == "已移交纪检部门"
    assert found["expected_datetime"] is None
    assert found["description"] is None and found["address"] is None and found["lat"] is None


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
        response = client.get("/open311/v2/requests.json", params={"api_key": KEY, **params})
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


def test_list_filter_errors(client: TestClient, keyed: str, clock: FrozenClock) -> None:
    for params, status in (({"status": "pending"}, 400), ({"start_date": "yesterday"}, 400),
                           ({"start_date": "2026-11-21T00:00:00"}, 400), ({"service_code": "potholes"}, 404),
                           ({"start_date": "2026-11-22T00:00:00Z", "end_date": "2026-11-21T00:00:00Z"}, 400)):
        response = client.get("/open311/v2/requests.json", params={"api_key": KEY, **params})
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

    listed = xml_records(client.get("/open311/v2/requests.xml", params={"status": "open", "api_key": KEY}),
                         "service_requests", "request")
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


# --- what the public never sees ------------------------------------------------------------------

NAME, PHONE, ID_NUMBER, ADDRESS = "李明", "13912345678", "11010519491231002X", "幸福路88号3栋502室"
STAFF_NAME, STAFF_PHONE = "张三", "13712345678"
# Any mainland mobile (also spaced or dashed) or 18-character ID number left in clear.
UNMASKED = re.compile(r"(?<!\d)(?:1[3-9]\d[ -]?\d{4}[ -]?\d{4}|\d{17}[\dXx])(?!\d)")


def sensitive_ticket(client: TestClient, staff_headers: dict[str, str], clock: FrozenClock) -> str:
    """A ticket whose citizen gave a name, phone, ID number and home address, with an internal staff note."""
    number = submit(client, service_code="staff_attitude", first_name="明", last_name="李", phone=PHONE,
                    address_string=f"{ADDRESS}，投诉7号窗口", lat="31.2304", long="121.4737",
                    description=f"我叫{NAME}，身份证{ID_NUMBER}，电话{PHONE}，7号窗口工作人员态度恶劣"
                    ).json()[0]["service_request_id"]
    clock.advance(minutes=5)
    answer = client.post(f"/api/complaints/{number}/first-response", headers=staff_headers,
                         json={"text": f"已电话联系投诉人{STAFF_NAME}（{STAFF_PHONE}），核实身份证{ID_NUMBER}"})
    assert answer.status_code == 200, answer.text
    return number


def every_read(client: TestClient, number: str) -> list:
    """Every way to read the ticket through Open311, public and keyed, in JSON and XML."""
    responses = []
    for fmt in ("json", "xml"):
        responses += [
            client.get(f"/open311/v2/requests/{number}.{fmt}"),
            client.get(f"/open311/v2/requests/{number}.{fmt}", params={"api_key": KEY}),
            client.get(f"/open311/v2/requests.{fmt}", params={"service_request_id": number}),
            client.get(f"/open311/v2/requests.{fmt}", params={"api_key": KEY}),
            client.get(f"/open311/v2/requests.{fmt}", params={"api_key": KEY, "service_request_id": number}),
        ]
    for response in responses:
        assert response.status_code == 200, (response.request.url, response.text)
    return responses


def test_internal_staff_notes_names_phones_and_addresses_never_appear(
        client: TestClient, keyed: str, staff_headers, clock: FrozenClock) -> None:
    number = sensitive_ticket(client, staff_headers, clock)
    for response in every_read(client, number):
        body = response.text
        for secret in (STAFF_NAME, STAFF_PHONE, NAME, PHONE, ID_NUMBER, ADDRESS, "幸福路", "已电话联系"):
            assert secret not in body, (secret, response.request.url)
        assert not UNMASKED.search(body), (UNMASKED.search(body), response.request.url)
    [public] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert public["status_notes"] is None and public["description"] is None
    assert public["address"] == "7号窗口"
    assert public["lat"] is None and public["long"] is None
    public_xml = xml_records(client.get(f"/open311/v2/requests/{number}.xml"), "service_requests", "request")
    assert public_xml[0]["status_notes"] is None and public_xml[0]["address"] == "7号窗口"
    # A keyed caller gets the citizen's words, masked.
    [private] = client.get(f"/open311/v2/requests/{number}.json", params={"api_key": KEY}).json()
    assert private["description"] == "我叫李*，身份证110105********002X，电话139****5678，7号窗口工作人员态度恶劣"
    # The staff API still has all of it: the note was recorded, only Open311 leaves it out.
    staff_view = client.get(f"/api/complaints/{number}", headers=staff_headers).json()
    assert STAFF_NAME in staff_view["events"][-1]["text"] and staff_view["events"][-1]["is_public"] is False


def test_a_note_marked_public_appears_masked(client: TestClient, keyed: str, staff_headers,
                                             clock: FrozenClock) -> None:
    number = sensitive_ticket(client, staff_headers, clock)
    client.post(f"/api/complaints/{number}/plan", headers=staff_headers, json={
        "text": f"已约{NAME}（{PHONE}）面谈，身份证{ID_NUMBER.lower()}已核验，窗口负责人将当面致歉", "is_public": True})
    expected = "已约李*（139****5678）面谈，身份证110105********002X已核验，窗口负责人将当面致歉"
    [public] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert public["status_notes"] == expected
    public_xml = xml_records(client.get(f"/open311/v2/requests/{number}.xml"), "service_requests", "request")
    assert public_xml[0]["status_notes"] == expected
    # A later internal note does not replace the public one.
    client.post(f"/api/complaints/{number}/resolution", headers=staff_headers,
                json={"text": f"内部：{STAFF_NAME}已被约谈"})
    for response in every_read(client, number):
        assert STAFF_NAME not in response.text and not UNMASKED.search(response.text)
    [public] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert public["status"] == "closed" and public["status_notes"] == expected


def test_the_console_checkbox_makes_a_note_public(client: TestClient, keyed: str, internal_headers,
                                                  sign_in_as, clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    csrf = sign_in_as()
    page = client.get(f"/console/complaints/{number}")
    assert 'name="is_public"' in page.text
    client.post(f"/console/complaints/{number}/first-response", data={"text": "内部：已联系13800001111",
                                                                      "csrf_token": csrf}, follow_redirects=False)
    [found] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert found["status_notes"] is None
    done = client.post(f"/console/complaints/{number}/plan", follow_redirects=False, data={
        "text": "已联系市民（13800001111），窗口负责人已整改", "is_public": "true", "csrf_token": csrf})
    assert done.status_code == 303
    [found] = client.get(f"/open311/v2/requests/{number}.json").json()
    assert found["status_notes"] == "已联系市民（138****1111），窗口负责人已整改"
    assert "已公开" in client.get(f"/console/complaints/{number}").text


def test_bulk_reads_need_a_key_and_a_single_lookup_answers_public_fields(
        client: TestClient, keyed: str, staff_headers, clock: FrozenClock) -> None:
    first = sensitive_ticket(client, staff_headers, clock)
    second = submit(client).json()[0]["service_request_id"]
    refusals = [
        client.get("/open311/v2/requests.json"),
        client.get("/open311/v2/requests.json", params={"api_key": "wrong"}),
        client.get("/open311/v2/requests.json", params={"status": "open"}),
        client.get("/open311/v2/requests.json", params={"service_request_id": f"{first},{second}"}),
        client.get("/open311/v2/requests.json", params={"service_request_id": f"{first}, {second}",
                                                        "api_key": ""}),
    ]
    for response in refusals:
        assert response.status_code == 403, response.request.url
        assert response.json() == [{"code": 403, "description": "api_key is missing or invalid"}]
    for params in ({}, {"service_request_id": f"{first},{second}"}):
        refused = client.get("/open311/v2/requests.xml", params=params)
        assert refused.status_code == 403
        assert xml_records(refused, "errors", "error") == [{"code": "403",
                                                            "description": "api_key is missing or invalid"}]
    [one] = client.get("/open311/v2/requests.json", params={"service_request_id": first}).json()
    [single] = client.get(f"/open311/v2/requests/{first}.json").json()
    assert one == single
    assert single["service_request_id"] == first and single["status"] == "open"
    assert {k for k, v in single.items() if v is not None} == {
        "service_request_id", "status", "service_name", "service_code", "agency_responsible", "service_notice",
        "requested_datetime", "updated_datetime", "expected_datetime", "address"}
    keyed_list = client.get("/open311/v2/requests.json", params={"api_key": KEY}).json()
    assert [r["service_request_id"] for r in keyed_list] == [second, first]
