"""Sandboxed players: every Alice and every Bob call runs in a fresh, confined process (HO Theorem 5).

The INDEX game's lower bound counts one thing, Alice's message; Fano's inequality says nothing
about a Bob who learns Alice's bits another way. :class:`SandboxedPlayers` therefore runs each
player call (:func:`protocols.game.alice_plays`, :func:`protocols.game.bob_probes`: everything a
cache's code does) in a process of its own and cleans up every trace before the next one starts:

1. **A clean server.** :meth:`SandboxedPlayers.__enter__` starts (once per Python process) a fork
   server that imports numpy and the suite and then only forks on request, so a call costs a
   fork, not an interpreter start, and no player is a fork of the caller (which holds Alice's
   bits). Multiprocessing's own fork server re-imports the caller's ``__main__`` script in every
   forked process before any confinement, hence this small one.
2. **A supervisor per call.** The forked process becomes a child subreaper
   (``prctl(PR_SET_CHILD_SUBREAPER)``, so every orphan below it, ``setsid`` or not, is reparented
   to it), makes a fresh private directory and forks the player.
3. **The player** closes every inherited descriptor but its result pipe, sends its output to a
   file in the private directory, replaces its environment by a minimal one (``PATH``, ``LANG``,
   BLAS/OpenMP thread counts; ``HOME`` and ``TMPDIR`` are the private directory) and moves into
   the private directory. Where the kernel allows it, it enters new IPC, network and mount
   namespaces (:func:`_enter_namespaces`: no System V IPC or message queue of anyone else, no
   network device that is up, every mount read-only but the private directory). Then it
   restricts itself with Landlock (:mod:`protocols.landlock`: writes only beneath the private
   directory and to ``/dev/null``, no TCP, abstract sockets and signals scoped; no access to
   other processes' memory or descriptors). It reads its task from a memory file, plays, writes
   a length-prefixed result to another memory file, sends one byte on a pipe and exits.
4. **Cleanup before the result.** The supervisor waits for that byte (or the player's death, or
   the timeout; a leftover descendant may hold the pipe open), reaps the player, SIGKILLs every
   remaining descendant until none is left, removes the private directory, and only then tells
   the caller, who reads the result file: nothing that could still write it is alive. So Alice
   is gone, with everything she started or wrote, before Bob starts.

Results cross back as raw bytes in a fixed format, never as pickles, so a player cannot run code
in the supervisor or the caller. Memory files (``memfd``) carry the data both ways, so a call
costs about two forks whatever the size of the stream or the message. :attr:`SandboxedPlayers.sandbox` says which layers this machine
has, e.g. ``"landlock ABI 7, private IPC, network and mount namespaces (read-only mounts)"``.
Without Landlock and namespaces (old kernels, other platforms) the players still run in fresh
processes, a warning is printed once, and it is ``"none"``. Without the namespaces, side effects
Landlock has no right for remain possible: metadata of existing files (times, modes, extended
attributes), System V IPC objects, UDP. Every scored point is also checked against the Fano
frontier (:mod:`protocols.guard`), which catches a leak the sandbox missed.
"""

from __future__ import annotations

import ctypes
import gc
import json
import mmap
import os
import pickle
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection

import numpy as np

from caches.params import ParameterError, check_real
from protocols import landlock
from protocols.game import (
    BobRequest,
    CacheContractError,
    alice_plays,
    bob_decides,
    bob_plan,
    bob_probes,
    frozen_spec,
    spec_label,
)
from protocols.reduction import Reduction

#: Modules the fork server imports once, so that players start warm (numpy loads some lazily).
PRELOAD = ("numpy", "numpy.random", "numpy.linalg", "numpy.ma", "caches", "caches.zoo", "caches.tensor",
           "protocols.game", "protocols.sandbox")
#: Seconds one player call may take before it is killed (generous: paper presets, slow plug-ins).
DEFAULT_TIMEOUT = 1800.0
#: Extra seconds the caller waits for a supervisor beyond the player's own timeout.
SUPERVISOR_GRACE = 60.0
#: Environment variables a player keeps (``PATH`` and ``LANG``, plus thread counts by prefix).
KEPT_VARIABLES = ("PATH", "LANG")
KEPT_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
#: Seconds the supervisor waits for a player to exit after its result (it exits at once) or its pipe's end.
EXIT_WAIT = 1.0
PR_SET_CHILD_SUBREAPER = 36
#: glibc's ``mallopt`` parameters and the largest mmap threshold it accepts on 64-bit systems.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD = -1, -3, 32 << 20
#: The player's descriptors: the "done" pipe, the result file, the task file (all others closed).
_DONE_FD, _RESULT_FD, _TASK_FD = 3, 4, 5
_DONE = b"D"
_LENGTH = struct.Struct("<Q")
_COUNT = struct.Struct("<I")


