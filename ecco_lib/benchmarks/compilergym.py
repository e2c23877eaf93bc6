"""CompilerGym's LLVM benchmark datasets, addressed by CompilerGym URIs and read with LLVM 19.

compiler_gym itself does not install on Python 3.11, so this module honours its dataset format:
each dataset is a SHA-256-pinned bz2 tarball of ``<path>.bc`` files (LLVM 10 bitcode, which opt-19
reads and upgrades) plus a bz2 manifest with one ``<path>`` per line, and a benchmark's URI is
``benchmark://<dataset>/<path>``. chstone-v0 is C source, compiled with clang-19 at install time.
The pinned URLs and hashes are in ``compilergym_datasets.tsv`` beside this file.

An installed dataset is the directory ``datasets_dir()/<dataset>`` holding ``manifest.txt`` and the
``<path>.bc`` files. It appears by one atomic rename once everything has been downloaded, verified
and unpacked, so a failure or a killed process never leaves a half-installed dataset.
"""

from __future__ import annotations

import bz2
import fcntl
import hashlib
import http.client
import os
import re
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from ecco_lib.benchmarks.program import Program
from ecco_lib.errors import BadProgramError, EccoError
from ecco_lib.llvm.cache import EvaluationCache, default_cache_dir
from ecco_lib.llvm.frontend import compile_c, inspect_ir
from ecco_lib.llvm.steps import first_error_line
from ecco_lib.llvm.toolchain import find_toolchain

SCHEME = "benchmark://"
MANIFEST = "manifest.txt"
CHSTONE = "chstone-v0"
#: The tarball folder that holds the benchmarks (CompilerGym's ``strip_prefix``); others: the root.
STRIP_PREFIX = {
    "cbench-v1": "cBench-v1",
    CHSTONE: "patmos_HLS-e62d878ceb91e5a18007ca2e0a9602ee44ff7d59/benchmarks/CHStone",
}
#: CHStone predates clang 16, which turned these warnings into errors (CompilerGym used clang 10).
LEGACY_C_FLAGS = ("-Wno-error=implicit-function-declaration", "-Wno-error=implicit-int",
                  "-Wno-error=int-conversion", "-Wno-error=incompatible-function-pointer-types")
_INCLUDED_C = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"]+\.c)"', re.MULTILINE)
_CHUNK_BYTES = 1 << 20
_TIMEOUT_SECONDS = 60  # per network operation, not for the whole download


class DatasetError(EccoError):
    """A dataset could not be downloaded, verified or installed."""


@dataclass(frozen=True)
class Dataset:
    """One dataset as pinned by CompilerGym. The hashes are hex SHA-256 digests of the compressed
    files; chstone-v0 has no manifest (``None``): it is written at install time."""

    name: str
    url: str
    sha256: str
    manifest_url: str | None
    manifest_sha256: str | None
    notes: str

    @property
    def suite(self) -> str:
        """The paper's suite name: the dataset name without its version (``cbench-v1`` -> ``cbench``)."""
        return re.sub(r"-v\d+$", "", self.name)


