"""S3-style query signatures for the mock's storage (HMAC over method, path and expiry).

Written by hand on purpose: real SigV4 needs AWS credentials and canonical-request rules
that no client of the mock ever checks; what matters is that the URLs look like the docs'
(X-Amz-* for uploads, AWSAccessKeyId/Signature/Expires for downloads), that tampering or
expiry is detected, and that expiry follows the mock's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

ACCESS_KEY_ID = "TUNEMOCKACCESSKEY"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class SignatureProblem(Exception):
    """Why a presigned URL is refused; `code` is the S3 error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, *parts: str) -> bytes:
        return hmac.new(self._secret, "\n".join(parts).encode(), hashlib.sha256).digest()

    def upload_query(self, method: str, path: str, now: datetime, ttl: int) -> dict[str, str]:
        """X-Amz-* parameters for a presigned upload valid `ttl` seconds from `now`."""
        amz_date = now.astimezone(UTC).strftime(_AMZ_DATE)
        return {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{ACCESS_KEY_ID}/{amz_date[:8]}/us-east-1/s3/aws4_request",
            "X-Amz-Date": amz_date,
            "X-Amz-Expires": str(ttl),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._mac(method, path, amz_date, str(ttl)).hex(),
        }

    def download_query(self, path: str, now: datetime, ttl: int) -> dict[str, str]:
        """AWSAccessKeyId/Signature/Expires for a presigned GET valid `ttl` seconds."""
        expires = str(int((now + timedelta(seconds=ttl)).timestamp()))
        signature = base64.urlsafe_b64encode(self._mac("GET", path, expires)).decode()
        return {"AWSAccessKeyId": ACCESS_KEY_ID, "Signature": signature, "Expires": expires}

    def verify(self, method: str, path: str, query: Mapping[str, str], now: datetime) -> None:
        """Raise SignatureProblem unless `query` signs (method, path) and has not expired."""
        if "X-Amz-Signature" in query:
            self._verify_upload_style(method, path, query, now)
        elif "Signature" in query:
            self._verify_download_style(method, path, query, now)
        else:
            raise SignatureProblem("AccessDenied", "Access Denied")

    def _verify_upload_style(
        self, method: str, path: str, query: Mapping[str, str], now: datetime
    ) -> None:
        try:
            amz_date, ttl = query["X-Amz-Date"], query["X-Amz-Expires"]
            issued = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
            expiry = issued + timedelta(seconds=int(ttl))
        except (KeyError, ValueError) as exc:
            raise SignatureProblem(
                "AuthorizationQueryParametersError",
                "Query-string authentication requires X-Amz-Date and X-Amz-Expires",
            ) from exc
        expected = self._mac(method, path, amz_date, ttl).hex()
        if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
            raise SignatureProblem(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
            )
        if now > expiry:
            raise SignatureProblem("AccessDenied", "Request has expired")

    def _verify_download_style(
        self, method: str, path: str, query: Mapping[str, str], now: datetime
    ) -> None:
        expires = query.get("Expires", "")
        expected = base64.urlsafe_b64encode(self._mac(method, path, expires)).decode()
        if not hmac.compare_digest(expected, query["Signature"]):
            raise SignatureProblem(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
            )
        if not expires.isdigit() or now.timestamp() > int(expires):
            raise SignatureProblem("AccessDenied", "Request has expired")
