"""Safe writes of the user's outputs: checked before any work, never half-written, never mixed.

- :func:`check_output_file` and :func:`check_output_dir` refuse a bad ``--out`` (empty, an existing file
  where a folder is wanted or the reverse, a read-only place, the current folder) before a run starts.
- :func:`atomic_path` / :func:`write_frame` / :func:`write_frames` write to a temporary file beside the
  target and rename it into place at the end; files get the user's umask (not the 0600 of ``mkstemp``).
- :func:`atomic_dir` builds a run's outputs in a new folder beside the target, links in every file of the
  old folder that no gpuplan run wrote (the user's own files), records the run's files in a manifest
  (:data:`MANIFEST`) and swaps the new folder in with one atomic rename (``renameat2(RENAME_EXCHANGE)`` on
  Linux).  A reader sees the old folder or the new one, never a mix; a user's file is never deleted; the
  previous run's outputs that this run did not write again (stale tables) are gone.
- Temporary files and folders are removed on every exit Python sees (errors, Ctrl-C, SIGTERM through
  the CLI's handler); ones left by a killed process are removed by the next run that writes there.
- Text cells that begin with ``=``, ``+``, ``-`` or ``@`` are written with a leading ``'`` in CSV files
  (:func:`neutralise_formulas`), so a spreadsheet shows them instead of running them as formulas.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from scenarios.errors import InputError

#: Name of the manifest a gpuplan output folder keeps: the files the last run wrote (relative paths).
MANIFEST = ".gpuplan-manifest.json"
_TMP = ".gpuplan-tmp-"

#: Test hook: called with the step name (``"written"``, ``"linked"``, ``"swapped"``) while
#: :func:`atomic_dir` commits, so tests can stop a run between the steps of a write.
STEP_HOOK: Callable[[str], None] | None = None

_UMASK_LOCK = threading.Lock()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def _step(name: str) -> None:
    if STEP_HOOK is not None:
        STEP_HOOK(name)


def umask() -> int:
    """The process umask (read without changing it for longer than two system calls)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


# -- checks before any work ------------------------------------------------------------------------------


def _read_only(p: Path) -> bool:
    """True when ``p`` (an existing folder or file) cannot or should not be written: no write access, or
    no write bit for anyone (a folder marked read-only, even for root)."""
    try:
        mode = p.stat().st_mode
    except OSError:
        return True
    return not os.access(p, os.W_OK) or (mode & 0o222) == 0


def _nearest_existing(p: Path) -> Path:
    q = p
    while not q.exists() and q != q.parent:
        q = q.parent
    return q


def _check_parent(target: Path, *, column: str, what: str) -> None:
    base = _nearest_existing(target.parent)
    if not base.is_dir():
        raise InputError(f"cannot create the {what}: '{base}' is a file, not a folder", file=str(target),
                         column=column, fix="choose a path inside a folder")
    if _read_only(base):
        raise InputError(f"cannot write the {what}: folder '{base}' is read-only", file=str(target),
                         column=column, fix="choose a writable place, or make the folder writable")


def _blank(path: str | os.PathLike[str] | None) -> bool:
    return path is None or not str(os.fspath(path)).strip()


def check_output_file(path: str | os.PathLike[str] | None, *, column: str = "--out") -> Path:
    """Refuse an output file path that cannot be written, before any work.

    Refused: an empty value, an existing folder, an existing read-only file, a place under a file or in a
    read-only folder.

    Raises
    ------
    InputError
        One line naming the path and the fix.
    """
    if _blank(path):
        raise InputError("the output file name is empty", column=column, fix="give a file name, e.g. out.csv")
    assert path is not None
    target = Path(os.fspath(path)).expanduser()
    if target.is_dir():
        raise InputError("is an existing folder, not a file", file=str(target), column=column,
                         fix=f"give a file name, e.g. {target / 'out.csv'}")
    if target.exists() and _read_only(target):
        raise InputError("the file exists and is read-only", file=str(target), column=column,
                         fix="make it writable, or choose another name")
    _check_parent(target, column=column, what="file")
    return target


