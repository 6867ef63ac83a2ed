"""`tunemock proxy`: a reverse proxy in front of the vendor (or any tunemock) that checks
real traffic against `openapi/` with the mock's and the harness's validators, journals and
records it, and answers the client exactly what the upstream answered."""

from mock_server.proxy.app import ProxyApp, create_proxy_app
from mock_server.proxy.forward import ProxySettings

__all__ = ["ProxyApp", "ProxySettings", "create_proxy_app"]
