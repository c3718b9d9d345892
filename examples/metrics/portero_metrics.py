#!/usr/bin/env python3
"""Reads Portero's GET /metrics over its Unix socket and parses it with prometheus_client's text parser.

Prints one JSON object a line per sample: {"name", "labels", "value"}; with --textfile, writes the exposition
unchanged (atomically) to a file for node_exporter's textfile collector instead, so Prometheus can collect the
metrics without Portero opening /metrics on TCP.

    portero_metrics.py --socket /run/portero/portero.sock
    portero_metrics.py --socket /run/portero/portero.sock --textfile /var/lib/prometheus/node-exporter/portero.prom
"""
import argparse
import http.client
import json
import os
import socket
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def scrape(path):
    connection = UnixHTTPConnection(path)
    connection.request("GET", "/metrics")
    response = connection.getresponse()
    body = response.read().decode("utf-8")
    if response.status != 200:
        sys.exit(f"GET /metrics answered {response.status}")
    return body


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--textfile")
    arguments = parser.parse_args()
    text = scrape(arguments.socket)
    families = list(text_string_to_metric_families(text))  # refuses a malformed exposition
    if arguments.textfile:
        directory = os.path.dirname(os.path.abspath(arguments.textfile))
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as out:
            out.write(text)
        os.chmod(out.name, 0o644)
        os.replace(out.name, arguments.textfile)
        return
    for family in families:
        for sample in family.samples:
            print(json.dumps({"name": sample.name, "labels": sample.labels, "value": sample.value}))


if __name__ == "__main__":
    main()
