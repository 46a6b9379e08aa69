"""Files on disk: the one way cowkg puts a file, a directory or a link in place.

Stage: shared by every stage that writes (exports, the reasoner's and Wikibase view's caches,
validation verdicts, the Wikidata cache, releases, the packaged graph's extraction, Virtuoso's
staging and state). Why one place: whoever reads — another worker, the next run, a user's
``sha256sum -c`` — must find the old file or the complete new one, never a part of it, even when
the writer is killed (SIGKILL) in the middle. So everything is written beside its target and moved
into place by one atomic rename; tests/security/test_kill_during_write.py and tests/test_dump.py
kill writers to prove it, and tests/test_architecture.py keeps ``os.replace`` and temporary files
in this module.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import tempfile
import time
from pathlib import Path

__all__ = ["exchange", "fsync_dir", "pid_alive", "point_link", "read_cached", "rename_directory", "set_aside",
           "swap_directory", "temporary_directory", "write_atomically"]


def write_atomically(path: str | Path, content: bytes | str) -> None:
    """Write ``content`` (text is UTF-8) so that ``path`` is the old file or the new one, never a
    part of it — even if the process is killed (kill -9) while writing.

    The content goes to an unnamed file in the target directory (``O_TMPFILE``), which gets a
    name only once it is complete and synced, then replaces ``path`` atomically; where the file
    system has no unnamed files, to a named temporary file (``.<name>.<pid>.<random>.tmp``) that
    the next write removes if its writer is dead. The file gets mode 0666 minus the umask, like
    ``open()``, ``cowkg dump`` and a shell redirect. Raises OSError when the directory cannot take
    it (callers that only cache log that and go on).
    """
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    tmp = None
    try:
        fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666)
        unnamed = True
    except (AttributeError, OSError):
        unnamed = False
        while True:
            tmp = str(path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
                break
            except FileExistsError:
                continue
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if unnamed:
                umask = os.umask(0)
                os.umask(umask)
                os.fchmod(fh.fileno(), 0o666 & ~umask)  # O_TMPFILE files are created 0600 by some kernels
                name = f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
                directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
                try:  # linkat(AT_SYMLINK_FOLLOW): the file is complete and synced before it has a name
                    os.link(f"/proc/self/fd/{fh.fileno()}", name, dst_dir_fd=directory, follow_symlinks=True)
                finally:
                    os.close(directory)
                tmp = str(path.parent / name)
        os.replace(tmp, path)
    except BaseException:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts): a temporary file or directory
    named after a dead writer is an orphan."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_orphans(path: Path) -> None:
    """Remove temporary siblings of ``path`` left by a writer that was killed (its pid is gone)."""
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):
        parts = orphan.name[len(path.name) + 2:].split(".")
        if parts and parts[0].isdigit() and not pid_alive(int(parts[0])):
            orphan.unlink(missing_ok=True)


def fsync_dir(path: str | Path) -> None:
    """Make the entries of directory ``path`` (names just created or renamed) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_directory(parent: str | Path, prefix: str) -> Path:
    """A new, empty directory ``parent/<prefix><random>``, to fill and then move into place with
    ``rename_directory`` or ``exchange`` (put the writer's pid in ``prefix`` so that a later run
    can tell its orphans)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def rename_directory(complete: Path, target: Path) -> bool:
    """Move the complete directory ``complete`` to ``target`` in one rename. False, leaving both
    as they are, when a non-empty ``target`` exists already (another process put its copy there
    first)."""
    try:
        os.rename(complete, target)
    except OSError:
        if target.exists():
            return False
        raise
    return True


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE). False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def swap_directory(complete: Path, target: Path) -> Path:
    """Put the complete directory ``complete`` where the directory ``target`` is: one
    ``renameat2(RENAME_EXCHANGE)`` where the kernel offers it (a reader sees the old directory or
    the new one), else ``target`` moved aside to ``.old-<pid>-<name>`` and ``complete`` renamed in.
    Returns where the old directory now is, for the caller to remove."""
    if exchange(complete, target):
        return complete
    old = target.parent / f".old-{os.getpid()}-{target.name}"
    os.rename(target, old)
    os.rename(complete, target)
    return old


def point_link(link: Path, target: str) -> None:
    """Make the symbolic link ``link`` point to ``target`` in one step: a new link
    ``.<name>-<pid>`` beside it replaces it, so a reader follows the old target or the new one."""
    fresh = link.parent / f".{link.name}-{os.getpid()}"
    fresh.unlink(missing_ok=True)
    os.symlink(target, fresh)
    os.replace(fresh, link)


def read_cached(path: str | Path, what: str, log, redo: str) -> bytes | None:
    """The bytes of a cache file, or None when there is none or it cannot be read (logged as
    ``what`` at ``path``, ``redo`` said instead): a cache that fails costs only time."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("%s %s unreadable (%s): %s", what, path, exc.strerror, redo)
        return None


def set_aside(path: str | Path) -> None:
    """Rename a damaged cache file to ``<name>.damaged-<time>``, kept for inspection (best effort)."""
    path = Path(path)
    try:
        path.replace(path.with_name(f"{path.name}.damaged-{int(time.time())}"))
    except OSError:
        pass
