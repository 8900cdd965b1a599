#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 reverse proxy for tests (standard library only).

A real origin (e.g. nginx) serves the bytes; this proxy sits in front of it
and breaks responses on request. The faults are carried in the URL path, so
every test controls its own faults without any shared configuration:

    /f/<spec>/<upstream path>     forwarded to <upstream>/<upstream path>,
                                  with the faults of <spec> applied
    /_stats/<spec>/<path>         JSON counters for that (spec, path) key
    /_health                      200 "ok"
    anything else                 forwarded untouched

<spec> is a comma-separated list of items (see SPEC_HELP below). Counters are
kept per (spec, upstream path), so `id=<token>` makes a key unique per test.

Usage:
    faultproxy.py --upstream http://127.0.0.1:8080 [--port 0] [--url-file F]
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys
import time
import urllib.parse

try:
    import fcntl
    import termios

    _TIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)
except ImportError:  # not Linux: resets are still sent, just less precisely timed
    fcntl = None
    _TIOCOUTQ = None

SPEC_HELP = """\
spec items (comma-separated, each at most once):
  id=<token>          no effect except making the counter key unique
  status=<code>[x<n>] the first n (default 1) requests for the key are answered
                      <code> (400..599) by the proxy itself; 429 and 503 carry
                      Retry-After: 0. Later requests are forwarded.
  reset=<byte>        the body of a forwarded response is cut with a TCP RST
  reset=rand<seed>    after <byte> body bytes, or after a deterministic
                      pseudo-random number of bytes in [1, length) chosen from
                      <seed> and the response's number
  resets=<k>          the first k forwarded responses are reset (default 1),
                      each at its own offset (rand: a new one for each)
  stall=<byte>|rand<seed>  like reset, but the proxy then stops sending and
  stalls=<k>          keeps the connection open until the client closes it
  norange             Range/If-Range are removed from requests (the origin
                      answers 200 with the whole body), Accept-Ranges from
                      responses
  noetag              ETag and Last-Modified are removed from responses
  delay=<ms>          every response header is sent <ms> milliseconds late
reset and stall exclude each other. "Forwarded responses" are numbered per key
and exclude the injected status answers. Offsets count body bytes as sent (for
a chunked body, its encoded bytes); a shorter body is delivered whole."""

RELAY_BYTES = 256 * 1024
MAX_HEAD_BYTES = 64 * 1024
CLIENT_IDLE_SECONDS = 300
STALL_MAX_SECONDS = 600
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
}
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class SpecError(ValueError):
    pass


class Spec:
    """A parsed fault spec."""

    def __init__(self, text):
        self.text = text
        self.status = None  # (code, times)
        self.cut = None  # "reset" | "stall"
        self.cut_at = None  # int byte offset, or ("rand", seed)
        self.cut_times = 1
        self.norange = False
        self.noetag = False
        self.delay = 0.0
        seen = set()
        times_item = None
        for item in text.split(","):
            if not item:
                continue
            name, eq, value = item.partition("=")
            if name in seen:
                raise SpecError(f"spec item {name!r} given twice")
            seen.add(name)
            if name == "id":
                if not value:
                    raise SpecError("id= needs a token")
            elif name == "status":
                code, _, times = value.partition("x")
                self.status = (_int(code, "status", 400, 599), _int(times, "status count", 0) if times else 1)
            elif name in ("reset", "stall"):
                if self.cut:
                    raise SpecError("reset and stall exclude each other")
                self.cut = name
                if value.startswith("rand"):
                    self.cut_at = ("rand", _int(value[4:], name + "=rand seed", 0))
                else:
                    self.cut_at = _int(value, name, 0)
            elif name in ("resets", "stalls"):
                times_item = name
                self.cut_times = _int(value, name, 0)
            elif name in ("norange", "noetag") and not eq:
                setattr(self, name, True)
            elif name == "delay":
                self.delay = _int(value, "delay", 0, 3_600_000) / 1000.0
            else:
                raise SpecError(f"unknown spec item {item!r}")
        if times_item and self.cut != times_item[:-1]:
            raise SpecError(f"{times_item}= needs {times_item[:-1]}=")

    def cut_offset(self, number, length):
        """Body bytes to send before the fault for forwarded response `number`."""
        if isinstance(self.cut_at, int):
            return self.cut_at
        rng = random.Random(f"{self.cut_at[1]}:{number}")
        upper = length if length is not None else 1 << 20
        return rng.randrange(1, upper) if upper > 1 else 0


