"""Ports for the servers tests start (cog-server, registries, token servers, dockerd's containers),
free of the races a bind-to-0-then-close port has between test files that CTest runs in parallel.

Such a port comes from the kernel's ephemeral range, so between our close and the server's bind any
outgoing connection on the machine (another test's HTTP client) may take it, and a second process
asking the kernel the same way may be handed it too. Ports here come from below the ephemeral range
instead, each claimed for the life of this process by an flock on a file named after it (the
kernel drops the lock when the process ends, however it ends), and checked to be bindable."""
import fcntl
import os
import random
import socket
import tempfile

LOCK_DIR = os.path.join(tempfile.gettempdir(), "cog-test-ports")
_RANGE = (20000, 32000)  # below Linux's default ephemeral range (32768-60999)
_claimed = []  # open lock files: closing them would release the ports
_next = None


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that no other test process is given and nothing is bound to now."""
    global _next
    low, high = _RANGE[0], min(_RANGE[1], _ephemeral_low())
    if _next is None:
        _next = random.randrange(low, high)
    os.makedirs(LOCK_DIR, exist_ok=True)
    for _ in range(high - low):
        port, _next = _next, _next + 1 if _next + 1 < high else low
        lock = open(os.path.join(LOCK_DIR, str(port)), "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        if _bindable(port):
            _claimed.append(lock)
            return port
        lock.close()
    raise AssertionError(f"no free port in {low}-{high}")
