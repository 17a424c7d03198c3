"""The Toxiproxy 2.x HTTP API as toxiproxy-python sees it: shapes, status codes, error bodies, proxy lifecycle."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from toxiproxy.proxy import Proxy

from tests.proxy.support import address, connect, free_port, round_trip_ms

MakeProxy = Callable[..., Proxy]


def error_of(excinfo: pytest.ExceptionInfo[Exception]) -> dict[str, object]:
    """The JSON error body a toxiproxy-python exception carries."""
    return json.loads(excinfo.value.args[0])


def test_version_names_a_2x_api(toxiproxy: Toxiproxy) -> None:
    raw = toxiproxy.version()
    assert raw
    text = raw.decode()
    version = json.loads(text)["version"] if text.lstrip().startswith("{") else text.strip()
    assert version.lstrip("v").startswith("2.")


def test_create_picks_a_port_and_get_list_and_destroy(
    toxiproxy: Toxiproxy, make_proxy: MakeProxy, tcp_upstream: str
) -> None:
    proxy = make_proxy(tcp_upstream)
    host, port = address(proxy)
    assert (host, proxy.upstream, proxy.enabled) == ("127.0.0.1", tcp_upstream, True)
    assert port != 0
    shown = APIConsumer.get(f"/proxies/{proxy.name}").json()
    assert shown == {
        "name": proxy.name,
        "listen": proxy.listen,
        "upstream": tcp_upstream,
        "enabled": True,
        "toxics": [],
    }
    assert toxiproxy.get_proxy(proxy.name).listen == proxy.listen
    assert proxy.name in toxiproxy.proxies()
    with connect(proxy) as sock:
        round_trip_ms(sock)
    assert toxiproxy.destroy(proxy) is True
    assert toxiproxy.get_proxy(proxy.name) is None
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=1).close()


def test_proxy_errors_have_toxiproxy_codes_and_bodies(
    toxiproxy: Toxiproxy, make_proxy: MakeProxy, tcp_upstream: str
) -> None:
    proxy = make_proxy(tcp_upstream)
    with pytest.raises(ProxyExists) as exists:
        APIConsumer.post("/proxies", json={"name": proxy.name, "upstream": tcp_upstream, "listen": "127.0.0.1:0"})
    assert error_of(exists) == {"error": "proxy already exists", "status": 409}
    with pytest.raises(NotFound) as missing:
        APIConsumer.get("/proxies/dch_test_nonexistent")
    assert error_of(missing) == {"error": "proxy not found", "status": 404}
    with pytest.raises(NotFound):
        APIConsumer.delete("/proxies/dch_test_nonexistent")
    with pytest.raises(InvalidToxic) as no_upstream:
        APIConsumer.post("/proxies", json={"name": "dch_test_no_upstream", "listen": "127.0.0.1:0"})
    assert error_of(no_upstream) == {"error": "missing required field: upstream", "status": 400}
    with pytest.raises(InvalidToxic) as garbage:
        APIConsumer.post("/proxies", data=b"{not json", headers={"Content-Type": "application/json"})
    body = error_of(garbage)
    assert body["status"] == 400
    assert str(body["error"]).startswith("bad request body")


def test_toxic_json_defaults_listing_update_and_removal(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="latency", attributes={"latency": 40})
    proxy.add_toxic(type="limit_data", stream="upstream", name="cap", toxicity=0.5, attributes={"bytes": 10})
    listed = APIConsumer.get(f"/proxies/{proxy.name}/toxics").json()
    assert listed == [
        {"attributes": {"bytes": 10}, "name": "cap", "type": "limit_data", "stream": "upstream", "toxicity": 0.5},
        {
            "attributes": {"latency": 40, "jitter": 0},
            "name": "latency_downstream",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1,
        },
    ]
    assert set(proxy.toxics()) == {"cap", "latency_downstream"}
    assert proxy.get_toxic("cap").attributes == {"bytes": 10}
    assert APIConsumer.get(f"/proxies/{proxy.name}").json()["toxics"] == listed

    updated = APIConsumer.post(f"/proxies/{proxy.name}/toxics/latency_downstream", json={"attributes": {"jitter": 5}})
    assert updated.status_code == 200
    assert updated.json()["attributes"] == {"latency": 40, "jitter": 5}
    assert APIConsumer.get(f"/proxies/{proxy.name}/toxics/latency_downstream").json()["attributes"]["jitter"] == 5

    assert proxy.destroy_toxic("cap") is True
    assert proxy.get_toxic("cap") is None
    with pytest.raises(NotFound) as gone:
        APIConsumer.get(f"/proxies/{proxy.name}/toxics/cap")
    assert error_of(gone) == {"error": "toxic not found", "status": 404}
    with pytest.raises(NotFound):
        APIConsumer.delete(f"/proxies/{proxy.name}/toxics/cap")


def test_toxic_errors_have_toxiproxy_codes_and_bodies(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    with pytest.raises(InvalidToxic) as bad_type:
        proxy.add_toxic(type="no_such_toxic")
    assert error_of(bad_type) == {"error": "invalid toxic type", "status": 400}
    with pytest.raises(InvalidToxic) as bad_stream:
        proxy.add_toxic(type="latency", stream="sideways")
    assert error_of(bad_stream) == {
        "error": "stream was invalid, can be either upstream or downstream",
        "status": 400,
    }
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    with pytest.raises(ProxyExists) as twice:
        proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    assert error_of(twice) == {"error": "toxic already exists", "status": 409}
    with pytest.raises(InvalidToxic) as not_int:
        proxy.add_toxic(type="latency", name="bad", attributes={"latency": "slow"})
    assert error_of(not_int)["status"] == 400
    with pytest.raises(NotFound):
        APIConsumer.post("/proxies/dch_test_nonexistent/toxics", json={"type": "latency"})


def test_disabled_proxy_refuses_then_listens_again_on_the_same_address(
    make_proxy: MakeProxy, tcp_upstream: str
) -> None:
    proxy = make_proxy(tcp_upstream)
    established = connect(proxy)
    round_trip_ms(established)
    with proxy.down():
        assert APIConsumer.get(f"/proxies/{proxy.name}").json()["enabled"] is False
        with pytest.raises(ConnectionRefusedError):
            connect(proxy, timeout=1)
        try:
            assert established.recv(16) == b"", "disabling must close existing connections"
        except ConnectionResetError:
            pass
    established.close()
    assert APIConsumer.get(f"/proxies/{proxy.name}").json()["enabled"] is True
    with connect(proxy) as sock:
        round_trip_ms(sock)


def test_created_disabled_proxy_does_not_listen_until_enabled(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    port = free_port()
    proxy = make_proxy(tcp_upstream, listen=f"127.0.0.1:{port}", enabled=False)
    assert (proxy.enabled, proxy.listen) == (False, f"127.0.0.1:{port}")
    with pytest.raises(ConnectionRefusedError):
        connect(proxy, timeout=1)
    proxy.enable()
    with connect(proxy) as sock:
        round_trip_ms(sock)


def test_reset_enables_every_proxy_and_removes_every_toxic(
    toxiproxy: Toxiproxy, make_proxy: MakeProxy, tcp_upstream: str
) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="latency", attributes={"latency": 300})
    other = make_proxy(tcp_upstream)
    other.disable()
    assert toxiproxy.reset() is True
    assert proxy.toxics() == {}
    assert APIConsumer.get(f"/proxies/{other.name}").json()["enabled"] is True
    with connect(proxy) as sock:
        assert round_trip_ms(sock) < 150


def test_populate_through_the_client_is_idempotent(toxiproxy: Toxiproxy, tcp_upstream: str) -> None:
    wanted = [
        {"name": "dch_test_pop_a", "upstream": tcp_upstream, "listen": f"127.0.0.1:{free_port()}"},
        {"name": "dch_test_pop_b", "upstream": tcp_upstream, "listen": f"127.0.0.1:{free_port()}"},
    ]
    created = toxiproxy.populate(wanted)
    assert sorted(p.name for p in created) == ["dch_test_pop_a", "dch_test_pop_b"]
    assert toxiproxy.populate(wanted) == []  # same listen and upstream: left alone
    with connect(toxiproxy.get_proxy("dch_test_pop_b")) as sock:
        round_trip_ms(sock)


def test_populate_endpoint_creates_replaces_and_validates(toxiproxy: Toxiproxy, tcp_upstream: str) -> None:
    listen = f"127.0.0.1:{free_port()}"
    response = APIConsumer.post(
        "/populate", json=[{"name": "dch_test_pop_c", "upstream": tcp_upstream, "listen": listen}]
    )
    assert response.status_code == 201
    (proxy,) = response.json()["proxies"]
    assert {k: proxy[k] for k in ("name", "listen", "upstream", "enabled", "toxics")} == {
        "name": "dch_test_pop_c",
        "listen": listen,
        "upstream": tcp_upstream,
        "enabled": True,
        "toxics": [],
    }
    with pytest.raises(InvalidToxic) as invalid:
        APIConsumer.post("/populate", json=[{"name": "dch_test_pop_d", "listen": "127.0.0.1:0"}])
    body = error_of(invalid)
    assert (body["error"], body["status"], body.get("proxies")) == (
        "missing required field: upstream at proxy 1",
        400,
        None,
    )
    assert toxiproxy.get_proxy("dch_test_pop_d") is None


def test_successful_calls_answer_toxiproxys_status_codes(toxiproxy: Toxiproxy, tcp_upstream: str) -> None:
    created = APIConsumer.post(
        "/proxies", json={"name": "dch_test_codes", "upstream": tcp_upstream, "listen": "127.0.0.1:0"}
    )
    assert (created.status_code, created.json()["name"]) == (201, "dch_test_codes")
    assert APIConsumer.get("/proxies").status_code == 200
    toxic = APIConsumer.post("/proxies/dch_test_codes/toxics", json={"type": "latency", "attributes": {"latency": 1}})
    assert toxic.status_code == 200
    assert APIConsumer.delete("/proxies/dch_test_codes/toxics/latency_downstream").status_code == 204
    assert APIConsumer.post("/reset").status_code == 204
    assert APIConsumer.delete("/proxies/dch_test_codes").status_code == 204


def test_changing_listen_moves_the_proxy(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    old_port = address(proxy)[1]
    new_listen = f"127.0.0.1:{free_port()}"
    moved = APIConsumer.post(f"/proxies/{proxy.name}", json={"listen": new_listen}).json()
    assert (moved["listen"], moved["enabled"]) == (new_listen, True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", old_port), timeout=1).close()
    with connect(new_listen) as sock:
        round_trip_ms(sock)


def test_unreachable_upstream_closes_the_client_connection(make_proxy: MakeProxy) -> None:
    proxy = make_proxy(f"127.0.0.1:{free_port()}")
    with connect(proxy) as sock:
        try:
            assert sock.recv(16) == b""
        except ConnectionResetError:
            pass