def _int(text, what, lo, hi=None):
    if not text.isdigit():
        raise SpecError(f"{what}: {text!r} is not a non-negative integer")
    v = int(text)
    if v < lo or (hi is not None and v > hi):
        raise SpecError(f"{what}: {v} is out of range")
    return v


class Counters:
    def __init__(self):
        self.requests = 0  # every request for the key
        self.ranged = 0  # requests that arrived with a Range header
        self.forwarded = 0  # responses relayed from the origin
        self.statuses = 0  # injected status answers
        self.resets = 0
        self.stalls = 0

    def as_json(self):
        return json.dumps(self.__dict__).encode()


class Head:
    """An HTTP/1.1 message head: start line plus ordered header fields."""

    def __init__(self, start, fields):
        self.start = start
        self.fields = fields  # list of (name, value)

    def get(self, name):
        name = name.lower()
        for n, v in self.fields:
            if n.lower() == name:
                return v
        return None

    def remove(self, *names):
        names = {n.lower() for n in names}
        self.fields = [(n, v) for n, v in self.fields if n.lower() not in names]

    def tokens(self, name):
        v = self.get(name)
        return {t.strip().lower() for t in v.split(",")} if v else set()

    def encode(self):
        lines = [self.start] + [f"{n}: {v}" for n, v in self.fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class BadMessage(Exception):
    pass


async def read_head(reader):
    """The next message head, or None on a clean EOF before any byte."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadMessage("connection closed inside a message head")
    except asyncio.LimitOverrunError:
        raise BadMessage("message head too large")
    lines = raw[:-4].decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # tolerate stray CRLF between messages
        lines.pop(0)
    if not lines:
        raise BadMessage("empty message head")
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadMessage(f"malformed header line {line[:80]!r}")
        fields.append((name, value.strip()))
    return Head(lines[0], fields)


def content_length(head):
    v = head.get("Content-Length")
    if v is None:
        return None
    if not v.isdigit():
        raise BadMessage("bad Content-Length")
    return int(v)


class Upstream:
    """One keep-alive connection to the origin, owned by one client connection."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.used = 0

    async def connect(self):
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=4 * RELAY_BYTES)
        self.writer.transport.set_write_buffer_limits(high=4 * RELAY_BYTES)
        self.used = 0

    def close(self):
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None