def check_output_dir(path: str | os.PathLike[str] | None, *, column: str = "--out",
                     names: Sequence[str] = ()) -> Path:
    """Refuse an output folder that cannot be written safely, before any work.

    Refused: an empty value, the current folder or one above it, an existing file, a read-only folder (or a
    read-only folder it would be made in), and, when ``names`` are given, a folder that gpuplan did not
    write (no :data:`MANIFEST`) holding a file or folder of one of those names (it would be replaced).

    Raises
    ------
    InputError
        One line naming the path and the fix.
    """
    if _blank(path):
        raise InputError("the output folder name is empty", column=column,
                         fix="give a folder, e.g. --out out/plan")
    assert path is not None
    target = Path(os.fspath(path)).expanduser()
    full = target.resolve()
    cwd = Path.cwd().resolve()
    if full == cwd or full in cwd.parents:
        raise InputError("the output folder is the current folder or one above it", file=str(target),
                         column=column, fix="give a new or gpuplan-made subfolder, e.g. --out out/plan")
    if full.exists() and not full.is_dir():
        raise InputError("is an existing file, not a folder", file=str(target), column=column,
                         fix="give a folder name, e.g. --out out/plan")
    if full.is_dir() and _read_only(full):
        raise InputError("the output folder is read-only", file=str(target), column=column,
                         fix="make it writable, or choose another folder")
    _check_parent(full, column=column, what="output folder")
    if names and full.is_dir() and not (full / MANIFEST).is_file():
        clash = sorted(n for n in names if (full / n).exists())
        if clash:
            raise InputError(f"the folder holds '{clash[0]}', which gpuplan did not write (no {MANIFEST}) and "
                             "would replace", file=str(target), column=column,
                             fix="move that file away, or choose another --out folder")
    return target


# -- temporary names and clean-up ---------------------------------------------------------------------