class SandboxedPlayers:
    """Alice and Bob, each call in a fresh sandboxed process (see the module docstring).

    ``alice(reduction, cache, x) -> bytes`` and ``bob(request) -> decoded rows``, like
    :class:`protocols.game.InProcessPlayers`. The public parts of the game (Alice's stream from
    her bits, Bob's queries and decision rule) are the suite's own code and run in the caller;
    every method of the cache runs in the sandbox. Use as a context manager.
    """

    isolated = True

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = check_real("timeout", timeout, 0.0, low_open=True)
        self._server: _ForkServer | None = None

    @property
    def sandbox(self) -> str:
        """What confines the players here, e.g. ``"landlock ABI 7, private IPC, network and mount
        namespaces (read-only mounts)"``, ``"landlock ABI 7"`` or ``"none"`` (starts the shared
        fork server if needed: it probes which namespaces the kernel allows)."""
        return _ForkServer.shared().description

    def __enter__(self) -> "SandboxedPlayers":
        self._server = _ForkServer.shared()
        _warn_if_unconfined(self._server.description)
        return self

    def __exit__(self, *exc) -> None:
        self._server = None

    def alice(self, reduction: Reduction, cache, x: np.ndarray) -> bytes:
        """Alice's message for ``x``: a fresh copy of ``cache`` (its frozen public parameters) takes
        ``reduction.alice_stream(x)`` in a sandbox; the message is its ``to_bytes()`` as plain bytes."""
        spec = frozen_spec(cache)
        stream = tuple(np.asarray(part) for part in reduction.alice_stream(x))
        frame = self._play("alice", {"cache": spec, "stream": stream}, spec_label(spec))
        if frame[:1] != b"M":
            raise CacheContractError(f"{spec_label(spec)}: Alice's player sent a malformed result")
        return bytes(frame[1:])

    def bob(self, request: BobRequest) -> np.ndarray:
        """Bob's decoded rows: ``from_bytes`` on the message and ``probe`` run in a sandbox."""
        if type(request.message) is not bytes:
            raise TypeError(f"the message must be bytes, got {type(request.message).__name__}")
        spec = frozen_spec(request.cache)
        reduction, chunks, queries = bob_plan(request)
        frame = self._play("bob", {"cache": spec, "message": request.message, "queries": queries},
                           spec_label(spec))
        outputs = _unpack_outputs(frame, spec_label(spec))
        return bob_decides(request, reduction, chunks, outputs)

    def _play(self, role: str, task: dict, label: str) -> bytes:
        if self._server is None:
            raise RuntimeError("use SandboxedPlayers as a context manager: `with SandboxedPlayers() as players:`")
        task = {**task, "sys_path": list(sys.path), "main_path": _main_path()}
        status, payload = self._server.call(role, task, self.timeout)
        if status == "frame":
            return _raise_player_error(payload, role, label)
        if status == "timeout":
            raise CacheContractError(f"{label}: {_ROLE[role]} ran longer than the {self.timeout:g} s allowed")
        if status == "died":
            raise CacheContractError(f"{label}: {_ROLE[role]}'s process {payload}")
        raise RuntimeError(f"the sandbox could not run {_ROLE[role]}: {payload}")


_ROLE = {"alice": "Alice", "bob": "Bob"}


def _raise_player_error(frame: bytes, role: str, label: str) -> bytes:
    """Pass a result frame through, or raise the error it reports."""
    kind = frame[:1]
    text = frame[1:].decode("utf-8", "replace") if kind in (b"C", b"P", b"I") else ""
    if kind == b"C":
        raise CacheContractError(text)
    if kind == b"P":
        raise ParameterError(text)
    if kind == b"I":
        raise RuntimeError(f"{label}: {_ROLE[role]}'s sandboxed process failed: {text}")
    return frame


