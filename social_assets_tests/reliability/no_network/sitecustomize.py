"""Loaded by every Python process whose PYTHONPATH starts with this folder (the reliability
tests put it there): refuses, and records, any attempt to reach beyond this machine.

Loopback addresses, Unix sockets and this host's own name stay allowed: the served sandbox,
PostgreSQL and Redis on 127.0.0.1 are local. Every refused attempt is appended as one JSON line
to the file named by SOCIAL_TEST_NETWORK_LOG, with the program that made it.
"""

import ipaddress
import json
import os
import socket
import sys

_LOG = os.environ.get("SOCIAL_TEST_NETWORK_LOG")
_LOCAL_NAMES = {None, "", "localhost", "localhost.localdomain", "ip6-localhost", socket.gethostname()}


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name other than this host's: resolving it could leave the machine
    return address.is_loopback or address.is_unspecified


def _refuse(kind: str, target) -> None:
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(json.dumps({"kind": kind, "target": repr(target), "pid": os.getpid(), "argv": sys.argv[:3]}) + "\n")


def _guard_address(sock, address, kind):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not _is_local(address[0]):
        _refuse(kind, address)
        raise ConnectionRefusedError(111, f"outbound connection refused by the test's network guard: {address!r}")


_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto


def connect(self, address):
    _guard_address(self, address, "connect")
    return _connect(self, address)


def connect_ex(self, address):
    _guard_address(self, address, "connect")
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _guard_address(self, args[-1], "sendto")
    return _sendto(self, data, *args)


_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        _refuse("resolve", host)
        raise socket.gaierror(socket.EAI_NONAME, f"name resolution refused by the test's network guard: {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
socket.getaddrinfo = getaddrinfo