def _read_table() -> dict[str, Dataset]:
    datasets = {}
    for line in Path(__file__).with_name("compilergym_datasets.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            uri, url, sha256, manifest_url, manifest_sha256, notes = line.split("\t")
            name = uri.removeprefix(SCHEME)
            datasets[name] = Dataset(name, url, sha256, manifest_url or None, manifest_sha256 or None, notes)
    return datasets


DATASETS: dict[str, Dataset] = _read_table()


def _dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise BadProgramError(f"unknown CompilerGym dataset '{name}' (known: {', '.join(DATASETS)})")
    return DATASETS[name]


def datasets_dir() -> Path:
    """Where datasets are installed: ``$ECCO_DATASETS_DIR``, else ``<ecco cache dir>/datasets``."""
    return Path(os.environ.get("ECCO_DATASETS_DIR") or default_cache_dir() / "datasets")


def installed(name: str) -> bool:
    return (datasets_dir() / _dataset(name).name / MANIFEST).is_file()


def benchmarks(name: str) -> list[str]:
    """The benchmark paths of an installed dataset, in manifest order."""
    if not installed(name):
        raise BadProgramError(f"dataset {name} is not downloaded: run `ecco datasets download {name}`")
    return (datasets_dir() / name / MANIFEST).read_text().splitlines()


def list_datasets() -> list[dict]:
    """One row per dataset; ``benchmarks`` (a count) is ``None`` unless it is installed."""
    rows = []
    for name, dataset in DATASETS.items():
        is_installed = installed(name)
        rows.append({"name": name, "suite": dataset.suite, "uri": SCHEME + name,
                     "benchmarks": len(benchmarks(name)) if is_installed else None,
                     "installed": is_installed, "path": str(datasets_dir() / name)})
    return rows


def download(name: str, *, url: str | None = None, sha256: str | None = None,
             manifest_url: str | None = None, manifest_sha256: str | None = None,
             progress: bool = True) -> Path:
    """Install dataset ``name`` (returning at once if it already is) and return its directory.

    The overrides point at a mirror of the original files, with their own SHA-256 if they differ.
    Work happens in ``.<name>.partial`` beside the target under an exclusive lock on ``.<name>.lock``
    (concurrent downloads of one dataset wait for each other; a killed download's leftovers are
    removed by the next one).
    """
    dataset = _dataset(name)
    root, target = datasets_dir(), datasets_dir() / name
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released on close, also when the process dies
        if installed(name):
            return target
        work = root / f".{name}.partial"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            tarball = _fetch(name, url or dataset.url, sha256 or dataset.sha256, work / "tarball", progress)
            contents = work / "contents"
            if name == CHSTONE:
                paths = _build_chstone(tarball, work)
            else:
                manifest = _fetch(name, manifest_url or dataset.manifest_url,
                                  manifest_sha256 or dataset.manifest_sha256, work / "manifest.bz2", progress)
                lines = bz2.decompress(manifest.read_bytes()).decode().splitlines()
                paths = [line.strip() for line in lines if line.strip()]
                _unpack(name, tarball, contents)
            _check_contents(name, paths, contents)
            (contents / MANIFEST).write_text("".join(f"{path}\n" for path in paths))
            contents.rename(target)
        except (OSError, EOFError, UnicodeDecodeError, tarfile.TarError) as error:
            raise DatasetError(f"dataset {name}: installation failed: {_one_line(error)}") from error
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _fetch(name: str, url: str, sha256: str, dest: Path, progress: bool) -> Path:
    """Download ``url`` to ``dest`` and check that its SHA-256 is ``sha256``."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response, open(dest, "wb") as out, \
                tqdm(total=int(response.headers.get("Content-Length") or 0) or None, unit="B",
                     unit_scale=True, desc=f"{name}: {url.rsplit('/', 1)[-1]}", disable=not progress) as bar:
            while chunk := response.read(_CHUNK_BYTES):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as error:  # urllib's errors are OSErrors
        reason = error.reason if type(error) is urllib.error.URLError else error
        raise DatasetError(f"dataset {name}: cannot download {url}: {_one_line(reason)}") from error
    if digest.hexdigest() != sha256.lower():
        raise DatasetError(f"dataset {name}: SHA-256 mismatch for {url}: "
                           f"expected {sha256}, got {digest.hexdigest()}")
    return dest


def _one_line(error: object) -> str:
    return " ".join(str(error).split())


def _unsafe(path: PurePosixPath) -> bool:
    return path.is_absolute() or ".." in path.parts


def _unpack(name: str, tarball: Path, dest: Path) -> None:
    """Extract the regular files of ``tarball`` under the dataset's :data:`STRIP_PREFIX` folder
    (all of them if it has none) into ``dest``. Links and special files are skipped; a member with
    an absolute path or ``..`` fails the whole installation."""
    prefix = STRIP_PREFIX.get(name)
    found = False
    with tarfile.open(tarball) as tar:  # compression is detected: bz2 or gz
        for member in tar:
            path = PurePosixPath(member.name)
            if _unsafe(path):
                raise DatasetError(f"dataset {name}: unsafe path in the tarball: {member.name}")
            if prefix:
                if not path.is_relative_to(prefix):
                    continue
                path = path.relative_to(prefix)
            found = True
            if member.isfile():
                (dest / path).parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(dest / path, "wb") as out:
                    shutil.copyfileobj(src, out)
    if prefix and not found:
        raise DatasetError(f"dataset {name}: the tarball has no folder {prefix}/")


def _check_contents(name: str, paths: list[str], contents: Path) -> None:
    """Every manifest path is a safe relative path whose ``.bc`` file was unpacked."""
    if not paths:
        raise DatasetError(f"dataset {name}: the manifest is empty")
    for path in paths:
        if _unsafe(PurePosixPath(path)):
            raise DatasetError(f"dataset {name}: unsafe path in the manifest: {path}")
    missing = [path for path in paths if not (contents / f"{path}.bc").is_file()]
    if missing:
        raise DatasetError(f"dataset {name}: {len(missing)} manifest entries have no .bc file in the "
                           f"tarball (first: {missing[0]})")


def _build_chstone(tarball: Path, work: Path) -> list[str]:
    """Build each CHStone benchmark ``<name>/*.c`` into ``work/contents/<name>.bc``; return the names.

    Every translation unit is compiled with ``frontend.CLANG_FLAGS`` and the units are joined by
    llvm-link-19. A ``.c`` file that another file of the benchmark ``#include``s is not a unit of
    its own: most CHStone benchmarks include all their parts into one main file, the only file
    CompilerGym compiles, and compiling the parts as well would define their symbols twice.
    """
    sources, contents = work / "sources", work / "contents"
    _unpack(CHSTONE, tarball, sources)
    contents.mkdir()
    llvm_link = find_toolchain().llvm_link
    names = sorted(d.name for d in sources.iterdir() if d.is_dir() and any(d.glob("*.c")))
    for bench in names:
        files = sorted((sources / bench).glob("*.c"))
        included = {PurePosixPath(m.decode()).name for f in files for m in _INCLUDED_C.findall(f.read_bytes())}
        units = []
        for file in (f for f in files if f.name not in included):
            try:
                file.with_suffix(".bc").write_bytes(compile_c(file, extra_flags=LEGACY_C_FLAGS))
            except BadProgramError as error:
                raise DatasetError(f"dataset {CHSTONE}: {error}") from error
            units.append(str(file.with_suffix(".bc")))
        proc = subprocess.run([llvm_link, "-o", str(contents / f"{bench}.bc"), *units],
                              capture_output=True, check=False)
        if proc.returncode != 0:
            raise DatasetError(f"dataset {CHSTONE}: llvm-link-19 failed on {bench}: "
                               f"{first_error_line(proc.stderr)}")
    return names


def load_uri(uri: str, cache: EvaluationCache | None = None) -> list[Program]:
    """``benchmark://DATASET/PATH`` (one program) or ``benchmark://DATASET`` (all, in manifest order).

    The programs are never ``runnable``: CompilerGym does not bundle their runtime inputs (cBench's
    are a separate download), so they are optimized and measured but not run for differential
    checks, even those that define ``main``. Their IR is the ``.bc`` file's bytes, checked by opt-19.
    """
    name, _, path = uri.removeprefix(SCHEME).strip("/").partition("/")
    dataset = _dataset(name)
    paths = benchmarks(name)
    if path:
        if path not in paths:
            raise BadProgramError(f"unknown benchmark '{uri}': not in the manifest of {name} "
                                  f"({len(paths)} benchmarks)")
        paths = [path]
    programs = []
    for path in paths:
        program_uri = f"{SCHEME}{name}/{path}"
        ir = (datasets_dir() / name / f"{path}.bc").read_bytes()
        inspect_ir(ir, program_uri, cache)
        programs.append(Program(uri=program_uri, suite=dataset.suite, name=path, ir=ir, runnable=False))
    return programs
