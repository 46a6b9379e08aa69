"""HTTP policy shared by every view: request-size limit, CORS for reads, ETag revalidation.

Stage: web. The dataset is read-only while the server runs, so any GET can be revalidated with
an ETag (``If-None-Match`` → 304). CORS lets any origin *read* (no credentials are ever
accepted: ``Access-Control-Allow-Credentials`` is never sent, so browsers do not attach cookies);
a preflight advertises the methods of the route it asks about, no more.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from ..errors import HostNotAllowed, PayloadTooLarge
from .state import app_state

#: Pages load scripts, styles, images and data from this origin only, and no other site may frame them.
#: Inline styles stay allowed: the vendored widgets (YASGUI, vis-timeline, Cytoscape) set them; data:
#: and blob: URLs may be fetched (the graph view turns its own canvas into a PNG download that way).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' data: blob:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
EXPOSED = "ETag, Content-Type, Content-Length, X-Cowkg-Truncated, X-Cowkg-Rows, X-Cowkg-Version, Server-Timing"
ALLOWED_HEADERS = "Accept, Content-Type, If-None-Match, If-Modified-Since, Cache-Control"


def allowed_hosts(cfg: dict) -> frozenset[str] | None:
    """The host names requests may name (lower case, no port); None when any is accepted."""
    raw = (cfg.get("allowed_hosts") or "").strip()
    if raw == "*":
        return None
    hosts = {h.strip().lower().strip("[]") for h in raw.split(",") if h.strip()}
    if not hosts:
        hosts = {"localhost", "127.0.0.1", "::1"}
        bound = (cfg.get("bind_host") or "").lower()
        if bound and bound not in ("0.0.0.0", "::"):
            hosts.add(bound.strip("[]"))
    if cfg.get("public_base"):
        hosts.add((urlsplit(cfg["public_base"]).hostname or "").lower())
    return frozenset(hosts)


def host_allowed(app: Flask, host: str) -> bool:
    """Whether ``host`` (a Host header: name, optional port) names a host this service answers for."""
    state = app_state(app)
    allowed = state.allowed_hosts
    if allowed is ...:
        allowed = state.allowed_hosts = allowed_hosts(app.config["COWKG"])
    if allowed is None:
        return True
    host = host.lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.strip("[]") in allowed


def check_host() -> None:
    """400 for a Host header that names no host this service answers for: generated URLs (VoID,
    the service description, the UI's endpoint, redirects) are never built from a stranger's Host."""
    app = current_app._get_current_object()
    if not host_allowed(app, request.host):
        raise HostNotAllowed(f"this service does not answer for the host {request.host!r}",
                             hint="the allowed_hosts and public_base settings name the hosts it answers for",
                             details={"allowed_hosts": sorted(app_state(app).allowed_hosts)})


def check_size() -> None:
    """413 when the body or the URL's query string is over the limit: before reading anything when
    the request says its length; a body without one (chunked) is read up to one byte past the limit
    (``MAX_CONTENT_LENGTH``) and kept for the views, so it is refused rather than cut short."""
    limit = current_app.config["COWKG"]["max_request_bytes"]
    if request.content_length is None and request.headers.get("Transfer-Encoding", "").lower().endswith("chunked"):
        body = request.get_data(cache=True)  # the form parser and get_data() read this copy later
        if len(body) > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes",
                                  hint="the max_request_bytes setting limits request bodies and queries",
                                  details={"limit_bytes": limit})
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body of {request.content_length} bytes exceeds the limit of {limit}",
                              hint="the max_request_bytes setting limits request bodies and queries",
                              details={"limit_bytes": limit})
    if len(request.query_string) > limit:
        raise PayloadTooLarge(f"URL query string of {len(request.query_string)} bytes exceeds the limit of {limit}",
                              hint="send long queries with POST; max_request_bytes limits them",
                              details={"limit_bytes": limit})


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods() -> list[str]:
    """The methods the routes at this request's path accept (a preflight advertises only those)."""
    adapter = current_app.create_url_adapter(request)
    methods = set(adapter.allowed_methods(request.path)) if adapter is not None else set()
    return sorted(methods, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m))


#: Headers every answer carries: CORS for reads, then the page policy (a view may set its own).
CORS_HEADERS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED))
POLICY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                  ("X-Frame-Options", "DENY"), ("Referrer-Policy", "strict-origin-when-cross-origin"))


def add_policy(resp: Response) -> Response:
    """CORS headers on every answer; ETag + 304 on successful reads that have none yet."""
    for name, value in CORS_HEADERS:
        resp.headers[name] = value
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Methods"] = ", ".join(allowed_methods())
        resp.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        resp.headers["Access-Control-Max-Age"] = "86400"
    for name, value in POLICY_HEADERS:
        resp.headers.setdefault(name, value)
    if request.method in ("GET", "HEAD") and resp.status_code == 200 and not resp.is_streamed:
        if "ETag" not in resp.headers:
            resp.add_etag(weak=True)
        resp.headers.setdefault("Cache-Control", "no-cache")
        resp.make_conditional(request)
    return resp


def init_app(app: Flask) -> None:
    """Install the host and size checks before, and CORS/ETag policy after, every request."""
    app.before_request(check_host)
    app.before_request(check_size)
    app.after_request(add_policy)