def _main_path() -> str | None:
    """The caller's ``__main__`` script, for caches defined in it (``"__main__:Class"``)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.abspath(path) if path and getattr(main, "__spec__", None) is None else None


_warned = False


def _warn_if_unconfined(description: str) -> None:
    global _warned
    if landlock.used_abi() == 0 and not _warned:
        _warned = True
        print(f"barriers: warning: this kernel offers no Landlock; players run in fresh processes with less "
              f"confinement (sandbox: {description})", file=sys.stderr)


# --- the fork server ---------------------------------------------------------------------------


class _ForkServer:
    """One clean process per Python process that imports :data:`PRELOAD` and forks supervisors.

    Per call the caller sends it (``SCM_RIGHTS``) a socket and two memory files, the task and
    the result; the forked supervisor reads the role and timeout on the socket, hands the files
    to the player and answers on the socket. The server never reads a task, so it stays clean;
    it exits when the caller's end closes.
    """

    _shared: "_ForkServer | None" = None
    _lock = threading.Lock()

    @classmethod
    def shared(cls) -> "_ForkServer":
        with cls._lock:
            if cls._shared is None or cls._shared.process.poll() is not None:
                cls._shared = cls()
            return cls._shared

    def __init__(self) -> None:
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        code = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
                "from protocols.sandbox import _serve; _serve(int(sys.argv[2]))")
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(sys.path), str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True,
        )
        theirs.close()
        self.channel = ours
        self.lock = threading.Lock()
        ours.settimeout(300)
        ready = b""
        try:
            while len(ready) < 3 and (chunk := ours.recv(3 - len(ready))):
                ready += chunk  # R and the namespace mode, once it has imported everything
        except OSError:
            pass
        ours.settimeout(None)
        if ready[:1] != b"R" or len(ready) != 3:
            raise RuntimeError(f"the players' fork server did not start (exit status {self.process.wait()})")
        confinement = [landlock.describe()] if landlock.used_abi() else []
        namespaces = ready[1:].decode()
        if namespaces != "--":
            confinement.append("private IPC, network and mount namespaces (read-only mounts)" if "m" in namespaces
                               else "private IPC and network namespaces")
        self.description = ", ".join(confinement) or "none"

    def call(self, role: str, task: dict, timeout: float) -> tuple[str, object]:
        """Run one player call in a fresh supervisor; ``("frame", bytes)`` or ``(status, why)``.

        The task goes to the player and its result comes back in memory files (``memfd``), not
        through sockets: the caller reads the result file only after the supervisor reports that
        every process that could write it is gone.
        """
        task_file = os.memfd_create("barriers-task", os.MFD_CLOEXEC)
        result_file = os.memfd_create("barriers-result", os.MFD_CLOEXEC)
        try:
            _write_task(task_file, task)
            with self.lock:
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    socket.send_fds(self.channel, [b"C"], [theirs.fileno(), task_file, result_file])
                except OSError as error:
                    raise RuntimeError(f"the players' fork server is gone: {error}") from None
                finally:
                    theirs.close()
            connection = Connection(ours.detach())
            try:
                connection.send((role, timeout))
                supervisor = connection.recv()
                if not connection.poll(timeout + SUPERVISOR_GRACE):
                    _kill(supervisor)
                    return "internal", f"its supervisor did not answer within {timeout + SUPERVISOR_GRACE:g} s"
                status, why = connection.recv()
            except EOFError:
                return "internal", "its supervisor exited without an answer"
            finally:
                connection.close()
            if status != "done":
                return status, why
            return _read_result(result_file)
        finally:
            os.close(task_file)
            os.close(result_file)


def _write_task(fd: int, task: dict) -> None:
    """Pickle ``task`` into the file ``fd`` with its arrays' data out of band, each 64-byte aligned,
    so that the player maps them instead of copying them (:func:`_read_task`)."""
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(task, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    layout, offset = [], _aligned(_LENGTH.size * (2 + 2 * len(raws)) + len(header))
    for raw in raws:
        layout += [offset, raw.nbytes]
        offset = _aligned(offset + raw.nbytes)
    os.ftruncate(fd, offset)
    os.pwrite(fd, struct.pack(f"<{2 + 2 * len(raws)}Q", len(header), len(raws), *layout) + header, 0)
    for start, raw in zip(layout[::2], raws):
        written = 0
        while written < raw.nbytes:
            written += os.pwrite(fd, raw[written:], start + written)


def _read_task(fd: int) -> dict:
    """The task of :func:`_write_task`; its arrays are private copy-on-write mappings of the file."""
    data = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    header_size, count = struct.unpack_from("<2Q", data)
    layout = struct.unpack_from(f"<{2 * count}Q", data, 2 * _LENGTH.size)
    start = _LENGTH.size * (2 + 2 * count)
    view = memoryview(data)
    buffers = [view[offset : offset + size] for offset, size in zip(layout[::2], layout[1::2])]
    return pickle.loads(view[start : start + header_size], buffers=buffers)


def _aligned(offset: int, alignment: int = 64) -> int:
    return -(-offset // alignment) * alignment


def _read_result(fd: int) -> tuple[str, object]:
    """The length-prefixed frame the player wrote to its result file (raw bytes, never unpickled)."""
    size = os.fstat(fd).st_size
    if size < _LENGTH.size:
        return "died", "reported done without a result"
    with mmap.mmap(fd, size, prot=mmap.PROT_READ) as data:
        (length,) = _LENGTH.unpack_from(data)
        if _LENGTH.size + length > size:
            return "died", "wrote a truncated result"
        return "frame", data[_LENGTH.size : _LENGTH.size + length]


def _serve(fd: int) -> None:
    """The fork server's loop (run by ``python -c``): fork one supervisor per request."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    _preload_requested()
    landlock.abi_version()  # asked (and the C library loaded) once here, inherited by every player
    _keep_large_blocks_on_the_heap()
    global _NAMESPACES
    _NAMESPACES = _probe_namespaces()
    gc.freeze()  # the collector leaves the preloaded objects alone: fewer copy-on-write faults per fork
    channel = socket.socket(fileno=fd)
    channel.sendall(b"R" + _NAMESPACES.encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, 1, 3)
        except OSError:
            break
        if not message:
            break  # the caller closed its end
        if len(fds) == 3:
            pid = os.fork()
            if pid == 0:
                try:
                    channel.close()
                    _supervise(*fds)
                finally:
                    os._exit(0)
        for descriptor in fds:
            os.close(descriptor)
        _reap_exited()


