"""The on-disk trajectory store: many runs in one chunked, compressed zarr 3 directory.

Layout of a store directory (format version 1)::

    STORE/zarr.json              root group; attributes {"graphtraj": {"format":
                                 "graphtraj.store", "version": 1}}
    STORE/<run>/zarr.json        run group; attributes: run header (format, version,
                                 kind, complete, run_id: unique per write), layout,
                                 metadata, array manifest
    STORE/<run>/<array>/...      zarr arrays (times, states, loss, observable_0, ...)
    STORE/.tmp-<run>-<uuid>/     a run being written (invisible; removed by cleanup())

Everything is JSON or raw array chunks (Blosc-zstd with byte shuffle, then a CRC-32C
checksum per chunk); nothing is pickled.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from graphtraj._checks import check_int, check_option
from graphtraj._progress import progress_bar
from graphtraj.exceptions import (
    IncompleteRunError,
    RunNotFoundError,
    StoreError,
    StoreFormatError,
    ValidationError,
)
from graphtraj.trajectory.core import Ensemble, Trajectory
from graphtraj.trajectory.layout import ParamLayout

__all__ = ["open_store", "Store", "LazyStates", "FORMAT_VERSION", "MODES"]

#: Version of the on-disk format written by this graphtraj (checked on open and read).
FORMAT_VERSION = 1
#: Modes of :func:`open_store`.
MODES = ("r", "r+", "a", "w")

_STORE_FORMAT = "graphtraj.store"
_RUN_FORMAT = "graphtraj.run"
_ROOT_KEY = "graphtraj"
_RUN_KEY = "graphtraj_run"
_TMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"
_CHUNK_BYTES = 1 << 20  # target uncompressed chunk size
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.,=+@-]*\Z")
_MAX_NAME = 200
_FLOAT_TAG = "__float__"


# ----------------------------------------------------------------------------- JSON
def _encode(value: Any, where: str) -> Any:
    """Plain JSON data; non-finite floats become {"__float__": "nan" | "inf" | "-inf"}."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {_FLOAT_TAG: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, Mapping):
        if set(value) == {_FLOAT_TAG}:
            raise ValidationError(
                f"`metadata` must not contain a dict whose only key is {_FLOAT_TAG!r} (reserved "
                f"for non-finite floats); got one at {where}"
            )
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(
                    f"`metadata` must be JSON-able: dict keys must be strings; got key {k!r} "
                    f"at {where}"
                )
            out[k] = _encode(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ValidationError(
        f"`metadata` must be JSON-able (dict, list, str, number, bool, None); got "
        f"{type(value).__name__} at {where}. Store a description instead (graphtraj "
        "never pickles)."
    )


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_FLOAT_TAG}:
            return float(value[_FLOAT_TAG])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise StoreFormatError(f"{what}: cannot parse {path} as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise StoreFormatError(f"{what}: {path} does not hold a JSON object")
    return data


# ------------------------------------------------------------------------- helpers
def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"`name` must be a non-empty string; got {name!r}")
    if len(name) > _MAX_NAME or not _NAME_RE.match(name) or name == "zarr.json":
        raise ValidationError(
            f"`name` must be 1-{_MAX_NAME} characters: a letter, digit or underscore, "
            "then letters, digits and _ - . = + , @ (no slashes, no spaces, no leading "
            f"dot; not 'zarr.json'); got {name!r}. Example: 'eta_0.01_ensemble'."
        )
    return name


