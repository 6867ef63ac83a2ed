"""The outbound policy on its own: every spelling of this machine on an own port is
refused, keywords and allow-lists decide the rest, and names resolve before they pass."""

from __future__ import annotations

import ipaddress

import pytest

from mock_server.config import Config, build_config
from mock_server.errors import ConfigError
from mock_server.outbound import Guard, OwnListeners, TargetPolicy, TargetRefused
from mock_server.outbound.calls import error_class
from mock_server.outbound.guard import CANNOT_CONNECT, NOT_ALLOWED, Unresolvable
from mock_server.outbound.listeners import is_local
from mock_server.outbound.policy import normalized

OWN = 8765
ip = ipaddress.ip_address


@pytest.mark.parametrize(
    "spelling",
    [
        "127.0.0.1",
        "127.1.2.3",  # all of 127/8 is this machine
        "::1",
        "0.0.0.0",  # connects to this host
        "::",
        "::ffff:127.0.0.1",  # IPv4-mapped IPv6
        "::ffff:7f00:1",  # the same, in hex groups
    ],
)
def test_every_spelling_of_this_machine_on_an_own_port_is_refused(spelling: str) -> None:
    guard = Guard(TargetPolicy(), OwnListeners(OWN))
    with pytest.raises(TargetRefused, match="own address"):
        guard.pick("x", OWN, [ip(spelling)])
    assert guard.pick("x", OWN + 1, [ip(spelling)]) == normalized(ip(spelling))  # other ports


def test_names_are_resolved_before_the_check() -> None:
    guard = Guard(TargetPolicy(), OwnListeners(OWN))
    for name in ("localhost", "[::1]", "127.0.0.1"):
        with pytest.raises(TargetRefused):
            guard.pick(name, OWN, guard.resolve(name.strip("[]"), OWN))


def test_a_name_with_one_forbidden_address_is_refused_whole() -> None:
    guard = Guard(TargetPolicy.parse("private"), OwnListeners(OWN))
    with pytest.raises(TargetRefused):
        guard.pick("mixed", 80, [ip("10.0.0.1"), ip("8.8.8.8")])
    with pytest.raises(TargetRefused, match="own address"):
        guard.pick("mixed", OWN, [ip("10.0.0.1"), ip("127.0.0.1")])


def test_a_port_seen_on_a_request_becomes_an_own_port() -> None:
    own = OwnListeners(None)
    guard = Guard(TargetPolicy(), own)
    assert guard.pick("x", 9999, [ip("127.0.0.1")])
    own.note(("127.0.0.1", 9999))
    own.note(None)  # a scope without server: nothing
    own.note(("mock.test", 80))  # an in-process transport's URL host: no socket of ours
    with pytest.raises(TargetRefused):
        guard.pick("x", 9999, [ip("127.0.0.1")])
    assert own.ports() == {9999}


def test_local_means_an_address_of_this_machine() -> None:
    assert is_local(ip("127.0.0.1")) and is_local(ip("0.0.0.0")) and is_local(ip("::1"))
    assert not is_local(ip("192.0.2.1"))  # TEST-NET-1: never a local address


@pytest.mark.parametrize(
    ("policy", "allowed", "refused"),
    [
        ("any", ["8.8.8.8", "10.0.0.1", "127.0.0.1"], []),
        (
            "loopback",
            ["127.0.0.1", "::1", "127.9.9.9", "::ffff:127.0.0.1"],
            ["10.0.0.1", "8.8.8.8"],
        ),
        (
            "private",
            ["127.0.0.1", "10.1.2.3", "192.168.0.4", "172.16.0.1", "fd00::1"],
            ["8.8.8.8", "2001:4860::8888"],
        ),
        ("10.0.0.0/8, 2001:db8::/32", ["10.200.0.1", "2001:db8::5"], ["11.0.0.1", "127.0.0.1"]),
    ],
)
def test_policies_allow_and_refuse(policy: str, allowed: list[str], refused: list[str]) -> None:
    parsed = TargetPolicy.parse(policy)
    for address in allowed:
        assert parsed.allows("h", ip(address)), address
    for address in refused:
        assert not parsed.allows("h", ip(address)), address


def test_an_allow_list_names_hosts_and_wildcards() -> None:
    policy = TargetPolicy.parse(["hooks.example.com", "*.ci.example.org", "192.0.2.0/24"])
    anywhere = ip("203.0.113.9")
    assert policy.allows("hooks.example.com", anywhere)
    assert policy.allows("HOOKS.example.com.", anywhere)
    assert policy.allows("a.ci.example.org", anywhere)
    assert not policy.allows("ci.example.org.evil.test", anywhere)
    assert not policy.allows("other.example.com", anywhere)
    assert policy.allows("other.example.com", ip("192.0.2.77"))


@pytest.mark.parametrize("bad", ["", "nope!", "10.0.0.0/33", ["a b"]])
def test_a_bad_policy_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="webhook_targets"):
        Config().with_overrides(webhook_targets=bad)


def test_allow_lists_come_from_the_env_as_commas_and_survive_workers(monkeypatch) -> None:
    monkeypatch.setenv("TUNEMOCK_FETCH_TARGETS", "10.0.0.0/8,files.example.com")
    config = build_config()
    assert config.fetch_targets == ("10.0.0.0/8", "files.example.com")
    assert Config.from_json(config.to_json()).fetch_targets == config.fetch_targets


def test_error_classes_name_no_os_words() -> None:
    import httpx

    assert error_class(TargetRefused(NOT_ALLOWED)) == NOT_ALLOWED
    assert error_class(Unresolvable("x")) == CANNOT_CONNECT
    assert error_class(httpx.ConnectError("[Errno 111] Connection refused")) == CANNOT_CONNECT
    assert error_class(httpx.ConnectTimeout("timed out")) == CANNOT_CONNECT