def _keep_large_blocks_on_the_heap() -> None:
    """Set glibc's mmap and trim thresholds as a long-running process ends up with them.

    glibc serves blocks above a threshold (128 KiB at start) with fresh ``mmap`` pages and raises
    it as large blocks are freed. A fresh player would start low and fault in every page of every
    array of a step again (hundreds of thousands of page faults in a cache that allocates per
    token); set here, the thresholds are inherited by every player.
    """
    libc = landlock.libc()
    libc.mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, 2 * MALLOC_MMAP_THRESHOLD)


#: Environment variable naming more modules (comma-separated) for the fork server to import once, so
#: that players of torch-based caches do not each import torch: the command line sets it from the
#: ``PRELOAD`` the plug-in caches declare (``caches/hf.py``, ``caches/kvpress.py``). Public code only.
PRELOAD_VARIABLE = "BARRIERS_PRELOAD"


def _preload_requested() -> None:
    import importlib

    for name in filter(None, (part.strip() for part in os.environ.get(PRELOAD_VARIABLE, "").split(","))):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the player imports it again and reports the failure itself
            pass


def _reap_exited() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] != 0:
            pass
    except ChildProcessError:
        pass


# --- the supervisor ---------------------------------------------------------------------------


def _supervise(socket_fd: int, task_fd: int, result_fd: int) -> None:
    """Run one player call: fork the player, wait for it, end every descendant, clean up, report."""
    connection = Connection(socket_fd)
    role, timeout = connection.recv()
    connection.send(os.getpid())
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    private = tempfile.mkdtemp(prefix=f"barriers-{role}-")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _play_confined(role, private, write_end, result_fd, task_fd)
        finally:
            os._exit(70)
    for descriptor in (write_end, task_fd, result_fd):
        os.close(descriptor)
    try:
        outcome = _wait_for_player(pid, read_end, timeout, private)
    finally:
        os.close(read_end)
        end_descendants()
    failure = _remove_private(private)
    if failure and outcome[0] == "done":
        outcome = ("died", f"left files it made unremovable in its private directory ({failure})")
    connection.send(outcome)
    connection.close()