def _time_chunk(n_rows: int, row_bytes: int, time_chunk: int | None) -> int:
    if time_chunk is not None:
        return time_chunk
    return max(1, min(max(n_rows, 1), _CHUNK_BYTES // max(row_bytes, 1)))


def _n_chunks(shape: tuple[int, ...], chunks: tuple[int, ...]) -> int:
    return int(np.prod([-(-s // c) for s, c in zip(shape, chunks, strict=True)], dtype=np.int64))


def _count_files(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:  # pragma: no cover - file vanished while walking
                pass
    return total


def _float_dtype(source: Any) -> np.dtype:
    dt = np.dtype(getattr(source, "dtype", np.float64))
    return dt if dt in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float64)


def _check_root(path: Path) -> int:
    """Format version of the store at ``path``; StoreFormatError if it is not one."""
    meta = path / "zarr.json"
    if not meta.is_file():
        raise StoreFormatError(
            f"{path} is not a graphtraj store: it has no zarr.json. Open an existing "
            "store, or a new or empty directory with mode 'a' or 'w'."
        )
    data = _read_json(meta, f"{path} is not a graphtraj store")
    header = data.get("attributes", {}).get(_ROOT_KEY) if isinstance(data.get("attributes"), dict) else None
    if data.get("zarr_format") != 3 or data.get("node_type") != "group" or not isinstance(header, dict) \
            or header.get("format") != _STORE_FORMAT:
        raise StoreFormatError(
            f"{path} is not a graphtraj store: its zarr.json lacks the graphtraj header "
            f"(a zarr {data.get('zarr_format')!r} {data.get('node_type')!r} written by "
            "another program). graphtraj only opens stores it created."
        )
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StoreFormatError(
            f"{path}: the store format version must be a positive integer; got {version!r}"
        )
    if version > FORMAT_VERSION:
        raise StoreFormatError(
            f"{path} has store format version {version}, newer than this graphtraj reads "
            f"(up to {FORMAT_VERSION}); upgrade graphtraj to read it"
        )
    return version


# --------------------------------------------------------------------------- store

_NUMBER_RE = re.compile(r"(\d+(?:\.\d+)?)")


def _natural_key(name: str) -> tuple[tuple[int, Any], ...]:
    """Sort key: text parts as text, number parts (``10``, ``0.03``) as numbers."""
    parts = _NUMBER_RE.split(name)
    return tuple((0, float(p)) if i % 2 else (1, p) for i, p in enumerate(parts)) + ((-1, name),)


class Store:
    """A directory of training runs (:class:`Trajectory` and :class:`Ensemble`).

    Create with :func:`open_store`. Runs are addressed by name; each is written
    atomically (under a temporary name, renamed when complete) and read lazily: the
    ``states`` of a run read back are zarr arrays, so slicing a time window reads only
    the chunks that hold it.

    Only one process may write to a store at a time (the coordinating process of a
    study); any number may read.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from graphtraj import ParamLayout, Trajectory, open_store
    >>> tr = Trajectory(np.arange(5), np.arange(10.0).reshape(5, 2), ParamLayout(["w"], [(2,)]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(d + "/runs.gtz", "a")
    ...     store.write("demo", tr)
    ...     back = store.read("demo")
    ...     print(store.runs(), back.window(1, 3).states[:].tolist())
    ['demo'] [[2.0, 3.0], [4.0, 5.0]]
    """

    def __init__(self, path: Path, mode: str, version: int) -> None:
        from zarr.storage import LocalStore

        self._path = path
        self._mode = mode
        self._version = version
        self._zstore = LocalStore(str(path), read_only=(mode == "r"))

    # -------------------------------------------------------------- properties
    @property
    def path(self) -> Path:
        """Directory of the store."""
        return self._path

    @property
    def mode(self) -> str:
        """Mode the store was opened with (see :func:`open_store`)."""
        return self._mode

    @property
    def format_version(self) -> int:
        """Format version recorded in the store's root attributes."""
        return self._version

    @property
    def writable(self) -> bool:
        """Whether runs may be written or deleted (mode other than ``"r"``)."""
        return self._mode != "r"

    def __repr__(self) -> str:
        return f"Store({str(self._path)!r}, mode={self._mode!r}, runs={len(self.runs())})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # ----------------------------------------------------------------- listing
    def runs(self) -> list[str]:
        """Names of the runs in the store (temporary entries excluded), in natural
        order: numbers in names compare as numbers (``lr2`` before ``lr10``, ``lr0.03``
        before ``lr0.1``)."""
        with os.scandir(self._path) as entries:
            return sorted(
                (e.name for e in entries
                 if e.is_dir() and not e.name.startswith(".") and _NAME_RE.match(e.name)),
                key=_natural_key,
            )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not name.startswith(".") and name in self.runs()

    def __iter__(self) -> Iterator[str]:
        return iter(self.runs())

    def __len__(self) -> int:
        return len(self.runs())

    def leftovers(self) -> list[str]:
        """Temporary entries left by interrupted writes or deletions (see :meth:`cleanup`)."""
        with os.scandir(self._path) as entries:
            return sorted(
                e.name for e in entries
                if e.is_dir() and e.name.startswith((_TMP_PREFIX, _TRASH_PREFIX))
            )

    def cleanup(self) -> list[str]:
        """Remove what interrupted writes left behind; return the removed entries.

        A process killed while writing a run leaves a directory
        ``.tmp-<name>-<uuid>`` (an interrupted :meth:`delete` or overwrite leaves
        ``.trash-<name>-<uuid>``). These are never listed as runs nor read; this method
        deletes them. Call it only while no other process is writing to the store.

        Returns
        -------
        list of str
            Names of the removed directories.

        Raises
        ------
        StoreError
            If the store is read-only.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(d, "w")
        ...     os.mkdir(os.path.join(d, ".tmp-run-0123"))   # as a killed writer leaves it
        ...     print(store.leftovers(), store.runs(), store.cleanup(), store.leftovers())
        ['.tmp-run-0123'] [] ['.tmp-run-0123'] []
        """
        self._require_writable("clean up")
        removed = self.leftovers()
        for entry in removed:
            shutil.rmtree(self._path / entry, ignore_errors=True)
        return removed

    # ----------------------------------------------------------------- writing
    def _require_writable(self, action: str) -> None:
        if not self.writable:
            raise StoreError(
                f"cannot {action}: the store {self._path} is open read-only (mode 'r'); "
                "open it with mode 'r+' or 'a' to change it"
            )

    def write(
        self,
        name: str,
        run: Trajectory | Ensemble,
        *,
        overwrite: bool = False,
        time_chunk: int | None = None,
        progress: bool | None = None,
    ) -> None:
        """Write a run under ``name``, atomically.

        Parameters
        ----------
        name : str
            Run name: letters, digits and ``_ - . = + , @``; no slashes, no leading
            dot; at most 200 characters.
        run : Trajectory or Ensemble
            The run. Its states may be lazy (e.g. read from another store); they are
            copied chunk by chunk without loading them whole.
        overwrite : bool, default False
            Replace an existing run of that name. Without it, an existing name is an
            error.
        time_chunk : int, optional
            Records per chunk along time for states (and steps per chunk for
            observables). Default: about 1 MiB of uncompressed data per chunk.
        progress : bool, optional
            Show a progress bar (default: when interactive).

        Raises
        ------
        StoreError
            If the store is read-only, or ``name`` exists and ``overwrite`` is False.
        ValidationError
            If ``name`` is invalid, ``run`` is not a Trajectory or Ensemble, the
            metadata are not JSON-able or ``time_chunk`` is not a positive integer.

        Notes
        -----
        The run is written to ``.tmp-<name>-<uuid>`` and renamed to ``<name>`` when
        every array and the header are on disk, so a process killed mid-write leaves
        no run of that name (only a temporary directory that :meth:`cleanup`
        removes). With ``overwrite=True`` the old run is first renamed away, then the
        new one renamed in, then the old one deleted; a kill between the two renames
        leaves the name absent, never half-written. The guarantee is against
        interrupted processes, not power loss (no fsync).
        """
        self._require_writable("write")
        name = _check_name(name)
        if not isinstance(run, (Trajectory, Ensemble)):
            raise ValidationError(
                f"`run` must be a Trajectory or an Ensemble; got {type(run).__name__}"
            )
        if not isinstance(overwrite, bool):
            raise ValidationError(f"`overwrite` must be True or False; got {overwrite!r}")
        if time_chunk is not None:
            time_chunk = check_int(time_chunk, "time_chunk", minimum=1)
        final = self._path / name
        if final.exists() and not overwrite:
            raise StoreError(
                f"a run named {name!r} already exists in {self._path}; pass "
                "overwrite=True to replace it, or delete it first"
            )
        metadata = _encode(dict(run.metadata), "metadata")
        tmp_name = f"{_TMP_PREFIX}{name}-{uuid.uuid4().hex}"
        tmp = self._path / tmp_name
        try:
            import zarr

            group = zarr.create_group(store=self._zstore, path=tmp_name, zarr_format=3)
            writer = _RunWriter(group, time_chunk, progress, name)
            if isinstance(run, Trajectory):
                kind, summary, names = "trajectory", writer.trajectory(run), {"extra": list(run.extra)}
            else:
                kind, summary, names = "ensemble", writer.ensemble(run), {"observables": list(run.observables)}
            from graphtraj import __version__

            group.attrs.update({
                _RUN_KEY: {
                    "format": _RUN_FORMAT, "version": FORMAT_VERSION, "kind": kind,
                    "complete": True, "graphtraj_version": __version__,
                    "run_id": uuid.uuid4().hex,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                },
                "layout": run.layout.to_dict(),
                "metadata": metadata,
                "arrays": writer.manifest,
                "names": names,
                "summary": _encode(summary, "summary"),
            })
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        trash = None
        if final.exists():
            if not overwrite:  # another handle wrote this name while we were writing
                self._lost_race(tmp, name)
            trash = self._path / f"{_TRASH_PREFIX}{name}-{uuid.uuid4().hex}"
            try:
                os.rename(final, trash)
            except FileNotFoundError:  # deleted meanwhile: nothing to replace
                trash = None
        try:
            os.rename(tmp, final)
        except OSError:  # a non-empty directory of that name appeared in between
            self._lost_race(tmp, name)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    def _lost_race(self, tmp: Path, name: str) -> None:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(
            f"run {name!r} was written by another handle or process while this write was "
            f"in progress in {self._path}; this write was discarded and the other run "
            "kept. Only one writer at a time should use a store (write under another "
            "name, or pass overwrite=True to replace it)."
        )

    def delete(self, name: str) -> None:
        """Remove run ``name`` (renamed away first, so it vanishes atomically).

        Raises
        ------
        StoreError
            If the store is read-only.
        RunNotFoundError
            If there is no such run.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from graphtraj import ParamLayout, Trajectory
        >>> tr = Trajectory(np.arange(2), np.zeros((2, 1)), ParamLayout(["w"], [(1,)]))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(d, "w")
        ...     store.write("a", tr)
        ...     store.delete("a")
        ...     print(store.runs(), "a" in store)
        [] False
        """
        self._require_writable("delete a run")
        self._run_dir(name)
        trash = self._path / f"{_TRASH_PREFIX}{name}-{uuid.uuid4().hex}"
        os.rename(self._path / name, trash)
        shutil.rmtree(trash, ignore_errors=True)

    # ----------------------------------------------------------------- reading
    def _run_dir(self, name: Any) -> Path:
        name = _check_name(name)
        path = self._path / name
        if not path.is_dir():
            runs = self.runs()
            raise RunNotFoundError(
                f"no run named {name!r} in {self._path}; it holds "
                f"{', '.join(map(repr, runs)) if runs else 'no runs'}"
            )
        return path

    def _header(self, name: str) -> dict[str, Any]:
        path = self._run_dir(name)
        try:
            data = _read_json(path / "zarr.json", f"run {name!r} is corrupt")
        except FileNotFoundError:
            raise IncompleteRunError(
                f"run {name!r} in {self._path} is incomplete: its zarr.json is missing "
                "(truncated or damaged); delete it and write it again"
            ) from None
        attrs = data.get("attributes")
        head = attrs.get(_RUN_KEY) if isinstance(attrs, dict) else None
        if not isinstance(head, dict) or head.get("format") != _RUN_FORMAT:
            raise StoreFormatError(
                f"{path} is not a graphtraj run (no graphtraj run header in its zarr.json)"
            )
        version = head.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise StoreFormatError(
                f"run {name!r}: the run format version must be a positive integer; got {version!r}"
            )
        if version > FORMAT_VERSION:
            raise StoreFormatError(
                f"run {name!r} has run format version {version}, newer than this graphtraj "
                f"reads (up to {FORMAT_VERSION}); upgrade graphtraj to read it"
            )
        if head.get("complete") is not True or head.get("kind") not in ("trajectory", "ensemble"):
            raise IncompleteRunError(
                f"run {name!r} in {self._path} is incomplete (its header is not marked "
                "complete); delete it and write it again"
            )
        for key in ("layout", "metadata", "arrays", "names", "summary"):
            if key not in attrs:
                raise StoreFormatError(f"run {name!r} is corrupt: its header lacks {key!r}")
        return attrs

    def info(self, name: str) -> dict[str, Any]:
        """What run ``name`` holds, from its header (no array data are read).

        The run's structure is checked as by :meth:`read` (header, every array present
        with the recorded shape, dtype and number of chunks), but no chunk is decoded.

        Returns
        -------
        dict
            ``name``, ``kind`` ("trajectory" or "ensemble"), ``format_version``,
            ``created`` (UTC, ISO 8601), ``graphtraj_version`` (that wrote it),
            ``layout`` (dict), ``n_params``, ``metadata``, ``replayable``,
            ``arrays`` ({array: {"shape", "dtype", "chunks"}}), ``summary`` (sizes
            and step ranges) and ``stored_bytes`` (on disk, compressed).

        Raises
        ------
        RunNotFoundError, IncompleteRunError, StoreFormatError
            As for :meth:`read`.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from graphtraj import ParamLayout, Trajectory
        >>> tr = Trajectory(np.arange(3), np.zeros((3, 2)), ParamLayout(["w"], [(2,)]))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(d, "w")
        ...     store.write("a", tr)
        ...     info = store.info("a")
        >>> info["kind"], info["n_params"], info["summary"]["n_records"]
        ('trajectory', 2, 3)
        """
        attrs = self._header(name)
        for key, spec in attrs["arrays"].items():
            self._open_array(name, key, spec)
        head = attrs[_RUN_KEY]
        metadata = _decode(attrs["metadata"])
        layout = ParamLayout.from_dict(attrs["layout"])
        return {
            "name": name,
            "kind": head["kind"],
            "format_version": head["version"],
            "created": head.get("created"),
            "graphtraj_version": head.get("graphtraj_version"),
            "layout": attrs["layout"],
            "n_params": layout.size,
            "metadata": metadata,
            "replayable": bool(metadata.get("replayable", False)),
            "arrays": attrs["arrays"],
            "summary": _decode(attrs["summary"]),
            "stored_bytes": _dir_bytes(self._path / name),
        }

    def read(self, name: str, *, lazy: bool = True) -> Trajectory | Ensemble:
        """Read run ``name``.

        Parameters
        ----------
        name : str
            Run name.
        lazy : bool, default True
            Keep the states on disk as a zarr array (slicing reads only the chunks
            it needs); False loads them into memory.

        Returns
        -------
        Trajectory or Ensemble
            As written; metadata identical (JSON types: tuples come back as lists).

        Raises
        ------
        RunNotFoundError
            If there is no run of that name.
        IncompleteRunError
            If the run was truncated: header not complete, an array or chunk missing.
        StoreFormatError
            If the run has a future or foreign format version, or a damaged header or
            array.

        Notes
        -----
        Every array is checked against the manifest in the run header (shape, dtype,
        number of chunk files) before anything is returned. Lazy states are a
        :class:`LazyStates`: chunks carry a CRC-32C checksum, so a damaged chunk raises
        :class:`StoreFormatError` when it is read, and reading them after the run was
        deleted or overwritten, or after a chunk file vanished, raises
        (:class:`RunNotFoundError`, :class:`StoreError`, :class:`IncompleteRunError`)
        instead of returning NaN fill values or another run's numbers.
        """
        attrs = self._header(name)
        header = _header_bytes(self._path / name)
        kind = attrs[_RUN_KEY]["kind"]
        arrays = {key: self._open_array(name, key, spec) for key, spec in attrs["arrays"].items()}
        layout = ParamLayout.from_dict(attrs["layout"])
        metadata = _decode(attrs["metadata"])

        def load(key: str) -> np.ndarray | None:
            if key not in arrays:
                return None
            try:
                return np.asarray(arrays[key][...])
            except Exception as exc:
                raise StoreFormatError(
                    f"run {name!r}: array {key!r} cannot be decoded ({type(exc).__name__}: "
                    f"{exc}); the run is damaged — delete it and write it again"
                ) from None

        def states() -> Any:
            if "states" not in arrays:
                return None
            if not lazy:
                return load("states")
            return LazyStates(arrays["states"], self._path, name, header, attrs["arrays"]["states"])

        try:
            if kind == "trajectory":
                extra_names = attrs["names"].get("extra", [])
                return Trajectory(
                    times=load("times"), states=states(), layout=layout,
                    loss=load("loss"), accuracy=load("accuracy"), lr=load("lr"),
                    extra={k: load(f"extra_{i}") for i, k in enumerate(extra_names)},
                    batches=load("batches"), metadata=metadata,
                )
            obs_names = attrs["names"].get("observables", [])
            return Ensemble(
                layout=layout, steps=load("steps"),
                observables={k: load(f"observable_{i}") for i, k in enumerate(obs_names)},
                reference=load("reference"), diverged_at=load("diverged_at"),
                times=load("times"), states=states(), metadata=metadata,
            )
        except ValidationError as exc:
            raise StoreFormatError(f"run {name!r} is inconsistent: {exc}") from None

    def _open_array(self, name: str, key: str, spec: Any) -> Any:
        import zarr

        where = self._path / name / key
        if not (where / "zarr.json").is_file():
            raise IncompleteRunError(
                f"run {name!r} in {self._path} is incomplete: array {key!r} is missing; "
                "delete the run and write it again"
            )
        try:
            arr = zarr.open_array(store=self._zstore, path=f"{name}/{key}", mode="r", zarr_format=3)
            shape, dtype, chunks = tuple(spec["shape"]), np.dtype(spec["dtype"]), tuple(spec["chunks"])
        except Exception as exc:
            raise StoreFormatError(
                f"run {name!r}: array {key!r} cannot be opened ({type(exc).__name__}: {exc})"
            ) from None
        if tuple(arr.shape) != shape or np.dtype(arr.dtype) != dtype or tuple(arr.chunks) != chunks:
            raise StoreFormatError(
                f"run {name!r}: array {key!r} has shape {arr.shape}, dtype {arr.dtype}, chunks "
                f"{arr.chunks}; its header says {shape}, {dtype}, {chunks}"
            )
        expected = _n_chunks(shape, chunks)
        found = _count_files(where / "c") if (where / "c").is_dir() else 0
        if found != expected:
            raise IncompleteRunError(
                f"run {name!r} in {self._path} is incomplete: array {key!r} has {found} of "
                f"{expected} chunks on disk (truncated or damaged); delete it and write it again"
            )
        return arr


def _header_bytes(run_dir: Path) -> bytes | None:
    try:
        return (run_dir / "zarr.json").read_bytes()
    except OSError:
        return None


def _zarr_key(key: Any, shape: tuple[int, ...]) -> tuple[tuple[Any, ...], int | None, Any, list[int], bool]:
    """A numpy-style index of lazy states as a key zarr reads, plus how to finish it.

    Supports integers (negative from the end), slices (any step), ``...``, and on one
    axis a 1-D integer or boolean array (numpy semantics). Returns the key to read
    (integers in range, slices with positive steps, one sorted unique integer array),
    the output axis of the array index with the positions to take there, the output
    axes to reverse, and whether numpy would put the array's axis first (integers and
    the array are all advanced indices; when a slice separates them, numpy moves the
    broadcast axis to the front).
    """
    parts = list(key) if isinstance(key, tuple) else [key]
    # numpy's placement rule looks at the key as written: advanced indices (integers
    # and arrays, once an array is present) separated by a slice or by `...` (even one
    # that stands for no axis) put the broadcast axis first
    written = [j for j, k in enumerate(parts) if _is_advanced(k)]
    n_ellipsis = sum(1 for k in parts if k is Ellipsis)
    if n_ellipsis > 1:
        raise ValidationError("an index of lazy states can hold at most one `...`")
    if n_ellipsis:
        i = next(j for j, k in enumerate(parts) if k is Ellipsis)
        parts[i:i + 1] = [slice(None)] * max(0, len(shape) - len(parts) + 1)
    if len(parts) > len(shape):
        raise ValidationError(
            f"too many indices for lazy states of shape {shape}: got {len(parts)}"
        )
    parts += [slice(None)] * (len(shape) - len(parts))
    read: list[Any] = []
    array_axis: int | None = None
    inverse = None
    flips: list[int] = []
    out_axis = 0
    for axis, (k, n) in enumerate(zip(parts, shape, strict=True)):
        if isinstance(k, (bool, np.bool_)) or (
                isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind == "b"):
            raise ValidationError(
                f"lazy states take no boolean scalar as an index; got {bool(k)} on axis "
                f"{axis} (numpy would add an axis; load the states with np.asarray first)"
            )
        if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu":
            k = int(k)  # a 0-d integer array indexes like an integer, as in numpy
        if isinstance(k, (int, np.integer)):
            i = int(k)
            if not -n <= i < n:
                raise ValidationError(
                    f"index {i} is out of range for axis {axis} of lazy states of shape "
                    f"{shape} (valid: {-n}..{n - 1})"
                )
            read.append(i % n)
            continue
        if isinstance(k, slice):
            try:
                start, stop, step = k.indices(n)
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    f"a slice of lazy states needs integer (or None) bounds and a non-zero "
                    f"step; got {k!r} on axis {axis} ({exc})"
                ) from None
            idx = range(start, stop, step)
            if step < 0:
                flips.append(out_axis)
                idx = idx[::-1]
            if len(idx) == 0:
                read.append(slice(0, 0))
            else:
                read.append(slice(idx[0], idx[-1] + 1, abs(step)))
            out_axis += 1
            continue
        arr = np.asarray(k)
        if arr.ndim == 1 and (arr.dtype.kind == "b" or (arr.dtype.kind in "iu")
                              or (arr.size == 0 and arr.dtype.kind == "f")):
            if array_axis is not None:
                raise ValidationError(
                    "lazy states take an index array on one axis at a time; for numpy's "
                    "combined fancy indexing load them first: np.asarray(states)[...]"
                )
            if arr.dtype.kind == "b":
                if arr.size != n:
                    raise ValidationError(
                        f"a boolean index on axis {axis} must have length {n}; got {arr.size}"
                    )
                arr = np.flatnonzero(arr)
            arr = arr.astype(np.int64)
            if arr.size and (arr.min() < -n or arr.max() >= n):
                bad = int(arr.min()) if arr.min() < -n else int(arr.max())
                raise ValidationError(
                    f"index {bad} is out of range for axis {axis} of lazy states of shape "
                    f"{shape} (valid: {-n}..{n - 1})"
                )
            arr = arr % n if n else arr
            unique, inverse = np.unique(arr, return_inverse=True)
            read.append(unique)
            array_axis = out_axis
            out_axis += 1
            continue
        raise ValidationError(
            "lazy states take integers, slices, `...` and 1-D integer or boolean arrays "
            f"as indices; got {_describe_index(k)} on axis {axis} (load the states with "
            "np.asarray(states) for other numpy indexing)"
        )
    array_first = (array_axis is not None and len(written) > 1
                   and written[-1] - written[0] + 1 != len(written))
    return tuple(read), array_axis, inverse, flips, array_first


def _is_advanced(k: Any) -> bool:
    """An integer or an index array: anything but a slice, `...` or None (other keys
    are refused later)."""
    return not (k is None or k is Ellipsis or isinstance(k, slice))


def _describe_index(k: Any) -> str:
    if isinstance(k, np.ndarray):
        return f"an array of shape {k.shape} and dtype {k.dtype}"
    return f"{type(k).__name__} {k!r}"


class LazyStates:
    """The on-disk states of a run read from a store: slicing reads only their chunks.

    Returned as ``traj.states`` by :meth:`Store.read` (``lazy=True``). Indexing
    follows numpy for integers (negative from the end), slices with any step, ``...``
    and a 1-D integer or boolean array on one axis; it and ``np.asarray(states)``
    return numpy arrays, and iteration gives the rows. Other indices raise
    :class:`~graphtraj.exceptions.ValidationError`. Every read first checks that the run is still the one that
    was read — not deleted nor overwritten since — and that no chunk it needs has gone
    missing (missing chunks would otherwise read as the NaN fill value, which looks
    like a diverged run).

    Attributes
    ----------
    shape, dtype, chunks, ndim : as for the underlying zarr array.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from graphtraj import ParamLayout, Trajectory, open_store
    >>> tr = Trajectory(np.arange(4), np.arange(8.0).reshape(4, 2), ParamLayout(["w"], [(2,)]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(d, "w")
    ...     store.write("run", tr)
    ...     lazy = store.read("run").states
    ...     print(type(lazy).__name__, lazy.shape, lazy[1:3].tolist())
    LazyStates (4, 2) [[2.0, 3.0], [4.0, 5.0]]
    """

    __slots__ = ("_array", "_store", "_name", "_header", "_spec")

    def __init__(self, array: Any, store: Path, name: str, header: bytes | None,
                 spec: Mapping[str, Any]) -> None:
        self._array = array
        self._store = store
        self._name = name
        self._header = header
        self._spec = spec

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape ``(T, P)`` (trajectory) or ``(R, T, P)`` (ensemble)."""
        return tuple(self._array.shape)

    @property
    def dtype(self) -> np.dtype:
        """float64 or float32, as written."""
        return np.dtype(self._array.dtype)

    @property
    def chunks(self) -> tuple[int, ...]:
        """Chunk shape on disk."""
        return tuple(self._array.chunks)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (f"LazyStates(run={self._name!r}, store={str(self._store)!r}, "
                f"shape={self.shape}, dtype={self.dtype})")

    def _check_same_run(self) -> None:
        now = _header_bytes(self._store / self._name)
        if now is None:
            raise RunNotFoundError(
                f"run {self._name!r} was deleted from {self._store} after it was read; its "
                "lazy states can no longer be read. Read the run again, or read it with "
                "lazy=False to keep its states in memory."
            )
        if now != self._header:
            raise StoreError(
                f"run {self._name!r} in {self._store} was overwritten after it was read; "
                "its lazy states would now mix the two runs. Read the run again."
            )

    def __iter__(self) -> Iterator[np.ndarray]:
        """Rows along the first axis, read one chunk at a time."""
        step = max(1, self.chunks[0])
        for start in range(0, len(self), step):
            yield from self[start:start + step]

    def __getitem__(self, key: Any) -> np.ndarray:
        self._check_same_run()
        read_key, array_axis, inverse, flips, array_first = _zarr_key(key, self.shape)
        try:
            if array_axis is None:
                out = np.asarray(self._array[read_key])
            else:
                out = np.asarray(self._array.oindex[read_key])
        except Exception as exc:
            raise StoreFormatError(
                f"run {self._name!r}: its states cannot be decoded ({type(exc).__name__}: "
                f"{exc}); the run is damaged — delete it and write it again"
            ) from None
        self._check_same_run()  # not swapped while we read
        if array_axis is not None:
            out = np.take(out, inverse, axis=array_axis)
        for axis in flips:
            out = np.flip(out, axis=axis)
        if array_first:
            out = np.moveaxis(out, array_axis, 0)
        if out.dtype.kind == "f" and np.isnan(out).any():
            where = self._store / self._name / "states"
            expected = _n_chunks(tuple(self._spec["shape"]), tuple(self._spec["chunks"]))
            found = _count_files(where / "c") if (where / "c").is_dir() else 0
            if found != expected:
                raise IncompleteRunError(
                    f"run {self._name!r} in {self._store} is incomplete: its states have "
                    f"{found} of {expected} chunks on disk (removed after the run was "
                    "read); delete it and write it again"
                )
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype, copy=False)


class _RunWriter:
    """Creates the arrays of one run inside a (temporary) group and records a manifest."""

    def __init__(self, group: Any, time_chunk: int | None, progress: bool | None, name: str) -> None:
        self.group = group
        self.time_chunk = time_chunk
        self.progress = progress
        self.name = name
        self.manifest: dict[str, dict[str, Any]] = {}

    def _create(self, key: str, shape: tuple[int, ...], dtype: np.dtype, chunks: tuple[int, ...]) -> Any:
        from zarr.codecs import BloscCodec, Crc32cCodec

        chunks = tuple(max(1, int(c)) for c in chunks)
        dtype = np.dtype(dtype)
        arr = self.group.create_array(
            key, shape=shape, chunks=chunks, dtype=dtype,
            compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="shuffle"), Crc32cCodec()],
            fill_value=np.nan if dtype.kind == "f" else 0,
            config={"write_empty_chunks": True},
        )
        self.manifest[key] = {"shape": list(shape), "dtype": dtype.name, "chunks": list(chunks)}
        return arr

    def series(self, key: str, values: np.ndarray | None, dtype: Any = np.float64) -> None:
        """A small array written at once, chunked along axis 0."""
        if values is None:
            return
        values = np.asarray(values, dtype=dtype)
        row = int(np.prod(values.shape[1:], dtype=np.int64)) * values.dtype.itemsize
        ct = _time_chunk(values.shape[0], row, self.time_chunk)
        arr = self._create(key, values.shape, values.dtype, (ct, *values.shape[1:]))
        arr[...] = values

    def block_series(self, key: str, values: np.ndarray) -> None:
        """An (R, S) observable, chunked along S only."""
        values = np.asarray(values, dtype=np.float64)
        r, s = values.shape
        cs = _time_chunk(s, 8 * max(r, 1), self.time_chunk)
        arr = self._create(key, values.shape, values.dtype, (max(r, 1), cs))
        arr[...] = values

    def states(self, source: Any, shape: tuple[int, ...]) -> None:
        """(T, P) or (R, T, P) states copied chunk by chunk from any sliceable source."""
        dtype = _float_dtype(source)
        p = shape[-1]
        t = shape[-2]
        ct = _time_chunk(t, p * dtype.itemsize, self.time_chunk)
        if len(shape) == 2:
            chunks: tuple[int, ...] = (ct, p)
            blocks = [(slice(t0, min(t0 + ct, t)),) for t0 in range(0, t, ct)]
        else:
            r = shape[0]
            cr = max(1, min(r, _CHUNK_BYTES // max(ct * p * dtype.itemsize, 1)))
            chunks = (cr, ct, p)
            blocks = [
                (slice(r0, min(r0 + cr, r)), slice(t0, min(t0 + ct, t)))
                for r0 in range(0, r, cr) for t0 in range(0, t, ct)
            ]
        arr = self._create("states", shape, dtype, chunks)
        for sel in progress_bar(blocks, total=len(blocks), desc=f"writing {self.name}",
                                progress=self.progress):
            block = np.asarray(source[sel if len(sel) > 1 else sel[0]], dtype=dtype)
            want = tuple(s.stop - s.start for s in sel) + tuple(shape[len(sel):])
            if block.shape != want:
                raise ValidationError(
                    f"`states` source returned a block of shape {block.shape} for {sel}; "
                    f"expected {want}"
                )
            arr[sel] = block

    def trajectory(self, tr: Trajectory) -> dict[str, Any]:
        self.series("times", tr.times, np.int64)
        self.states(tr.states, (len(tr), tr.n_params))
        self.series("loss", tr.loss)
        self.series("accuracy", tr.accuracy)
        self.series("lr", tr.lr)
        for i, values in enumerate(tr.extra.values()):
            self.series(f"extra_{i}", values)
        self.series("batches", tr.batches, np.int64)
        return {
            "n_records": len(tr),
            "first_step": int(tr.times[0]) if len(tr) else None,
            "last_step": int(tr.times[-1]) if len(tr) else None,
            "states_dtype": _float_dtype(tr.states).name,
            "series": [k for k in ("loss", "accuracy", "lr") if getattr(tr, k) is not None],
            "extra": list(tr.extra),
            "batch_size": None if tr.batches is None else int(tr.batches.shape[1]),
        }

    def ensemble(self, ens: Ensemble) -> dict[str, Any]:
        self.series("steps", ens.steps, np.int64)
        self.series("reference", ens.reference, np.int64)
        self.series("diverged_at", ens.diverged_at, np.int64)
        for i, values in enumerate(ens.observables.values()):
            self.block_series(f"observable_{i}", values)
        if ens.times is not None:
            self.series("times", ens.times, np.int64)
        if ens.states is not None:
            self.states(ens.states, (ens.n_replicas, ens.times.size, ens.layout.size))
        return {
            "n_replicas": ens.n_replicas,
            "n_references": int(ens.reference_indices().size),
            "n_steps": int(ens.steps.size),
            "first_step": int(ens.steps[0]) if ens.steps.size else None,
            "last_step": int(ens.steps[-1]) if ens.steps.size else None,
            "n_diverged": int(np.sum(ens.diverged_at >= 0)),
            "observables": list(ens.observables),
            "n_state_times": None if ens.times is None else int(ens.times.size),
            "states_dtype": None if ens.states is None else _float_dtype(ens.states).name,
        }


def open_store(path: str | os.PathLike, mode: str = "r") -> Store:
    """Open (or create) a graphtraj trajectory store.

    A store is a directory holding any number of named runs — :class:`Trajectory`
    and :class:`Ensemble` objects — as chunked, compressed zarr 3 arrays plus JSON
    metadata. Nothing is pickled.

    Parameters
    ----------
    path : str or path-like
        Directory of the store (by convention ending in ``.gtz``, not required).
    mode : {"r", "r+", "a", "w"}, default "r"
        ``"r"``: read only; the store must exist. ``"r+"``: read and write; the store
        must exist. ``"a"``: read and write; create the store if ``path`` does not
        exist or is an empty directory. ``"w"``: create a new, empty store, deleting
        the runs of an existing graphtraj store at ``path`` (a non-empty directory
        that is not a graphtraj store is never deleted).

    Returns
    -------
    Store

    Raises
    ------
    UnknownOptionError
        If ``mode`` is not one of the four modes.
    StoreError
        If the store must exist and does not, or ``path`` is a file.
    StoreFormatError
        If ``path`` is a non-empty directory that is not a graphtraj store (a foreign
        zarr store, any other directory), or a store of a newer format version than
        this graphtraj reads.

    Notes
    -----
    The root attributes carry ``{"graphtraj": {"format": "graphtraj.store",
    "version": 1}}``; each run carries its own format version too, checked on read.
    Only the coordinating process should open a store for writing; readers may run
    concurrently (a run appears atomically when its write completes).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = open_store(d + "/new.gtz", "a")
    ...     print(store.format_version, store.runs(), store.writable)
    1 [] True
    """
    mode = check_option(mode, "mode", MODES)
    try:
        path = Path(os.fspath(path)).expanduser().absolute()
    except TypeError:
        raise ValidationError(f"`path` must be a path; got {path!r}") from None
    if path.exists() and not path.is_dir():
        raise StoreError(f"`path` must be a directory for a store; got the file {path}")
    exists = path.is_dir()
    is_store = exists and (path / "zarr.json").is_file()
    empty = exists and _is_empty_dir(path)
    if mode in ("r", "r+"):
        if not exists:
            raise StoreError(
                f"no store at {path}; create one with open_store(path, 'a') or 'w'"
            )
        return Store(path, mode, _check_root(path))
    if mode == "a" and is_store:
        return Store(path, mode, _check_root(path))
    if exists and not empty:
        if not is_store:
            raise StoreFormatError(
                f"{path} is a non-empty directory that is not a graphtraj store; refusing "
                "to use it. Choose a new or empty directory."
            )
        _check_root_format_only(path)
        with os.scandir(path) as entries:
            for entry in list(entries):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry.path)
                else:
                    os.remove(entry.path)
    try:
        _create_root(path)
    except Exception:
        # mode "a": another process may have created the store since we looked
        if mode == "a" and (path / "zarr.json").is_file():
            return Store(path, mode, _check_root(path))
        raise
    return Store(path, mode, FORMAT_VERSION)


def _is_empty_dir(path: Path) -> bool:
    with os.scandir(path) as entries:
        return next(entries, None) is None


def _check_root_format_only(path: Path) -> None:
    """Before mode 'w' deletes a store: it must be graphtraj's (any version)."""
    try:
        _check_root(path)
    except StoreFormatError as exc:
        if "newer than this graphtraj" not in str(exc):
            raise StoreFormatError(
                f"{exc}. Mode 'w' deletes only graphtraj stores; refusing to delete {path}"
            ) from None


def _create_root(path: Path) -> None:
    import zarr
    from zarr.storage import LocalStore

    path.mkdir(parents=True, exist_ok=True)
    zarr.create_group(
        store=LocalStore(str(path)), zarr_format=3,
        attributes={_ROOT_KEY: {"format": _STORE_FORMAT, "version": FORMAT_VERSION}},
    )
