#!/usr/bin/env python3
"""The soak's customer server for Pivot calls: on each request it answers
good TwiML at once (70 %), after a delay of 2-4 s (15 %), or garbage that is
not TwiML (15 %). Prints its port on stdout, then serves until killed."""
import http.server, random, socketserver, sys, time

GOOD = b'<?xml version="1.0"?><Response><Say>Thanks for calling.</Say><Hangup/></Response>'
GARBAGE = b'<Response><Say>unclosed <<<&&& \x00 not xml'


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        r = random.random()
        body = GOOD
        if r < 0.15:
            time.sleep(random.uniform(2, 4))
        elif r < 0.30:
            body = GARBAGE
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
sys.stdout.close()
srv.serve_forever()
