"""phonehome's mitmdump addon: one JSON line per fact of an intercepted run.

Loaded with `mitmdump -s phonehome_exchanges.py --set phonehome_exchanges=FILE`. Lines (each with
"type" and "ts", seconds since the epoch):
  exchange  an HTTP request and its response (or its error): client and server address, SNI, TLS
            version, method, URL, HTTP version, headers, bodies (base64, as sent, still in their
            Content-Encoding, cut at phonehome_body_cap bytes) with their full sizes;
  tls_failed  a handshake that failed, on the client side (the phone refused mitmproxy's
            certificate, or left) or the server side (upstream), with mitmproxy's message;
  connection  a client connection that ended: whether its TLS was set up, how many requests it
            carried, and bytes, so a connection closed right after the handshake with no request
            (a client checking its pin after the handshake) is told apart.
Written for mitmproxy 8.1.1 (Debian 12); every write is flushed so a killed proxy loses nothing.
"""
import base64
import json
import threading
import time

from mitmproxy import ctx

_ALERT_MARK = "does not trust the proxy's certificate"
_LEFT_MARK = "the client disconnected during the handshake"
_VERSION_MARK = "cannot agree on a tls version"


def _addr(a):
    if not a:
        return None
    return [str(a[0]), int(a[1])]


def _headers(h):
    if h is None:
        return []
    return [[k.decode("latin-1"), v.decode("latin-1")] for k, v in h.fields]


def _body(message, cap):
    if message is None:
        return None, 0, None
    # As sent (still in its Content-Encoding, without chunked framing): phonehome undoes the
    # encodings itself, as it does for plain HTTP, so an identifier's encoding chain reads the same.
    raw = message.raw_content or b""
    coding = message.headers.get("content-encoding")
    return base64.b64encode(raw[:cap]).decode("ascii"), len(raw), coding


class PhonehomeExchanges:
    def __init__(self):
        self._out = None
        self._lock = threading.Lock()
        self._requests = {}
        self._servers = {}

    def load(self, loader):
        loader.add_option("phonehome_exchanges", str, "", "JSON lines file phonehome reads")
        loader.add_option("phonehome_body_cap", int, 65536, "bytes of each body kept")

    def configure(self, updated):
        if "phonehome_exchanges" in updated and ctx.options.phonehome_exchanges:
            self._out = open(ctx.options.phonehome_exchanges, "a", encoding="utf-8")
            self._write({"type": "start", "mitmproxy": ctx.options.listen_port})

    def _write(self, record):
        if self._out is None:
            return
        record.setdefault("ts", time.time())
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def _exchange(self, flow, error=None):
        cap = ctx.options.phonehome_body_cap
        req = flow.request
        res = flow.response
        client = flow.client_conn
        rq_body, rq_size, rq_coding = _body(req, cap)
        rs_body, rs_size, rs_coding = _body(res, cap)
        cid = client.id
        self._requests[cid] = self._requests.get(cid, 0) + 1
        self._write(
            {
                "type": "exchange",
                "ts": req.timestamp_start,
                "client": _addr(client.peername),
                "server": _addr(flow.server_conn.address),
                "sni": client.sni,
                "tls": client.tls_version,
                "method": req.method,
                "url": req.pretty_url,
                "httpVersion": req.http_version,
                "requestHeaders": _headers(req.headers),
                "requestBody": rq_body,
                "requestBodySize": rq_size,
                "requestEncoding": rq_coding,
                "status": res.status_code if res else None,
                "responseHeaders": _headers(res.headers) if res else [],
                "responseBody": rs_body,
                "responseBodySize": rs_size,
                "responseEncoding": rs_coding,
                "error": error,
            }
        )

    def response(self, flow):
        self._exchange(flow)

    def error(self, flow):
        if flow.request is not None:
            self._exchange(flow, flow.error.msg if flow.error else "error")

    def _tls_failed(self, data, side):
        conn = data.conn
        msg = str(conn.error or "")
        low = msg.lower()
        if side == "server":
            why = "upstream"
        elif _LEFT_MARK in low:
            # "… If this happens consistently …, this may indicate that the client does not trust
            # the proxy's certificate": checked first, as it holds the words of the other message.
            why = "left-during-handshake"
        elif _ALERT_MARK in low:
            why = "refused-certificate"
        elif _VERSION_MARK in low:
            why = "tls-version"
        else:
            why = "other"
        client = data.context.client
        self._write(
            {
                "type": "tls_failed",
                "side": side,
                "why": why,
                "client": _addr(client.peername),
                "server": _addr(data.context.server.address),
                "sni": client.sni,
                "error": msg,
            }
        )

    def tls_clienthello(self, data):
        self._servers[data.context.client.id] = _addr(data.context.server.address)

    def server_connect(self, data):
        self._servers[data.client.id] = _addr(data.server.address)

    def tls_failed_client(self, data):
        self._tls_failed(data, "client")

    def tls_failed_server(self, data):
        self._tls_failed(data, "server")

    def client_disconnected(self, client):
        self._write(
            {
                "type": "connection",
                "client": _addr(client.peername),
                "server": self._servers.pop(client.id, None),
                "sni": client.sni,
                "tlsEstablished": bool(client.tls_established),
                "requests": self._requests.pop(client.id, 0),
                "start": client.timestamp_start,
                "tlsSetup": client.timestamp_tls_setup,
                "error": str(client.error) if client.error else None,
            }
        )

    def done(self):
        if self._out is not None:
            self._write({"type": "done"})
            self._out.close()
            self._out = None


addons = [PhonehomeExchanges()]