def _wait_for_player(pid: int, fd: int, timeout: float, private: str) -> tuple[str, object]:
    """Wait for the player's "done" byte (its result file is written): ``("done", None)``,
    ``("timeout", None)`` or ``("died", why)``.

    The player is reaped here when it exits in time (it exits right after the byte), so that
    :func:`end_descendants` usually finds nothing left to do.
    """
    deadline = time.monotonic() + timeout
    pidfd = os.pidfd_open(pid)
    done, status = False, None
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", None
            ready, _, _ = select.select([fd, pidfd], [], [], remaining)
            if fd in ready:
                done = os.read(fd, 1) == _DONE  # else every writer is gone
                break
            if pidfd in ready:
                break  # it exited without the byte
        if select.select([pidfd], [], [], EXIT_WAIT)[0]:
            status = os.waitpid(pid, 0)[1]
    finally:
        os.close(pidfd)
    return ("done", None) if done else ("died", _death(status) + _last_output(private))


def _death(status: int | None) -> str:
    if status is None:
        return "closed its result pipe without a result"
    if os.WIFSIGNALED(status):
        return f"was killed by signal {signal.Signals(os.WTERMSIG(status)).name} before it sent a result"
    return f"exited with status {os.WEXITSTATUS(status)} before it sent a result"


