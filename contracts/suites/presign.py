"""The presign group: presigned upload and download URLs are signed, refuse tampering,
declare the lifetime the spec documents (`x-url-ttl-seconds`, `x-url-signing`), and
refuse use once expired (steered: the clock moves; observed: real time passes, only when
the lifetime fits in `wait`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from contracts.settings import mutation_blocked
from contracts.suites.base import Suite
from contracts.suites.flows import json_object, tiny_dataset

UPLOAD, DOWNLOAD = "PUT presigned_url", "GET download URL"
#: Clock skew allowed between the harness and a remote server, for epoch expiries.
SKEW_SECONDS = 120.0


def tampered(url: str, parameter: str) -> str:
    """`url` with the last character of its signature changed."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    changed = []
    for name, value in query:
        if name == parameter and value:
            value = value[:-1] + ("A" if value[-1] != "A" else "B")
        changed.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(changed)))


class Presign(Suite):
    name = "presign"

    def run(self) -> None:
        why = mutation_blocked(self.target)
        if why:
            for label in (UPLOAD, DOWNLOAD):
                self.record("presigned_url_signed", label, skipped=why)
            return
        self.upload_url()
        self.download_url()

    def _declared(self, schema: Mapping[str, Any]) -> tuple[float, Mapping[str, str]]:
        return float(schema["x-url-ttl-seconds"]), schema["x-url-signing"]

    def upload_url(self) -> None:
        key = self.key_for("presign")
        answer = self.call(
            "finetune_upload_presigned_url", key=key, json={"name": "presign.zip"}, valid=True
        )
        url = json_object(answer).get("presigned_url")
        if answer.status_code != 200 or not isinstance(url, str):
            return
        schemas = self.spec.documents["segmind-finetune"].raw["components"]["schemas"]
        ttl, signing = self._declared(
            schemas["FinetuneUploadPresignedUrlResponse"]["properties"]["presigned_url"]
        )
        if not self.signed(UPLOAD, url, ttl, signing):
            return
        bad = self.target.request(
            "PUT", tampered(url, signing["signature"]), auth=False, content=b"x"
        )
        self.refused("presigned_url_tamper_refused", UPLOAD, bad, "a tampered signature")
        put = self.target.request("PUT", url, auth=False, content=tiny_dataset())
        self.expect(
            "presigned_upload_accepted",
            UPLOAD,
            put.status_code == 200,
            f"{put.status_code} {put.text[:120]}",
            "200 for a fresh signed PUT",
        )
        if self.let_expire(UPLOAD, ttl):
            late = self.target.request("PUT", url, auth=False, content=b"late")
            self.refused("presigned_url_expires", UPLOAD, late, "an expired URL")

    def download_url(self) -> None:
        owner, stored = self.resources.owner, self.resources.cloud_storage_url
        if not stored:
            self.record(
                "presigned_url_signed",
                DOWNLOAD,
                skipped="needs a trained model (the lifecycle group made none)",
            )
            return
        answer = self.call(
            "finetune_file_download", key=owner, data={"cloud_storage_url": stored}, valid=True
        )
        if answer.status_code != 200:
            return
        url = answer.text.strip()
        schema = self.spec.operation("finetune_file_download").raw["responses"]["200"]["content"][
            "text/plain"
        ]["schema"]
        ttl, signing = self._declared(schema)
        if not self.signed(DOWNLOAD, url, ttl, signing):
            return
        bad = self.target.request("GET", tampered(url, signing["signature"]), auth=False)
        self.refused("presigned_url_tamper_refused", DOWNLOAD, bad, "a tampered signature")
        if self.let_expire(DOWNLOAD, ttl):
            late = self.target.request("GET", url, auth=False)
            self.refused("presigned_url_expires", DOWNLOAD, late, "an expired URL")

    def signed(self, label: str, url: str, ttl: float, signing: Mapping[str, str]) -> bool:
        """The URL carries a signature and declares the documented lifetime."""
        query = dict(parse_qsl(urlsplit(url).query))
        if not self.expect(
            "presigned_url_signed",
            label,
            bool(query.get(signing["signature"])) and signing["lifetime"] in query,
            f"query parameters {sorted(query) or 'none'}",
            f"a signature in {signing['signature']} and a lifetime in {signing['lifetime']}",
        ):
            return False
        raw = query[signing["lifetime"]]
        try:
            declared = float(raw)
        except ValueError:
            declared = float("nan")
        if signing["lifetime_kind"] == "epoch":
            declared -= self.now()
        return self.expect(
            "presigned_url_lifetime",
            label,
            abs(declared - ttl) <= SKEW_SECONDS,
            f"{signing['lifetime']}={raw} (a lifetime of {declared:.0f} s)",
            f"{ttl:.0f} s (x-url-ttl-seconds)",
        )

    def now(self) -> float:
        """The target's idea of now: the mock's clock when steered, ours otherwise."""
        if self.target.is_mock:
            clock = json_object(self.target.admin("GET", "/clock"))
            # ISO 8601 with a Z: read here, as the harness never imports the server
            return datetime.fromisoformat(str(clock["now"])).timestamp()
        return time.time()

    def let_expire(self, label: str, ttl: float) -> bool:
        """Move past the URL's lifetime: steered, the clock; observed, real time when the
        lifetime fits in --wait (otherwise the check is skipped, saying why)."""
        if self.target.is_mock:
            self.target.admin("POST", "/clock/advance", json={"seconds": ttl + 1})
            return True
        if ttl >= self.settings.wait:
            self.record(
                "presigned_url_expires",
                label,
                skipped=f"the URL lives {ttl:.0f} s, longer than --wait {self.settings.wait:.0f} s",
            )
            return False
        time.sleep(ttl + 1)
        return True

    def refused(self, check: str, label: str, answer: httpx.Response, what: str) -> None:
        self.expect(
            check,
            label,
            400 <= answer.status_code < 500,
            f"{answer.status_code} {answer.text[:120]}",
            f"a 4xx (S3 answers 403) for {what}",
        )
