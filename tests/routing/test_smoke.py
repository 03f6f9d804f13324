async def test_live_send_goes_to_twilio_first(gw, gw_customer, fakes):
    r = await gw.post(
        "/messages/send",
        json={"to": "+12025550143", "from": "LynSMS", "body": "hi"},
        headers=gw_customer.live,
    )
    assert r.status_code == 201, r.text
    m = r.json()["data"]
    assert m["provider"] == "twilio", m
    assert m["route_id"] == 1
    assert fakes.received_by("+12025550143") == ["twilio"]