def _last_output(private: str) -> str:
    try:
        with open(os.path.join(private, "output"), "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2000))
            lines = [line for line in handle.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f"; its last output: {lines[-1].strip()[:300]}" if lines else ""


def end_descendants() -> None:
    """SIGKILL every process below this one (a child subreaper) and reap them, until none is left.

    Orphans, ``setsid`` ones included, are reparented to the subreaper, so "no child left" means
    "no descendant left". The common case (the player exited, nothing left behind) reads no
    ``/proc`` at all.
    """
    me = os.getpid()
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return
        for pid in _descendants(me):
            _kill(pid)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _descendants(root: int) -> list[int]:
    """Every process below ``root``, from the parent field of ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # it has just exited
        parent = int(stat.rpartition(b")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, frontier = [], [root]
    while frontier:
        below = children.get(frontier.pop(), [])
        found += below
        frontier += below
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _remove_private(private: str) -> str | None:
    """Remove the player's private directory (making read-only parts writable); an error text if it stays."""

    def writable_again(function, path, _):
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
        function(path)

    try:
        shutil.rmtree(private, onerror=writable_again)
    except OSError as error:
        return str(error)
    return None


def _prctl(option: int, value: int) -> None:
    if landlock.libc().prctl(option, value, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}): {os.strerror(errno)}")


# --- the player -------------------------------------------------------------------------------


def _play_confined(role: str, private: str, done_fd: int, result_fd: int, task_fd: int) -> None:
    """In the player process: confine, read the task, play, write the result, say done, exit."""
    try:
        _confine(private, done_fd, result_fd, task_fd)
        task = _read_task(_TASK_FD)
        os.close(_TASK_FD)
        sys.path[:] = task["sys_path"]
        if task["main_path"] and '"__main__:' in json.dumps(task["cache"]):
            from multiprocessing import spawn

            spawn.import_main_path(task["main_path"])  # a cache defined in the caller's script
        frame = _ROLE_FRAME[role](task)
    except CacheContractError as error:
        frame = b"C" + str(error).encode("utf-8", "replace")
    except ParameterError as error:
        frame = b"P" + str(error).encode("utf-8", "replace")
    except BaseException as error:  # noqa: BLE001 - whatever happens is reported, never lost
        frame = b"I" + f"{type(error).__name__}: {error}".encode("utf-8", "replace")
    try:
        os.lseek(_RESULT_FD, 0, os.SEEK_SET)
        _write_all(_RESULT_FD, _LENGTH.pack(len(frame)) + frame)
        _write_all(_DONE_FD, _DONE)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


def _confine(private: str, done_fd: int, result_fd: int, task_fd: int) -> None:
    """Descriptors, output, environment, working directory, namespaces, Landlock (in this order)."""
    parked = [os.dup(fd) for fd in (done_fd, result_fd, task_fd)]  # increasing, each >= its target
    for source, target in zip(parked, (_DONE_FD, _RESULT_FD, _TASK_FD)):
        os.dup2(source, target)
    os.closerange(_TASK_FD + 1, max(os.sysconf("SC_OPEN_MAX"), _TASK_FD + 2))
    output = os.open(os.path.join(private, "output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(null)
    os.close(output)
    kept = {name: value for name, value in os.environ.items()
            if name in KEPT_VARIABLES or name.startswith(KEPT_PREFIXES)}
    os.environ.clear()
    os.environ.update({"PATH": DEFAULT_PATH, "LANG": "C.UTF-8", **kept, "HOME": private, "TMPDIR": private})
    tempfile.tempdir = private
    os.chdir(private)
    sys.dont_write_bytecode = True
    _enter_namespaces(_NAMESPACES, private)
    landlock.restrict(private)


#: How players get private namespaces, probed once by the server (two letters): ``"r"`` directly
#: (privileged) or ``"u"`` inside a new user namespace mapping their own ids, then ``"m"`` if the
#: mount namespace with read-only mounts works too; ``"--"``: none.
_NAMESPACES = "--"
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x40000000, 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 1 << 12, 1 << 14, 1 << 18
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = 442, -100, 0x8000, 1


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def _enter_namespaces(mode: str, private: str) -> None:
    """New IPC, network and (mode ``m``) mount namespaces for this process, before Landlock.

    A fresh IPC namespace has no System V IPC objects or POSIX message queues and disposes of
    what the player makes there when it ends; a fresh network namespace has only a loopback
    device that is down, so no socket reaches anything (UDP included); in the mount namespace
    every mount is read-only but ``private``, so not even metadata of existing files (times,
    modes, extended attributes) can change. Landlock has no rights for these three.
    """
    if mode == "--":
        return
    libc = landlock.libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWIPC | CLONE_NEWNET | (CLONE_NEWUSER if "u" in mode else 0) | (CLONE_NEWNS if "m" in mode else 0)
    _check(libc.unshare(flags), "unshare")
    if "u" in mode:  # keep our own ids inside the user namespace, so files stay ours
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    if "m" in mode:
        path = private.encode()
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
        _check(libc.mount(path, path, None, MS_BIND, None), "mount --bind")
        _mount_setattr(b"/", AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0)
        _mount_setattr(path, 0, 0, MOUNT_ATTR_RDONLY)
        os.chdir(private)  # into the writable bind mount, not the read-only directory beneath it


def _mount_setattr(path: bytes, flags: int, set_attr: int, clear_attr: int) -> None:
    attr = _MountAttr(attr_set=set_attr, attr_clr=clear_attr)
    _check(landlock.libc().syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), path,
                                   ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
           "mount_setattr")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _probe_namespaces() -> str:
    """The first mode of :func:`_enter_namespaces` that works here, each tried in a throwaway child."""
    private = tempfile.mkdtemp(prefix="barriers-probe-")
    try:
        for mode in ("rm", "um", "r-", "u-"):
            pid = os.fork()
            if pid == 0:
                try:
                    _enter_namespaces(mode, private)
                    with open(os.path.join(private, "probe"), "w"):
                        pass
                    os._exit(0)
                finally:
                    os._exit(1)
            if os.waitpid(pid, 0)[1] == 0:
                return mode
        return "--"
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _alice_frame(task: dict) -> bytes:
    return b"M" + alice_plays(task["cache"], task["stream"])


def _bob_frame(task: dict) -> bytes:
    outputs = bob_probes(task["cache"], task["message"], task["queries"])
    parts = [_COUNT.pack(len(outputs))]
    for output in outputs:
        output = np.ascontiguousarray(output, dtype="<f8")
        parts.append(_COUNT.pack(output.ndim) + struct.pack(f"<{output.ndim}Q", *output.shape))
        parts.append(output.tobytes())
    return b"O" + b"".join(parts)


_ROLE_FRAME = {"alice": _alice_frame, "bob": _bob_frame}


def _unpack_outputs(frame: bytes, label: str) -> list[np.ndarray]:
    """Bob's probe outputs from his result frame (raw float64, checked sizes; never unpickled)."""
    malformed = CacheContractError(f"{label}: Bob's player sent a malformed result")
    if frame[:1] != b"O":
        raise malformed
    view, offset = memoryview(frame), 1
    try:
        (count,) = _COUNT.unpack_from(view, offset)
        offset += _COUNT.size
        outputs = []
        for _ in range(count):
            (ndim,) = _COUNT.unpack_from(view, offset)
            shape = struct.unpack_from(f"<{ndim}Q", view, offset + _COUNT.size)
            offset += _COUNT.size + 8 * ndim
            size = 8 * int(np.prod(shape, dtype=np.int64))
            if offset + size > len(view):
                raise malformed
            outputs.append(np.frombuffer(view[offset : offset + size], dtype="<f8").reshape(shape))
            offset += size
    except (struct.error, ValueError):
        raise malformed from None
    if offset != len(view):
        raise malformed
    return outputs


__all__ = ["SandboxedPlayers", "end_descendants"]
