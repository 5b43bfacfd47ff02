"""An output folder that always holds one complete result set: locked, test-written, staged, swapped in.

What a command writes (`--out`) must never mix two runs or two halves of one:

* **Only regular files, only inside the folder.** `--out` that is a symbolic link, a device, a
  FIFO or a regular file is refused, and so is a file peaksim would write (`summary.csv` …)
  that exists as a link, device or FIFO: nothing is written through or over them.
* **One writer at a time.** The folder is locked (`flock` on a lock file next to it) for the
  whole command; a second command into the same folder is refused at once, naming the pid.
* **Test-written first.** Before any simulation, a staging folder is created next to the
  output folder and a probe file is written and synced in it: a read-only or full disk is a
  one-line error before the work, not after it.
* **Swapped in whole.** The command writes its result set into the staging folder; `commit`
  then exchanges it with the output folder in one `renameat2(RENAME_EXCHANGE)` (Linux; two
  renames elsewhere), so a reader sees the old complete set or the new complete set, never a
  mix. Files in the folder that peaksim did not write are carried over (hard links); results of
  an earlier command (`RESULT_FILES`) are replaced by the new set, never mixed with it.
  A folder that also holds subfolders, links or devices (or the working directory itself) is
  not swapped: its files are moved in one by one (each rename atomic, status files such as
  `run.json` removed first and written last), after the whole set was staged.

A failed write (full disk, read-only file system, permissions) leaves the output folder exactly
as it was and becomes a one-line `PeaksimError` (exit status 2).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from .bounded_read import kind_of
from .errors import PeaksimError

RESULT_FILES = frozenset({
    "summary.csv", "intervals.csv", "groups.csv", "replications.csv", "origins.csv", "reasons.csv", "run.json",
    "report.html", "sweep.csv", "sweep.json", "staffing.csv", "staffing_sl.csv", "staffed_scenario.yaml",
    "staffing.json", "shifts.csv", "coverage.csv", "shifts_scenario.yaml", "compare.csv", "compare_intervals.csv",
    "compare.json", "backtest_intervals.csv", "backtest_summary.csv", "backtest.json", "calibration.yaml",
    "calibrate.json", "fits.csv", "fit_candidates.csv", "arrivals.csv", "arrivals_daily.csv", "day_of_week.csv",
    "handle_time_profile.csv", "drops.csv", "arrival_profile.csv", "agent_groups.csv", "behaviour_rates.csv",
    "season_daily.csv", "season_events.csv", "staffing_outcomes.csv", "csat_fit.csv", "patience_profile.csv",
})
_RESULT_PATTERN = re.compile(r"^(handle_time|patience|resolution_time)_[a-z_]+\.csv$")
STATUS_FILES = ("run.json", "sweep.json", "staffing.json", "compare.json", "backtest.json", "calibrate.json")
MAX_CARRIED = 10_000  # entries carried over into a swapped folder; more: files are moved in one by one
_EXCHANGE = 2  # renameat2 flag RENAME_EXCHANGE
_AT_FDCWD = -100
_STORAGE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)
_WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG,
                 errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTDIR, errno.EISDIR)


def is_result_file(name: str) -> bool:
    """Whether `name` is a file some peaksim command writes into its output folder."""
    return name in RESULT_FILES or bool(_RESULT_PATTERN.match(name))


def write_error(target: Path, exc: OSError, unchanged: bool = True) -> PeaksimError:
    """A full disk, read-only file system … as one line naming the folder and what to do."""
    what = exc.strerror or type(exc).__name__
    where = f" ({Path(exc.filename).name})" if getattr(exc, "filename", None) else ""
    try:
        held = unchanged and Path(target).is_dir() and any(Path(target).iterdir())
    except OSError:
        held = False
    kept = "; the folder still holds its previous results, unchanged" if held else ""
    return PeaksimError(f"{target}: cannot write the results (got {what}{where}){kept}; "
                        "free space, fix the permissions, or choose another --out")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(str(a)), _AT_FDCWD, os.fsencode(str(b)), _EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EINVAL), errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), str(b))


class ResultFolder:
    """The output folder of one command (use as a context manager); write into `staging`, then `commit()`."""

    def __init__(self, target: str | Path):
        self.target = Path(target)
        self.staging: Path | None = None
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self._created = False
        self.committed = False

    # --- entering: checks, lock, staging, probe -------------------------------------------------
    def __enter__(self) -> "ResultFolder":
        check_target(self.target)
        parent = self.target.parent if str(self.target.parent) else Path(".")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PeaksimError(f"{self.target}: cannot create the output folder (got {exc.strerror}); "
                               "choose another --out") from None
        self._sibling = os.access(parent, os.W_OK | os.X_OK)
        try:
            self._lock()
            self._created = not self.target.exists()
            self._ensure_target()  # the folder exists from the start (empty if new), as a planner expects
            self._remove_stale_staging()
            self.staging = self.new_staging()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if self.staging is not None and self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)
            if self._created and not self.committed:
                try:
                    os.rmdir(self.target)  # made by this command and still empty: leave no trace
                except OSError:
                    pass
        finally:
            self._unlock()
        if isinstance(exc, OSError) and self._about_writing(exc):
            raise write_error(self.target, exc, unchanged=not self.committed) from None

    def _about_writing(self, exc: OSError) -> bool:
        """A storage error (full disk, read-only file system), or any write error on a path of this folder."""
        if exc.errno in _STORAGE_ERRORS:
            return True
        if exc.errno not in _WRITE_ERRORS or not getattr(exc, "filename", None):
            return False
        where = os.path.abspath(str(exc.filename))
        roots = [os.path.abspath(self.target)] + ([os.path.abspath(self.staging)] if self.staging else [])
        return any(where == root or where.startswith(root + os.sep) for root in roots)

    def _lock(self) -> None:
        name = self.target.name or "results"
        if self._sibling:
            path = self.target.parent / f".{name}.peaksim.lock"
        else:  # the parent is not writable: the folder must exist and is never swapped, so lock inside it
            self._ensure_target()
            path = self.target / ".peaksim.lock"
        for _ in range(5):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise write_error(self.target, exc) from None
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise PeaksimError(f"{self.target}: another peaksim command (pid {holder}) is writing into this "
                                   "folder; wait for it to finish or choose another --out") from None
            except ImportError:  # no flock on this system: no locking, but everything else holds
                pass
            try:  # the file may have been removed by the previous holder between open and flock: retry
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                self._lock_fd, self._lock_path = fd, path
                return
            os.close(fd)
        raise PeaksimError(f"{self.target}: could not lock the output folder (it kept changing); try again")

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        try:
            os.unlink(self._lock_path)
        except OSError:
            pass
        os.close(self._lock_fd)
        self._lock_fd = None

    def _ensure_target(self) -> None:
        try:
            self.target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PeaksimError(f"{self.target}: cannot create the output folder (got {exc.strerror}); "
                               "choose another --out") from None

    def _staging_prefix(self) -> str:
        return f".{self.target.name or 'results'}.peaksim-staging-"

    def _remove_stale_staging(self) -> None:
        """Staging folders of an earlier command that was killed (we hold the lock: nobody uses them)."""
        where = self.target.parent if self._sibling else self.target
        prefix = self._staging_prefix() if self._sibling else ".peaksim-staging-"
        try:
            for entry in os.scandir(where):
                if entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass

    def new_staging(self) -> Path:
        """A fresh, empty staging folder on the output folder's file system, test-written."""
        try:
            if self._sibling:
                path = Path(tempfile.mkdtemp(prefix=self._staging_prefix(), dir=self.target.parent))
            else:
                self._ensure_target()
                path = Path(tempfile.mkdtemp(prefix=".peaksim-staging-", dir=self.target))
            umask = os.umask(0)
            os.umask(umask)
            mode = stat.S_IMODE(os.stat(self.target).st_mode) if self.target.is_dir() else 0o777 & ~umask
            os.chmod(path, mode | stat.S_IRWXU)
            probe = path / "probe.tmp"
            with open(probe, "wb") as fh:
                fh.write(b"peaksim")
                fh.flush()
                os.fsync(fh.fileno())
            probe.unlink()
        except OSError as exc:
            raise write_error(self.target, exc) from None
        return path

    # --- committing ---------------------------------------------------------------------------
    def commit(self) -> None:
        """Make the staged result set the folder's content (see the module docstring)."""
        staged = self.staging
        if staged is None:
            raise RuntimeError("nothing staged")
        names = sorted(p.name for p in staged.iterdir())
        try:
            check_entries(self.target, names)
            if self._swappable():
                self._carry_over(staged, names)
                self._swap(staged)
            else:
                self._move_in(staged, names)
        except OSError as exc:
            raise write_error(self.target, exc, unchanged=not self.committed) from None
        self.committed = True
        self.staging = None

    def _swappable(self) -> bool:
        if not self._sibling:
            return False
        if not self.target.exists():
            return True
        try:
            here = Path.cwd().resolve()
            resolved = self.target.resolve()
            if resolved == here or resolved in here.parents:
                return False  # never move the working directory (or one of its parents) away
            entries = list(os.scandir(self.target))
        except OSError:
            return False
        return len(entries) <= MAX_CARRIED and all(e.is_file(follow_symlinks=False) for e in entries)

    def _carry_over(self, staged: Path, names: list[str]) -> None:
        """Hard-link (else copy) the folder's own files, not peaksim results, into the staged set."""
        if not self.target.exists():
            return
        for entry in os.scandir(self.target):
            if entry.name in names or is_result_file(entry.name) or entry.name == ".peaksim.lock":
                continue
            try:
                os.link(entry.path, staged / entry.name, follow_symlinks=False)
            except OSError:
                shutil.copy2(entry.path, staged / entry.name, follow_symlinks=False)

    def _swap(self, staged: Path) -> None:
        if not self.target.exists():
            os.rename(staged, self.target)
            return
        if _exchange(staged, self.target):
            shutil.rmtree(staged, ignore_errors=True)  # now holds the previous set
            return
        old = Path(tempfile.mkdtemp(prefix=self._staging_prefix(), dir=self.target.parent))
        os.rmdir(old)
        os.rename(self.target, old)
        try:
            os.rename(staged, self.target)
        except OSError:
            os.rename(old, self.target)
            raise
        shutil.rmtree(old, ignore_errors=True)

    def _move_in(self, staged: Path, names: list[str]) -> None:
        """File by file: old status files out first, stale results out, new files in, status files last."""
        self._ensure_target()
        for name in STATUS_FILES:
            old = self.target / name
            if name not in names and old.is_file() and not old.is_symlink():
                old.unlink()
        for entry in os.scandir(self.target):
            if is_result_file(entry.name) and entry.name not in names and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        last = [n for n in names if n in STATUS_FILES]
        for name in [n for n in names if n not in STATUS_FILES] + last:
            os.replace(staged / name, self.target / name)
        shutil.rmtree(staged, ignore_errors=True)

    def remove_stale(self, keep: tuple[str, ...] = ()) -> None:
        """Remove an earlier command's result files (not `keep`) from the folder itself: for commands
        that keep a journal there (a sweep appends `sweep.csv` as points finish)."""
        self._ensure_target()
        try:
            for entry in os.scandir(self.target):
                if is_result_file(entry.name) and entry.name not in keep and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
        except OSError as exc:
            raise write_error(self.target, exc, unchanged=False) from None


