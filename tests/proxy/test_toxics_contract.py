"""Each toxic's effect, measured from a client's side through real local upstreams (toxiproxy-python only)."""

from __future__ import annotations

import http.client
import socket
import statistics
import time
from collections.abc import Callable

import pytest
from toxiproxy.api import APIConsumer
from toxiproxy.proxy import Proxy

from tests.proxy.support import address, connect, pattern, recv_all, recv_exactly, round_trip_ms

MakeProxy = Callable[..., Proxy]
SLACK_MS = 80  # scheduling slack on a busy 2-core CI machine


def since_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def test_latency_adds_its_delay_on_each_stream(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    with connect(proxy) as sock:
        assert round_trip_ms(sock) < 50
        proxy.add_toxic(type="latency", attributes={"latency": 100})  # applies to the live connection
        samples = [round_trip_ms(sock) for _ in range(3)]
        assert all(98 <= s <= 100 + SLACK_MS for s in samples), samples
        proxy.add_toxic(type="latency", stream="upstream", attributes={"latency": 60})
        both = round_trip_ms(sock)
        assert 158 <= both <= 160 + SLACK_MS
        proxy.destroy_toxic("latency_downstream")
        proxy.destroy_toxic("latency_upstream")
        assert round_trip_ms(sock) < 50


def test_updating_a_toxic_changes_live_connections(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="latency", attributes={"latency": 150})
    with connect(proxy) as sock:
        assert round_trip_ms(sock) >= 148
        updated = APIConsumer.post(
            f"/proxies/{proxy.name}/toxics/latency_downstream", json={"attributes": {"latency": 20}}
        )
        assert updated.json()["attributes"] == {"latency": 20, "jitter": 0}
        assert 18 <= round_trip_ms(sock) <= 20 + SLACK_MS
        APIConsumer.post(f"/proxies/{proxy.name}/toxics/latency_downstream", json={"toxicity": 0})
        assert round_trip_ms(sock) < 18


def test_latency_jitter_spreads_around_the_latency(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="latency", attributes={"latency": 80, "jitter": 40})
    with connect(proxy) as sock:
        samples = [round_trip_ms(sock) for _ in range(15)]
    assert all(38 <= s <= 120 + SLACK_MS for s in samples), samples
    assert max(samples) - min(samples) >= 20, samples
    assert 60 <= statistics.median(samples) <= 100 + SLACK_MS / 2, samples


def test_http_requests_through_the_proxy_see_the_latency(make_proxy: MakeProxy, http_upstream: str) -> None:
    proxy = make_proxy(http_upstream)
    host, port = address(proxy)
    client = http.client.HTTPConnection(host, port, timeout=3)
    for i in range(5):
        client.request("GET", f"/n/{i}")
        response = client.getresponse()
        assert (response.status, response.read()) == (200, f"path=/n/{i}".encode())
    proxy.add_toxic(type="latency", attributes={"latency": 50})
    started = time.perf_counter()
    client.request("GET", "/slow")
    assert client.getresponse().read() == b"path=/slow"
    assert 48 <= since_ms(started) <= 50 + SLACK_MS
    client.close()


def test_timeout_swallows_data_then_closes(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="timeout", attributes={"timeout": 300})
    started = time.perf_counter()
    with connect(proxy) as sock:
        sock.sendall(b"anyone there?\n")
        assert recv_all(sock)[0] == b""  # nothing came back, then the connection closed
    assert 280 <= since_ms(started) <= 300 + 2 * SLACK_MS


def test_timeout_zero_holds_the_connection_until_removed(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    with connect(proxy) as sock:
        round_trip_ms(sock)
        proxy.add_toxic(type="timeout", attributes={"timeout": 0})
        sock.sendall(b"lost\n")
        sock.settimeout(0.4)
        with pytest.raises(socket.timeout):
            sock.recv(16)  # neither data nor a close
        sock.settimeout(3)
        proxy.destroy_toxic("timeout_downstream")
        sock.sendall(b"after\n")
        assert recv_exactly(sock, 6) == b"after\n"  # data sent during the timeout was dropped


def test_bandwidth_caps_throughput(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    size, rate_kb = 100_000, 250
    started = time.perf_counter()
    with connect(proxy) as sock:
        sock.sendall(f"send-close {size}\n".encode())
        assert recv_all(sock)[0] == pattern(size)
    unlimited_ms = since_ms(started)
    proxy.add_toxic(type="bandwidth", attributes={"rate": rate_kb})
    started = time.perf_counter()
    with connect(proxy) as sock:
        sock.sendall(f"send-close {size}\n".encode())
        assert recv_all(sock)[0] == pattern(size)
    elapsed_ms = since_ms(started)
    measured_kb = size / elapsed_ms  # bytes per ms == KB/s
    assert unlimited_ms < 100
    assert 0.75 * rate_kb <= measured_kb <= 1.1 * rate_kb, (measured_kb, elapsed_ms)


def test_reset_peer_resets_the_connection(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="reset_peer", stream="upstream", attributes={"timeout": 0})
    with connect(proxy) as sock:
        sock.sendall(b"hello\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(16)


def test_reset_peer_waits_its_timeout_after_the_first_data(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="reset_peer", attributes={"timeout": 200})
    with connect(proxy) as sock:
        started = time.perf_counter()
        sock.sendall(b"hello\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(16)
        assert 190 <= since_ms(started) <= 200 + 2 * SLACK_MS


def test_slicer_delivers_the_same_bytes_in_pieces(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    with connect(proxy) as sock:
        sock.sendall(b"send-close 2000\n")
        whole, reads_before = recv_all(sock)
    assert whole == pattern(2000)
    proxy.add_toxic(type="slicer", attributes={"average_size": 100, "size_variation": 20, "delay": 5000})
    started = time.perf_counter()
    with connect(proxy) as sock:
        sock.sendall(b"send-close 2000\n")
        sliced, reads = recv_all(sock)
    assert sliced == pattern(2000)
    assert reads >= 8 > reads_before, (reads, reads_before)
    assert since_ms(started) >= 60  # >= 16 pieces, 5 ms apart


def test_limit_data_closes_after_n_bytes(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="limit_data", attributes={"bytes": 100})
    with connect(proxy) as sock:
        sock.sendall(b"send 1000\n")  # the upstream keeps its side open: only the toxic can close it
        assert recv_all(sock)[0] == pattern(100)


def test_slow_close_delays_the_close(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)

    def close_gap_ms() -> float:
        with connect(proxy) as sock:
            sock.sendall(b"send-close 10\n")
            assert recv_exactly(sock, 10) == pattern(10)
            started = time.perf_counter()
            assert sock.recv(16) == b""
            return since_ms(started)

    assert close_gap_ms() < 50
    proxy.add_toxic(type="slow_close", attributes={"delay": 300})
    assert 280 <= close_gap_ms() <= 300 + 2 * SLACK_MS


def test_toxicity_zero_never_applies_and_one_always_does(make_proxy: MakeProxy, tcp_upstream: str) -> None:
    proxy = make_proxy(tcp_upstream)
    proxy.add_toxic(type="latency", name="never", toxicity=0.0, attributes={"latency": 150})
    for _ in range(8):
        with connect(proxy) as sock:
            assert round_trip_ms(sock) < 100
    proxy.destroy_toxic("never")
    proxy.add_toxic(type="latency", name="always", toxicity=1.0, attributes={"latency": 80})
    for _ in range(3):
        with connect(proxy) as sock:
            assert round_trip_ms(sock) >= 78


def test_no_toxic_overhead_is_small(
    make_proxy: MakeProxy, tcp_upstream: str, record_property: Callable[[str, object], None]
) -> None:
    proxy = make_proxy(tcp_upstream)
    payload = b"x" * 63 + b"\n"
    direct, proxied = [], []
    with connect(tcp_upstream) as plain, connect(proxy) as through:
        for _ in range(20):  # warm up
            round_trip_ms(plain, payload)
            round_trip_ms(through, payload)
        for _ in range(200):  # interleaved, so load bursts on a shared machine hit both
            direct.append(round_trip_ms(plain, payload))
            proxied.append(round_trip_ms(through, payload))
    direct.sort()
    proxied.sort()
    added = {"p50_ms": round(proxied[100] - direct[100], 3), "p95_ms": round(proxied[190] - direct[190], 3)}
    record_property("proxy_overhead", added)
    print(
        f"\nno-toxic round trip: direct p50 {direct[100]:.3f} ms p95 {direct[190]:.3f} ms; "
        f"proxied p50 {proxied[100]:.3f} ms p95 {proxied[190]:.3f} ms; added {added}"
    )
    assert proxied[100] - direct[100] < 2.0
