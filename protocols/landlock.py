"""A small Landlock layer (Linux >= 5.13) through ctypes: what a sandboxed player may change.

Landlock is an unprivileged Linux security module: a process describes the accesses it wants
restricted (the *handled* rights), adds rules that allow some of them beneath chosen paths, and
restricts itself; the restriction is inherited by every thread and child it creates afterwards
and can never be lifted. :mod:`protocols.sandbox` applies it to each player of the INDEX game so
that nothing Alice does outside her message can be seen by Bob (HO Theorem 5 counts the message
only):

* **files**: every write-type right (write, truncate, create, remove, rename/link across
  directories) is handled and allowed only beneath the player's private directory and on
  ``/dev/null``; reading stays allowed (Python must import code);
* **network** (ABI >= 4): binding and connecting TCP sockets are handled with no rule, so denied;
* **scopes** (ABI >= 6): abstract UNIX sockets and signals cannot reach processes outside the
  player's own Landlock domain.

The kernel's ABI version is queried first and only the rights it knows are requested, so the
same code runs on every kernel that has Landlock; :func:`abi_version` is 0 where it has none.
Syscall numbers 444-446 are the same on x86_64 and aarch64 (the unified syscall table).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform

#: ``landlock_create_ruleset``, ``landlock_add_rule``, ``landlock_restrict_self``.
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
SUPPORTED_MACHINES = ("x86_64", "aarch64", "arm64")
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
#: The newest ABI whose rights this module knows (ABI 7 added audit flags, no new rights).
KNOWN_ABI = 7

# Filesystem rights (ABI 1 unless noted).
FS_WRITE_FILE = 1 << 1
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2: link or rename a file into another directory
FS_TRUNCATE = 1 << 14  # ABI 3
# Network rights (ABI 4) and scopes (ABI 6).
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

_WRITE_RIGHTS_ABI1 = (FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR | FS_MAKE_REG
                      | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM)
#: Rights that make sense on a single file (a rule on ``/dev/null`` may only name these).
_FILE_RIGHTS = FS_WRITE_FILE | FS_TRUNCATE


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.lru_cache(maxsize=1)
def libc():
    """The C library, with ``errno`` kept for :func:`ctypes.get_errno`."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _syscall(number: int, *args) -> int:
    result = libc().syscall(ctypes.c_long(number), *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock syscall {number}: {os.strerror(errno)}")
    return result


@functools.lru_cache(maxsize=1)
def abi_version() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    if platform.system() != "Linux" or platform.machine() not in SUPPORTED_MACHINES:
        return 0
    try:
        return _syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except OSError:
        return 0


def used_abi() -> int:
    """The ABI :func:`restrict` uses: the kernel's, capped at the newest one this module knows."""
    return min(abi_version(), KNOWN_ABI)


def describe() -> str:
    """``"landlock ABI N"``, or ``"none"`` where the kernel offers no Landlock."""
    return f"landlock ABI {used_abi()}" if used_abi() > 0 else "none"


def write_rights(abi: int) -> int:
    """Every write-type filesystem right the given ABI knows."""
    rights = _WRITE_RIGHTS_ABI1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    return rights


def restrict(writable_dir: str) -> int:
    """Restrict the calling process for good; return the ABI used (0: Landlock missing, nothing done).

    Afterwards it (and every child) may create, change or remove files only beneath
    ``writable_dir`` and write only to ``/dev/null``; TCP bind/connect are denied (ABI >= 4);
    abstract UNIX sockets and signals are scoped to its own domain (ABI >= 6). Call it from a
    single-threaded process: Landlock restricts the calling thread and what it creates later.
    """
    abi = used_abi()
    if abi == 0:
        return 0
    handled_fs = write_rights(abi)
    attr = _RulesetAttr(
        handled_access_fs=handled_fs,
        handled_access_net=(NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    ruleset = _syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
                       ctypes.c_uint32(0))
    try:
        _allow_beneath(ruleset, writable_dir, handled_fs)
        _allow_beneath(ruleset, os.devnull, handled_fs & _FILE_RIGHTS)
        if libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(errno)}")
        _syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return abi


def _allow_beneath(ruleset: int, path: str, rights: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_uint32(RULE_PATH_BENEATH), ctypes.byref(rule),
                 ctypes.c_uint32(0))
    finally:
        os.close(fd)