def check_target(target: Path) -> None:
    """`--out` is a folder (or nothing yet), not a link, device, FIFO or file; its result-file names are
    regular files (or absent)."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise PeaksimError(f"{target}: cannot use it as the output folder (got {exc.strerror}); "
                           "choose another --out") from None
    if stat.S_ISLNK(info.st_mode):
        raise PeaksimError(f"{target}: output path is a symbolic link (peaksim writes only into real folders); "
                           "give the folder it points to, or another --out")
    if not stat.S_ISDIR(info.st_mode):
        got = "a regular file" if stat.S_ISREG(info.st_mode) else kind_of(info.st_mode)
        raise PeaksimError(f"{target}: output path exists and is not a directory (got {got}); choose another --out")
    try:
        names = [e.name for e in os.scandir(target) if is_result_file(e.name)]
    except OSError as exc:
        raise PeaksimError(f"{target}: cannot read the output folder (got {exc.strerror}); choose another --out") from None
    check_entries(target, names)


def check_entries(target: Path, names) -> None:
    """Each of `names` in `target` is absent or a regular file (never a link, FIFO, device or folder)."""
    for name in names:
        try:
            info = os.lstat(Path(target) / name)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            raise PeaksimError(f"{Path(target) / name}: exists and is not a regular file (got {kind_of(info.st_mode)}); "
                               "peaksim writes only regular files: remove it or choose another --out")