def _tmp_prefix(name: str) -> str:
    return f".{name}{_TMP}{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path, name: str) -> list[Path]:
    """Remove temporary files and folders for ``name`` left in ``folder`` by processes that no longer run.

    Returns the paths removed.  Nothing is removed while ``folder / name`` is missing: a process killed
    between the two renames of a system without an atomic exchange left the old outputs (and the user's
    files) in one of them, to be recovered by hand.
    """
    removed: list[Path] = []
    if not (folder / name).exists():
        return removed
    pat = re.compile(rf"^\.{re.escape(name)}{re.escape(_TMP)}(\d+)-")
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for e in entries:
        m = pat.match(e.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        if e.is_dir() and not e.is_symlink():
            shutil.rmtree(e, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                e.unlink()
        removed.append(e)
    return removed


def _file_mode(target: Path) -> int:
    """Mode of a new output file: the existing file's mode, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~umask()


# -- files ---------------------------------------------------------------------------------------------


def _mktemp(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, target.name)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(target.name), suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, _file_mode(target))
    return Path(tmp)


@contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield temporary paths beside each of ``paths``; rename them onto their targets only if the block
    succeeds (in the order given).  On any failure every target keeps its previous content."""
    targets = [Path(p) for p in paths]
    if len({t.resolve() for t in targets}) < len(targets):
        raise InputError("the same file is named for two outputs", file=str(targets[0]),
                         fix="give each output its own file name")
    tmps: list[Path] = []
    try:
        for t in targets:
            tmps.append(_mktemp(t))
        yield tmps
        for tmp, t in zip(tmps, targets, strict=True):
            os.replace(tmp, t)
    finally:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    with atomic_paths([path]) as (tmp,):
        yield tmp


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _neutral(v: object) -> object:
    if isinstance(v, str) and v.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(v):
        return "'" + v
    return v


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names starting with ``= + - @`` (or tab / carriage
    return) get a leading ``'``, so a spreadsheet shows them as text.  Plain numbers (``-3.5``) are kept."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[c] = s.map(_neutral)
    out.columns = [_neutral(c) for c in out.columns]
    return out


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _write_to(df: pd.DataFrame, tmp: Path, name: str) -> None:
    out = _prepare(df)
    if name.endswith(".parquet"):
        out.to_parquet(tmp, index=False)
    else:
        neutralise_formulas(out).to_csv(tmp, index=False)


def write_frame(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a frame atomically as CSV (or Parquet for ``.parquet``); timestamps as UTC ISO 8601.

    Text cells that a spreadsheet would run as a formula are neutralised in CSV (:func:`neutralise_formulas`).
    """
    with atomic_path(path) as tmp:
        _write_to(df, tmp, str(path))


def write_frames(frames: Mapping[str | os.PathLike[str], pd.DataFrame]) -> None:
    """Write several frames as one unit: every file is written to a temporary path first, then all are
    renamed into place; a failure while writing leaves every previous file as it was."""
    paths = list(frames)
    with atomic_paths(paths) as tmps:
        for p, tmp in zip(paths, tmps, strict=True):
            _write_to(frames[p], tmp, str(p))


# -- folders -------------------------------------------------------------------------------------------


def _files_under(root: Path) -> list[str]:
    """Relative paths of the files and symlinks under ``root`` (not following symlinks), sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for n in filenames + [d for d in dirnames if (base / d).is_symlink()]:
            out.append((base / n).relative_to(root).as_posix())
    return sorted(out)


def read_manifest(folder: Path) -> set[str]:
    """Files a gpuplan run wrote into ``folder`` (empty when it has no readable manifest)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return {str(f) for f in data.get("files", [])}
    except (OSError, ValueError, AttributeError):
        return set()


def _carry_user_files(old: Path, new: Path, owned: set[str]) -> None:
    """Link every entry of ``old`` that no gpuplan run wrote into ``new`` (same relative path)."""
    for dirpath, dirnames, filenames in os.walk(old):
        base = Path(dirpath)
        rel_dir = base.relative_to(old)
        for d in list(dirnames):
            src = base / d
            rel = (rel_dir / d).as_posix()
            dst = new / rel
            if src.is_symlink():
                dirnames.remove(d)
                filenames.append(d)
                continue
            if dst.exists() and not dst.is_dir():
                raise InputError(f"the folder '{src}' is the user's, and this run writes a file of that name",
                                 file=str(dst), fix="move the folder away, or choose another --out")
            dst.mkdir(exist_ok=True)
            shutil.copymode(src, dst)
        for f in filenames:
            rel = (rel_dir / f).as_posix()
            if rel == MANIFEST or rel in owned:
                continue
            src, dst = base / f, new / rel
            if dst.exists() or dst.is_symlink():
                raise InputError("the file was not written by gpuplan and this run writes a file of the same "
                                 "name; nothing was changed", file=str(src),
                                 fix="move the file away, or choose another --out")
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                continue
            try:
                os.link(src, dst, follow_symlinks=False)
            except OSError:
                shutil.copy2(src, dst, follow_symlinks=False)


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(new: Path, target: Path) -> Path | None:
    """Put ``new`` at ``target``; return where the old folder went (to delete), None if there was none."""
    if not target.exists():
        os.rename(new, target)
        return None
    if _renameat2_exchange(new, target):
        return new                                   # ``new`` now holds the old folder
    old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target.name), dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)                           # no atomic exchange here: two renames
    os.rename(new, target)
    return old


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new empty folder; on success it replaces ``path`` as one unit.

    The files written into the yielded folder become the run's outputs, listed in :data:`MANIFEST`.  Files
    already in ``path`` that no gpuplan run wrote (not in its manifest) are kept (hard-linked into the new
    folder); the previous run's outputs are replaced as a whole, so none of them is left beside the new
    ones.  The swap is one atomic rename where the system has ``renameat2`` (Linux).  On any failure,
    ``path`` is left exactly as it was and the temporary folder is removed.

    Raises
    ------
    InputError
        For a bad output folder (see :func:`check_output_dir`), or when a user's file has the name of an
        output of this run (nothing is changed).
    """
    target = check_output_dir(path).resolve()
    if target.is_symlink():
        target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target.parent, target.name)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target.name), dir=target.parent))
    old: Path | None = None
    try:
        yield tmp
        _step("written")
        written = [f for f in _files_under(tmp) if f != MANIFEST]
        if target.is_dir():
            mode = stat.S_IMODE(target.stat().st_mode)
            _carry_user_files(target, tmp, read_manifest(target))
        else:
            mode = 0o777 & ~umask()
        for sub in [p for p in tmp.rglob("*") if p.is_dir() and not p.is_symlink()]:
            if stat.S_IMODE(sub.stat().st_mode) == 0o700:
                os.chmod(sub, 0o777 & ~umask())
        (tmp / MANIFEST).write_text(json.dumps({"written_by": "gpuplan", "files": written}, indent=1) + "\n",
                                    encoding="utf-8")
        os.chmod(tmp / MANIFEST, 0o666 & ~umask())
        os.chmod(tmp, mode)
        _step("linked")
        old = _swap_in(tmp, target)
        _step("swapped")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old != tmp:
            shutil.rmtree(old, ignore_errors=True)
