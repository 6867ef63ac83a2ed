"""The proxy's URL rewriting (whole and streamed) and the redaction of what it records."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from mock_server.proxy import redact
from mock_server.proxy.rewrite import UrlRewriter

UPSTREAM, PUBLIC = "http://127.0.0.1:80", "http://127.0.0.1:9100"


def test_urls_naming_the_upstream_point_at_the_proxy() -> None:
    rewriter = UrlRewriter(UPSTREAM, PUBLIC)
    body = b'{"a": "http://127.0.0.1:80/storage/x", "b": "http://127.0.0.1:8080/y"}'
    assert rewriter.body(body) == (
        b'{"a": "http://127.0.0.1:9100/storage/x", "b": "http://127.0.0.1:8080/y"}'
    )
    assert rewriter.header("http://127.0.0.1:80/v2/requests/1") == f"{PUBLIC}/v2/requests/1"


_PIECES = st.sampled_from([UPSTREAM.encode(), b"http://127.0.0.1:8", b"0", b"8", b"/p", b"x"])


@given(
    pieces=st.lists(_PIECES, max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_a_streamed_body_is_rewritten_as_the_whole_would_be(
    pieces: list[bytes], cuts: list[int]
) -> None:
    rewriter = UrlRewriter(UPSTREAM, PUBLIC)
    body = b"".join(pieces)
    edges = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    stream = rewriter.stream()
    out = b"".join(stream.feed(body[a:b]) for a, b in itertools.pairwise(edges))
    assert out + stream.close() == rewriter.body(body)


def test_signatures_credentials_and_tokens_leave_urls_and_text() -> None:
    url = (
        "/storage/u/x.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026"
        "&X-Amz-Signature=abc123&AWSAccessKeyId=AKIA2&Signature=zz&Expires=9"
    )
    cleaned = redact.text(url)
    for secret in ("AKIA%2F2026", "abc123", "AKIA2", "=zz"):
        assert secret not in cleaned
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in cleaned and "Expires=9" in cleaned
    assert redact.text("Authorization: Bearer eyJ.abc") == "Authorization: Bearer [redacted]"
    assert redact.text("echo of sk-123456", ["sk-123456"]) == "echo of [redacted]"


def test_key_looking_headers_and_body_fields_are_blanked() -> None:
    headers = redact.headers([("X-Api-Key", "k1"), ("Accept", "*/*")])
    assert headers == [["X-Api-Key", "[redacted]"], ["Accept", "*/*"]]
    body = redact.body(
        b'{"api_key": "k", "webhook_secret": "s", "name": "job", "nested": {"token": "t"}}',
        "application/json",
    )
    assert body == {
        "json": {
            "api_key": "[redacted]",
            "webhook_secret": "[redacted]",
            "name": "job",
            "nested": {"token": "[redacted]"},
        }
    }
    assert redact.body(b"\xff\xd8\xff", "image/jpeg") == {"bytes": 3}


def test_a_body_without_secret_fields_is_kept_byte_for_byte() -> None:
    raw = b'{"finetune_id": "f-1",  "status":"REQUESTED", "n": [1, 2]}'
    assert redact.body(raw, "application/json") == {"text": raw.decode()}
    url = b'{"presigned_url": "http://h/storage/x?X-Amz-Date=1&X-Amz-Signature=abc"}'
    assert redact.body(url, "application/json") == {
        "text": '{"presigned_url": "http://h/storage/x?X-Amz-Date=1&X-Amz-Signature=[redacted]"}'
    }
