"""Point absolute URLs that name the upstream at the proxy, so a client that follows a URL from
an answer (a presigned upload, a download, a v2 status URL) keeps going through the proxy."""

from __future__ import annotations

import re


class UrlRewriter:
    """`upstream` -> `public` in bodies and `Location` headers. A match followed by a digit is
    left alone: `http://h:80` must not rewrite inside `http://h:8080`."""

    def __init__(self, upstream: str, public: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.public = public.rstrip("/")
        self.pattern = re.compile(re.escape(self.upstream.encode()) + rb"(?![0-9])")

    @property
    def keeps_length(self) -> bool:
        """True when a rewrite never changes a body's length (both origins equally long)."""
        return len(self.upstream.encode()) == len(self.public.encode())

    def body(self, data: bytes) -> bytes:
        return self.pattern.sub(self.public.encode(), data)

    def header(self, value: str) -> str:
        return self.body(value.encode("latin-1")).decode("latin-1")

    def stream(self) -> StreamRewriter:
        return StreamRewriter(self)


class StreamRewriter:
    """The same rewrite over a body that arrives in chunks, in bounded memory: it holds back
    only the tail where a match could still be undecided (cut by the chunk edge, or waiting
    for the byte the digit guard looks at), at most `len(upstream)` bytes."""

    def __init__(self, rewriter: UrlRewriter) -> None:
        self._rewriter = rewriter
        self._length = len(rewriter.upstream.encode())
        self._public = rewriter.public.encode()
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk
        # a match starting before `cut` has its end and its guard byte inside `data`
        cut = len(data) - self._length
        out, done = [], 0
        for match in self._rewriter.pattern.finditer(data):
            if match.start() >= cut:
                break
            out += [data[done : match.start()], self._public]
            done = match.end()
        boundary = max(cut, done)
        out.append(data[done:boundary])
        self._pending = data[boundary:]
        return b"".join(out)

    def close(self) -> bytes:
        rest, self._pending = self._pending, b""
        return self._rewriter.body(rest)
