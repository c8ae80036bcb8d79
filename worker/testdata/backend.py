#!/usr/bin/env python3
"""A plain HTTP JSON service in another language, for the sidecar tests.

Binds 127.0.0.1 on a free port and prints "PORT <n>" on stdout. Routes:
  POST /rpc            -> 200 {"path": "/rpc", "got": <request JSON>, "service": <X-Grenache-Service>}
  POST /rpc/<action>   -> 200 {"path": "/rpc/<action>", "got": <request JSON>, ...}
  POST /status/<code>  -> <code> text/plain "backend says <code>"
  POST /html           -> 200 text/html "<html>not json</html>"
  POST /slow           -> sleeps 3 s, then 200 {}
  GET  /health         -> 200 {"ok": true} or 503 while unhealthy
  POST /health/down, POST /health/up  -> flip the health state
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

healthy = threading.Event()
healthy.set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            if healthy.is_set():
                self.reply(200, '{"ok": true}')
            else:
                self.reply(503, '{"ok": false}')
            return
        self.reply(404, "not found", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path == "/health/down":
            healthy.clear()
            return self.reply(200, "{}")
        if self.path == "/health/up":
            healthy.set()
            return self.reply(200, "{}")
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            return self.reply(code, "backend says %d" % code, "text/plain")
        if self.path == "/html":
            return self.reply(200, "<html>not json</html>", "text/html")
        if self.path == "/slow":
            time.sleep(3)
            return self.reply(200, "{}")
        if self.path == "/rpc" or self.path.startswith("/rpc/"):
            got = json.loads(raw) if raw else None
            out = {"path": self.path, "got": got, "service": self.headers.get("X-Grenache-Service")}
            return self.reply(200, json.dumps(out))
        self.reply(404, "not found", "text/plain")


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
