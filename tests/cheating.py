"""Deliberately cheating and broken caches for the harness tests (test_game.py, test_sandbox.py).

Each cheat hides Alice's data outside her message (a module global, a file, an environment
variable, a public parameter, a child process). With in-process players it "wins"; with
sandboxed players it must fall to chance or be reported as a contract breach.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from caches.attention import attention_with_own_token
from caches.base import StreamingAttention

_STASH: dict[str, np.ndarray] = {}


@dataclass
class CheatingCache(StreamingAttention):
    """Serializes nothing; keeps every key and value in a module-level global instead."""

    def step(self, q, k, v):
        self.extend(np.atleast_2d(q), np.atleast_2d(k), np.atleast_2d(v))
        return self.probe(np.atleast_2d(q), np.atleast_2d(k), np.atleast_2d(v))[0]

    def extend(self, Q, K, V):
        _STASH["K"] = np.vstack([_STASH.get("K", np.empty((0, K.shape[1]))), K])
        _STASH["V"] = np.vstack([_STASH.get("V", np.empty((0, V.shape[1]))), V])

    def probe(self, Q, K, V):
        stored_K = _STASH.get("K", np.empty((0, K.shape[1])))
        stored_V = _STASH.get("V", np.empty((0, V.shape[1])))
        return attention_with_own_token(Q, K, V, stored_K, stored_V)

    def to_bytes(self) -> bytes:
        return b""

    @classmethod
    def from_bytes(cls, data, **params):
        return cls(**params)


def reset() -> None:
    _STASH.clear()


@dataclass
class BrokenCache(StreamingAttention):
    """Breaks the contract in a chosen way: ``mode`` in {"from_bytes", "shape", "nan"}."""

    mode: str = "shape"

    def step(self, q, k, v):
        return np.zeros_like(np.asarray(q, dtype=float))

    def extend(self, Q, K, V):
        self._d = np.shape(V)[1]

    def probe(self, Q, K, V):
        rows = np.shape(Q)[0]
        if self.mode == "nan":
            return np.full((rows, np.shape(V)[1]), np.nan)
        return np.zeros((rows, np.shape(V)[1] + 1))

    def to_bytes(self) -> bytes:
        return b"x"

    @classmethod
    def from_bytes(cls, data, **params):
        if params.get("mode") == "from_bytes":
            raise RuntimeError("corrupt message")
        return cls(**params)


# --- one cheat per channel around the message (tests/test_sandbox.py) -------------------------
#
# Each keeps Alice's keys and values somewhere other than ``to_bytes`` and sends (almost)
# nothing. Without a sandbox each decodes every bit from a near-empty message (the Fano guard
# stops that run); in the sandbox the stash never reaches Bob, who then holds an empty state and
# answers at chance. Saving and loading swallow OSError, so a cheat that the sandbox blocks
# degrades to chance instead of crashing: the tests see what reached Bob, not a side effect.


@dataclass
class SmuggledState(StreamingAttention):
    """Attention over keys and values kept by ``_save``/``_load`` outside the message."""

    def __post_init__(self):
        self.keys, self.values = None, None

    def step(self, q, k, v):
        self.extend(np.atleast_2d(q), np.atleast_2d(k), np.atleast_2d(v))
        return self.probe(np.atleast_2d(q), np.atleast_2d(k), np.atleast_2d(v))[0]

    def extend(self, Q, K, V):
        K, V = np.asarray(K, dtype=np.float64), np.asarray(V, dtype=np.float64)
        self.keys = K if self.keys is None else np.vstack([self.keys, K])
        self.values = V if self.values is None else np.vstack([self.values, V])

    def probe(self, Q, K, V):
        d = np.shape(K)[1]
        keys = self.keys if self.keys is not None else np.empty((0, d))
        values = self.values if self.values is not None else np.empty((0, np.shape(V)[1]))
        return attention_with_own_token(Q, K, V, keys, values)

    def to_bytes(self) -> bytes:
        if self.keys is not None:
            try:
                self._save(np.stack([self.keys, self.values]).astype("<f8"))
            except OSError:
                pass
        return b""

    @classmethod
    def from_bytes(cls, data, **params):
        cache = cls(**params)
        try:
            stash = cache._load()
        except OSError:
            stash = None
        if stash is not None:
            cache.keys, cache.values = stash[0], stash[1]
        return cache

    def _save(self, stash: np.ndarray) -> None:
        raise NotImplementedError

    def _load(self) -> np.ndarray | None:
        raise NotImplementedError


def _encode(stash: np.ndarray) -> bytes:
    return np.asarray(stash.shape, dtype="<i8").tobytes() + stash.tobytes()


def _decode(blob: bytes) -> np.ndarray:
    shape = tuple(np.frombuffer(blob[:24], dtype="<i8"))
    return np.frombuffer(blob[24:], dtype="<f8").reshape(shape)


@dataclass
class FileCache(SmuggledState):
    """Writes the state to ``directory/name`` in ``to_bytes`` (default: the temporary directory)."""

    name: str = "barriers-cheat"
    directory: str | None = None

    def _path(self) -> str:
        import tempfile

        return os.path.join(self.directory or tempfile.gettempdir(), self.name)

    def _save(self, stash):
        with open(self._path(), "wb") as handle:
            handle.write(_encode(stash))

    def _load(self):
        with open(self._path(), "rb") as handle:
            return _decode(handle.read())


@dataclass
class EnvironmentCache(SmuggledState):
    """Puts the state, hex-encoded, in an environment variable during the stream."""

    variable: str = "BARRIERS_CHEAT"

    def _save(self, stash):
        os.environ[self.variable] = _encode(stash).hex()

    def _load(self):
        text = os.environ.get(self.variable)
        return _decode(bytes.fromhex(text)) if text else None


@dataclass
class MutableParameterCache(SmuggledState):
    """Fills its public list parameter during the stream, hoping Bob gets the filled list."""

    stash: list = field(default_factory=list)

    def extend(self, Q, K, V):
        super().extend(Q, K, V)
        self.stash[:] = [self.keys.tolist(), self.values.tolist()]

    def _save(self, stash):
        pass

    def _load(self):
        return np.asarray(self.stash, dtype=np.float64) if self.stash else None


@dataclass
class LoopbackCache(SmuggledState):
    """Leaves behind a ``setsid`` grandchild serving the state once on ``127.0.0.1:port``."""

    port: int = 0

    def _save(self, stash):
        blob = _encode(stash)
        child = os.fork()
        if child == 0:
            try:
                os.setsid()
                if os.fork() == 0:  # the server: an orphan in its own session
                    server = socket.socket()
                    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    server.bind(("127.0.0.1", self.port))
                    server.listen(1)
                    server.settimeout(30)
                    connection, _ = server.accept()
                    connection.sendall(blob)
                    connection.close()
            finally:
                os._exit(0)
        os.waitpid(child, 0)

    def _load(self):
        deadline = time.monotonic() + 3.0
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", self.port), timeout=3.0)
                break
            except ConnectionRefusedError:  # the server may not listen yet; any other error: no luck
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.02)
        with connection:
            chunks = []
            while chunk := connection.recv(1 << 16):
                chunks.append(chunk)
        return _decode(b"".join(chunks))


def _shared_memory_library():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmat.restype = ctypes.c_void_p
    libc.shmdt.argtypes = [ctypes.c_void_p]
    libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    return libc


@dataclass
class SharedMemoryCache(SmuggledState):
    """Leaves the state in a System V shared memory segment named ``key``: it outlives its process."""

    key: int = 1

    def _save(self, stash):
        import ctypes

        libc, blob = _shared_memory_library(), _encode(stash)
        segment = libc.shmget(self.key, 8 + len(blob), 0o1600)  # IPC_CREAT | 0600
        address = libc.shmat(segment, None, 0) if segment >= 0 else None
        if address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "System V shared memory refused")
        ctypes.memmove(address, len(blob).to_bytes(8, "little") + blob, 8 + len(blob))
        libc.shmdt(address)

    def _load(self):
        import ctypes

        libc = _shared_memory_library()
        segment = libc.shmget(self.key, 0, 0)
        address = libc.shmat(segment, None, 0o10000) if segment >= 0 else None  # SHM_RDONLY
        if address in (None, ctypes.c_void_p(-1).value):
            return None
        size = int.from_bytes(ctypes.string_at(address, 8), "little")
        blob = ctypes.string_at(address + 8, size)
        libc.shmdt(address)
        return _decode(blob)


def remove_shared_memory(key: int) -> None:
    """Remove the segment ``key`` of this IPC namespace, if any (IPC_RMID)."""
    libc = _shared_memory_library()
    segment = libc.shmget(key, 0, 0)
    if segment >= 0:
        libc.shmctl(segment, 0, None)


class ZeroLengthBytes(bytes):
    """Bytes that claim to be empty."""

    def __len__(self):
        return 0


@dataclass
class ShortBytesCache(SmuggledState):
    """Sends its whole state honestly, in a ``bytes`` subclass whose ``len`` is 0."""

    def to_bytes(self):
        return ZeroLengthBytes(_encode(np.stack([self.keys, self.values]).astype("<f8")))

    @classmethod
    def from_bytes(cls, data, **params):
        cache = cls(**params)
        if len(bytes(data)):
            stash = _decode(bytes(data))
            cache.keys, cache.values = stash[0], stash[1]
        return cache


@dataclass
class OrphanCache(StreamingAttention):
    """``to_bytes`` leaves a sleeping ``setsid`` grandchild behind; the message is its pid."""

    def step(self, q, k, v):
        return np.zeros(np.shape(v))

    def extend(self, Q, K, V):
        pass

    def to_bytes(self) -> bytes:
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                os.setsid()
                grandchild = os.fork()
                if grandchild == 0:
                    time.sleep(120)
                else:
                    os.write(write_end, grandchild.to_bytes(8, "little"))
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        pid = os.read(read_end, 8)
        os.close(read_end)
        os.close(write_end)
        return pid

    @classmethod
    def from_bytes(cls, data, **params):
        return cls(**params)

    def probe(self, Q, K, V):
        return np.zeros(np.shape(V))


@dataclass
class RaisingCache(StreamingAttention):
    """Raises ``ValueError("boom")`` in the chosen ``method`` (one of the five of the contract)."""

    method: str = "step"

    def step(self, q, k, v):
        if self.method == "step":
            raise ValueError("boom")
        return np.zeros(np.shape(v))

    def extend(self, Q, K, V):
        if self.method == "extend":
            raise ValueError("boom")
        super().extend(Q, K, V)  # calls step for every triple

    def probe(self, Q, K, V):
        if self.method == "probe":
            raise ValueError("boom")
        return np.zeros(np.shape(V))

    def to_bytes(self) -> bytes:
        if self.method == "to_bytes":
            raise ValueError("boom")
        return b"x"

    @classmethod
    def from_bytes(cls, data, **params):
        if params.get("method") == "from_bytes":
            raise ValueError("boom")
        return cls(**params)


@dataclass
class DyingCache(RaisingCache):
    """Prints a line, then ends its process abruptly (status 7) in ``extend``, or sleeps in ``to_bytes``."""

    method: str = "exit"

    def extend(self, Q, K, V):
        if self.method == "exit":
            print("about to vanish", file=sys.stderr, flush=True)
            os._exit(7)

    def to_bytes(self) -> bytes:
        if self.method == "sleep":
            time.sleep(60)
        return b"x"


@dataclass
class EnvironmentReport(RaisingCache):
    """Its message is a JSON report of what its player sees: environment, directories, descriptors."""

    method: str = "none"

    def to_bytes(self) -> bytes:
        import errno
        import json
        import tempfile

        try:
            open("/tmp/barriers-sandbox-probe", "w").close()
            os.remove("/tmp/barriers-sandbox-probe")
            write_tmp = "allowed"
        except OSError as error:
            write_tmp = errno.errorcode[error.errno]
        try:  # sets this file's times to what they are: only the permission check matters
            status = os.stat(__file__)
            os.utime(__file__, ns=(status.st_atime_ns, status.st_mtime_ns))
            utime_outside = "allowed"
        except OSError as error:
            utime_outside = errno.errorcode[error.errno]
        open_fds = {}
        for fd in range(256):
            try:
                os.fstat(fd)
                open_fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                pass
        return json.dumps({"environ": dict(os.environ), "cwd": os.getcwd(), "tempdir": tempfile.gettempdir(),
                           "open_fds": open_fds, "write_tmp": write_tmp, "utime_outside": utime_outside,
                           "interfaces": [name for _, name in socket.if_nameindex()]}).encode()
