#!/usr/bin/env python3
"""A local app asking Portero about a token over its Unix socket (RFC 7662 introspection).

Only the Python standard library. Use `introspect(token)` in your app before trusting a request:
it returns the token's claims while the token is good right now (revocations included), else None.

    python3 portero_introspect.py [--socket /run/portero/portero.sock] TOKEN

prints Portero's answer and exits 0 when the token is active, 1 when it is not, 2 on an error.
"""
import argparse
import http.client
import json
import socket
import sys
import urllib.parse

DEFAULT_SOCKET = "/run/portero/portero.sock"


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket; the host name only fills the Host header."""

    def __init__(self, path, timeout=5):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def introspect(token, socket_path=DEFAULT_SOCKET):
    """The active token's claims (sub, email, roles, exp, sid, ...), or None when it is not active."""
    connection = UnixHTTPConnection(socket_path)
    try:
        body = urllib.parse.urlencode({"token": token, "token_type_hint": "access_token"})
        connection.request(
            "POST", "/api/v1/auth/introspect", body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"introspection failed: {response.status} {answer.get('error')}")
    return answer if answer.get("active") is True else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", default=DEFAULT_SOCKET)
    parser.add_argument("token")
    arguments = parser.parse_args()
    try:
        claims = introspect(arguments.token, arguments.socket)
    except (OSError, RuntimeError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(claims if claims else {"active": False}, sort_keys=True))
    return 0 if claims else 1


if __name__ == "__main__":
    sys.exit(main())