class Proxy:
    def __init__(self, upstream, verbose):
        u = urllib.parse.urlsplit(upstream)
        if u.scheme != "http" or not u.hostname:
            raise SystemExit(f"--upstream must be an http:// base URL, got {upstream!r}")
        self.up_host = u.hostname
        self.up_port = u.port or 80
        self.up_prefix = u.path.rstrip("/")
        self.host_header = u.netloc
        self.verbose = verbose
        self.counters = {}

    def log(self, msg):
        if self.verbose:
            print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)

    def key_counters(self, spec_text, path):
        return self.counters.setdefault((spec_text, path), Counters())

    async def handle_client(self, reader, writer):
        writer.transport.set_write_buffer_limits(high=4 * RELAY_BYTES)
        upstream = Upstream(self.up_host, self.up_port)
        try:
            while True:
                try:
                    head = await asyncio.wait_for(read_head(reader), CLIENT_IDLE_SECONDS)
                except (asyncio.TimeoutError, BadMessage, ConnectionError):
                    break
                if head is None:
                    break
                if not await self.handle_request(head, reader, writer, upstream):
                    break
        except (ConnectionError, BrokenPipeError):
            pass
        except Exception as e:  # never take the whole proxy down for one connection
            print(f"faultproxy: connection failed: {e!r}", file=sys.stderr, flush=True)
        finally:
            upstream.close()
            if not writer.transport.is_closing():
                writer.transport.close()

    async def simple_response(self, writer, code, body, extra=(), delay=0.0, close=False):
        if delay:
            await asyncio.sleep(delay)
        fields = [("Content-Type", "text/plain" if not body.startswith(b"{") else "application/json")]
        fields += list(extra)
        fields.append(("Content-Length", str(len(body))))
        if close:
            fields.append(("Connection", "close"))
        head = Head(f"HTTP/1.1 {code} {REASONS.get(code, 'Status')}", fields)
        writer.write(head.encode() + body)
        await writer.drain()

    async def handle_request(self, head, reader, writer, upstream):
        """Serves one request; False means the client connection must close."""
        parts = head.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            await self.simple_response(writer, 400, b"bad request line\n", close=True)
            return False
        method, target, version = parts
        client_close = "close" in head.tokens("Connection") or (
            version == "HTTP/1.0" and "keep-alive" not in head.tokens("Connection")
        )
        if head.get("Transfer-Encoding"):
            await self.simple_response(writer, 501, b"chunked request bodies are not supported\n", close=True)
            return False
        try:
            req_body_len = content_length(head) or 0
        except BadMessage:
            await self.simple_response(writer, 400, b"bad Content-Length\n", close=True)
            return False

        spec = None
        path = target
        if target == "/_health":
            await self.discard(reader, req_body_len)
            await self.simple_response(writer, 200, b"ok\n", close=client_close)
            return not client_close
        if target.startswith("/_stats/") or target.startswith("/f/"):
            prefix, _, rest = target[1:].partition("/")
            spec_text, slash, tail = rest.partition("/")
            spec_text = urllib.parse.unquote(spec_text)
            try:
                spec = Spec(spec_text)
            except SpecError as e:
                await self.discard(reader, req_body_len)
                await self.simple_response(writer, 400, f"bad fault spec: {e}\n{SPEC_HELP}\n".encode(), close=True)
                return False
            path = "/" + tail
            if prefix == "_stats":
                await self.discard(reader, req_body_len)
                c = self.counters.get((spec_text, path), Counters())
                await self.simple_response(writer, 200, c.as_json(), close=client_close)
                return not client_close

        counters = self.key_counters(spec.text, path) if spec else None
        if counters:
            counters.requests += 1
            if head.get("Range") is not None:
                counters.ranged += 1
            if spec.status and counters.statuses < spec.status[1]:
                counters.statuses += 1
                code = spec.status[0]
                await self.discard(reader, req_body_len)
                extra = [("Retry-After", "0")] if code in (429, 503) else []
                self.log(f"{method} {target} -> injected {code}")
                await self.simple_response(
                    writer, code, f"injected {code} by faultproxy\n".encode(), extra, spec.delay, client_close
                )
                return not client_close
            if spec.norange:
                head.remove("Range", "If-Range")

        # Forward to the origin.
        head.start = f"{method} {self.up_prefix}{path} HTTP/1.1"
        for name in list(head.tokens("Connection")):
            head.remove(name)
        head.remove(*HOP_BY_HOP, "Host", "Expect")
        head.fields.insert(0, ("Host", self.host_header))
        req_bytes = head.encode()
        body = await reader.readexactly(req_body_len) if req_body_len else b""

        resp = None
        for attempt in range(2):
            reused = upstream.writer is not None
            try:
                if not reused:
                    await upstream.connect()
                upstream.writer.write(req_bytes + body)
                await upstream.writer.drain()
                resp = await read_head(upstream.reader)
                while resp is not None and resp.start[9:10] == "1" and resp.start[9:12] != "101":
                    resp = await read_head(upstream.reader)  # interim 1xx: not relayed
                if resp is None:
                    raise ConnectionResetError("origin closed the connection")
                break
            except (OSError, BadMessage, asyncio.IncompleteReadError) as e:
                upstream.close()
                if reused and attempt == 0:
                    continue  # a stale pooled connection: one fresh try
                self.log(f"{method} {target} -> origin failed: {e!r}")
                await self.simple_response(writer, 502, f"origin failed: {e}\n".encode(), close=True)
                return False
        upstream.used += 1

        status_parts = resp.start.split(" ", 2)
        try:
            status = int(status_parts[1])
        except (IndexError, ValueError):
            upstream.close()
            await self.simple_response(writer, 502, b"bad origin status line\n", close=True)
            return False
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        chunked = "chunked" in resp.tokens("Transfer-Encoding")
        try:
            length = 0 if no_body else (None if chunked else content_length(resp))
        except BadMessage:
            upstream.close()
            await self.simple_response(writer, 502, b"bad origin Content-Length\n", close=True)
            return False
        origin_close = (
            "close" in resp.tokens("Connection")
            or (length is None and not chunked)
            or (resp.start.startswith("HTTP/1.0") and "keep-alive" not in resp.tokens("Connection"))
        )
        # The client talks HTTP/1.1 to the proxy whatever the origin speaks.
        resp.start = "HTTP/1.1 " + " ".join(status_parts[1:])

        for name in list(resp.tokens("Connection")):
            resp.remove(name)
        resp.remove(*HOP_BY_HOP)
        cut_at = None
        number = None
        if counters:
            number = counters.forwarded
            counters.forwarded += 1
            if spec.noetag:
                resp.remove("ETag", "Last-Modified")
            if spec.norange:
                resp.remove("Accept-Ranges")
            if spec.cut and number < spec.cut_times and not no_body:
                cut_at = spec.cut_offset(number, length)
        # A body delimited by the origin closing can only be relayed the same way.
        close_after = client_close or (length is None and not chunked)
        if close_after:
            resp.fields.append(("Connection", "close"))

        if spec and spec.delay:
            await asyncio.sleep(spec.delay)
        writer.write(resp.encode())
        self.log(f"{method} {target} -> {status} len={length} cut={spec.cut if cut_at is not None else None}@{cut_at}")

        if no_body:
            await writer.drain()
        else:
            sent = await self.relay_body(upstream.reader, writer, length, chunked, cut_at)
            if cut_at is not None and sent == cut_at:
                upstream.close()  # its body was not read to the end
                if spec.cut == "reset":
                    counters.resets += 1
                    await self.reset(writer)
                else:
                    counters.stalls += 1
                    await self.stall(reader, writer)
                return False
        if origin_close:
            upstream.close()
        return not close_after

    async def discard(self, reader, n):
        if n:
            await reader.readexactly(n)

    async def relay_body(self, src, dst, length, chunked, cut_at):
        """Copies one body; stops after cut_at wire bytes. Returns bytes sent."""
        budget = cut_at if cut_at is not None else -1
        sent = 0

        async def put(data):
            nonlocal sent
            if budget >= 0 and sent + len(data) > budget:
                data = data[: budget - sent]
            if data:
                dst.write(data)
                sent += len(data)
                await dst.drain()
            return budget < 0 or sent < budget

        if budget == 0:
            await dst.drain()
            return 0
        if chunked:
            while True:
                line = await src.readuntil(b"\r\n")
                if not await put(line):
                    return sent
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
                if size == 0:
                    while True:  # trailer section up to the empty line
                        line = await src.readuntil(b"\r\n")
                        if not await put(line):
                            return sent
                        if line == b"\r\n":
                            return sent
                remaining = size + 2  # chunk data + CRLF
                while remaining:
                    data = await src.read(min(remaining, RELAY_BYTES))
                    if not data:
                        raise ConnectionResetError("origin closed inside a chunk")
                    remaining -= len(data)
                    if not await put(data):
                        return sent
        remaining = length
        while remaining is None or remaining > 0:
            data = await src.read(RELAY_BYTES if remaining is None else min(remaining, RELAY_BYTES))
            if not data:
                if remaining is None:
                    return sent
                raise ConnectionResetError("origin closed before the end of the body")
            if remaining is not None:
                remaining -= len(data)
            if not await put(data):
                return sent
        return sent

    async def reset(self, writer):
        """Sends what was written, then aborts the connection with a TCP RST."""
        transport = writer.transport
        deadline = time.monotonic() + 2.0
        while transport.get_write_buffer_size() and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        sock = transport.get_extra_info("socket")
        # Unsent (or unacknowledged) bytes are dropped by an abortive close,
        # so give the kernel a moment to deliver them: the client then sees
        # exactly the chosen number of body bytes before the reset.
        if sock is not None and fcntl is not None:
            buf = bytearray(4)
            while time.monotonic() < deadline:
                try:
                    fcntl.ioctl(sock.fileno(), _TIOCOUTQ, buf)
                except OSError:
                    break
                if struct.unpack("i", buf)[0] == 0:
                    break
                await asyncio.sleep(0.001)
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()

    async def stall(self, reader, writer):
        """Stops sending but keeps the connection until the client closes it."""
        await writer.drain()
        deadline = time.monotonic() + STALL_MAX_SECONDS
        try:
            while time.monotonic() < deadline:
                data = await asyncio.wait_for(reader.read(RELAY_BYTES), max(0.1, deadline - time.monotonic()))
                if not data:
                    break
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.transport.abort()


async def main():
    ap = argparse.ArgumentParser(description=__doc__, epilog=SPEC_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="origin base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--url-file", help="write the proxy's base URL here once it listens")
    ap.add_argument("-v", "--verbose", action="store_true", help="log one line per request to stderr")
    args = ap.parse_args()

    proxy = Proxy(args.upstream, args.verbose)
    server = await asyncio.start_server(proxy.handle_client, "127.0.0.1", args.port, limit=MAX_HEAD_BYTES)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    if args.url_file:
        tmp = f"{args.url_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, args.url_file)
    print(f"faultproxy on {url} -> {args.upstream}", file=sys.stderr, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
