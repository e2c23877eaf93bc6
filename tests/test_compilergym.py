"""CompilerGym datasets by URI, end to end with real LLVM 19: tarballs in CompilerGym's format are
built here, served by http.server on 127.0.0.1 and installed into a temporary directory."""

from __future__ import annotations

import bz2
import hashlib
import http.server
import io
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from ecco_lib.benchmarks import compilergym as cg
from ecco_lib.benchmarks import resolve
from ecco_lib.errors import BadProgramError
from ecco_lib.llvm.frontend import CLANG_FLAGS
from ecco_lib.llvm.toolchain import find_toolchain

SNIPPETS = {  # manifest path -> C source
    "sub/prog": "int twice(int x);\nint main(void) { return twice(21) - 42; }\n",
    "sub/deeper/lib": "int twice(int x) { return 2 * x; }\n",
    "top": "static int t[8];\nint sum(void) { int s = 0; for (int i = 0; i < 8; i++) s += t[i]; return s; }\n",
}
PATHS = list(SNIPPETS)
CHSTONE_PREFIX = cg.STRIP_PREFIX[cg.CHSTONE]
REPO = Path(__file__).resolve().parent.parent


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tarball(files: dict[str, bytes], mode: str = "w:bz2") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _defined_functions(ir: bytes) -> str:
    """The ``define`` lines of ``ir`` as text IR."""
    proc = subprocess.run([find_toolchain().opt, "-passes=verify", "-S", "-o", "-", "-"], input=ir,
                          capture_output=True, check=True)
    return "\n".join(l for l in proc.stdout.decode().splitlines() if l.startswith("define "))


@pytest.fixture(scope="module")
def bitcode() -> dict[str, bytes]:
    """Bitcode of each snippet, made by clang-19 as the frontend does."""
    clang = find_toolchain().clang
    return {path: subprocess.run([clang, *CLANG_FLAGS, "-x", "c", "-", "-o", "-"], input=src.encode(),
                                 capture_output=True, check=True).stdout
            for path, src in SNIPPETS.items()}


class Server:
    """Serves files from memory on 127.0.0.1 (random port) and records the paths requested.
    ``/stall/...`` sends the headers and a few bytes, then hangs until shutdown."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.stalled = threading.Event()
        self._release = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path.startswith("/stall/"):
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    self.wfile.write(b"x" * 1000)
                    self.wfile.flush()
                    server.stalled.set()
                    server._release.wait(30)
                elif self.path in server.files:
                    data = server.files[self.path]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self.send_error(404)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def publish(self, stem: str, files: dict[str, bytes], manifest: list[str] | None = None,
                mode: str = "w:bz2") -> dict:
        """Serve a tarball (and a bz2 manifest) as ``/<stem>...``; return :func:`download`'s overrides."""
        tarball = _tarball(files, mode)
        self.files[f"/{stem}.tar"] = tarball
        overrides = {"url": self.url(f"/{stem}.tar"), "sha256": _sha256(tarball), "progress": False}
        if manifest is not None:
            data = bz2.compress("".join(f"{p}\n" for p in manifest).encode())
            self.files[f"/{stem}-manifest.bz2"] = data
            overrides |= {"manifest_url": self.url(f"/{stem}-manifest.bz2"), "manifest_sha256": _sha256(data)}
        return overrides

    def close(self):
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def server():
    server = Server()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def datasets(tmp_path, monkeypatch):
    """A fresh, empty datasets directory per test."""
    monkeypatch.setenv("ECCO_DATASETS_DIR", str(tmp_path / "datasets"))
    return tmp_path / "datasets"


def _cbench(server, bitcode, stem="cbench") -> dict:
    """A cbench-v1 tarball in the original layout: everything under a ``cBench-v1/`` top folder."""
    return server.publish(stem, {f"cBench-v1/{p}.bc": bitcode[p] for p in PATHS}, PATHS)


def test_table_and_directories(monkeypatch, tmp_path):
    assert sorted(cg.DATASETS) == ["blas-v0", "cbench-v1", "chstone-v0", "mibench-v1", "npb-v0",
                                   "opencv-v0", "tensorflow-v0"]
    cbench = cg.DATASETS["cbench-v1"]
    assert cbench.suite == "cbench" and cbench.url.endswith("cBench-v1-linux.tar.bz2")
    assert len(cbench.sha256) == len(cbench.manifest_sha256) == 64
    assert cg.DATASETS["chstone-v0"].manifest_url is None
    assert cg.DATASETS["tensorflow-v0"].suite == "tensorflow"
    assert cg.datasets_dir() == tmp_path / "datasets"
    monkeypatch.delenv("ECCO_DATASETS_DIR")
    monkeypatch.setenv("ECCO_CACHE_DIR", str(tmp_path / "cache"))
    assert cg.datasets_dir() == tmp_path / "cache" / "datasets"


def test_download_and_resolve_uris(server, bitcode, datasets):
    overrides = _cbench(server, bitcode)
    assert not cg.installed("cbench-v1")
    path = cg.download("cbench-v1", **overrides)
    assert path == datasets / "cbench-v1" and cg.installed("cbench-v1")
    assert cg.benchmarks("cbench-v1") == PATHS
    # cBench-v1/ was stripped; nothing but the installed dataset and its lock file is left
    assert (path / "sub" / "deeper" / "lib.bc").is_file() and not (path / "cBench-v1").exists()
    assert sorted(p.name for p in datasets.iterdir()) == [".cbench-v1.lock", "cbench-v1"]

    [program] = cg.load_uri("benchmark://cbench-v1/sub/prog")
    assert (program.uri, program.suite, program.name) == ("benchmark://cbench-v1/sub/prog", "cbench", "sub/prog")
    assert program.ir == bitcode["sub/prog"] and not program.runnable and program.split is None
    everything = cg.load_uri("benchmark://cbench-v1")
    assert [p.name for p in everything] == PATHS
    assert all(p.ir == bitcode[p.name] for p in everything)
    assert [p.uri for p in resolve("benchmark://cbench-v1/")] == [p.uri for p in everything]
    assert resolve("benchmark://cbench-v1/top")[0].ir == bitcode["top"]

    [row] = [r for r in cg.list_datasets() if r["name"] == "cbench-v1"]
    assert row == {"name": "cbench-v1", "suite": "cbench", "uri": "benchmark://cbench-v1", "benchmarks": 3,
                   "installed": True, "path": str(path)}
    assert all(r["benchmarks"] is None and not r["installed"] for r in cg.list_datasets() if r["name"] != "cbench-v1")

    requests = len(server.requests)
    assert cg.download("cbench-v1", **overrides) == path  # a no-op: nothing is fetched
    assert len(server.requests) == requests


def test_only_cbench_strips_a_top_folder(server, bitcode):
    overrides = server.publish("blas", {f"{p}.bc": bitcode[p] for p in PATHS}, PATHS)
    cg.download("blas-v0", **overrides)
    assert [(p.uri, p.suite) for p in cg.load_uri("benchmark://blas-v0/sub/deeper/lib")] == \
        [("benchmark://blas-v0/sub/deeper/lib", "blas")]
    flat = server.publish("cbench-flat", {f"{p}.bc": bitcode[p] for p in PATHS}, PATHS)
    with pytest.raises(cg.DatasetError, match="cbench-v1: the tarball has no folder cBench-v1/"):
        cg.download("cbench-v1", **flat)


@pytest.mark.parametrize("case", ["tarball-sha256", "manifest-sha256", "http-404", "unsafe-member",
                                  "missing-file", "not-a-tarball"])
def test_failures_leave_nothing_installed(server, bitcode, datasets, case):
    files = {f"{p}.bc": bitcode[p] for p in PATHS}
    if case == "unsafe-member":
        files["../escaped.bc"] = bitcode["top"]
    overrides = server.publish(f"npb-{case}", files, PATHS + ["absent"] if case == "missing-file" else PATHS)
    expected = {
        "tarball-sha256": f"SHA-256 mismatch for {overrides['url']}: expected {'0' * 64}, got {overrides['sha256']}",
        "manifest-sha256": f"expected {'f' * 64}, got {overrides['manifest_sha256']}",
        "http-404": "cannot download .*/nowhere.tar: HTTP Error 404: Not Found",
        "unsafe-member": "unsafe path in the tarball: ../escaped.bc",
        "missing-file": r"1 manifest entries have no \.bc file in the tarball \(first: absent\)",
        "not-a-tarball": "installation failed: file could not be opened successfully: - method gz",
    }[case]
    overrides |= {"tarball-sha256": {"sha256": "0" * 64}, "manifest-sha256": {"manifest_sha256": "f" * 64},
                  "http-404": {"url": server.url("/nowhere.tar")},
                  "not-a-tarball": {"url": overrides["manifest_url"], "sha256": overrides["manifest_sha256"]},
                  }.get(case, {})
    with pytest.raises(cg.DatasetError, match=expected) as error:
        cg.download("npb-v0", **overrides)
    assert str(error.value).startswith("dataset npb-v0: ") and "\n" not in str(error.value)
    assert not cg.installed("npb-v0")
    assert [p.name for p in datasets.iterdir()] == [".npb-v0.lock"]  # no dataset dir, no temp dir
    assert not (datasets.parent / "escaped.bc").exists()


def test_killed_download_leaves_nothing_installed(server, bitcode, datasets):
    overrides = _cbench(server, bitcode, stem="cbench-kill")
    script = ("import sys; from ecco_lib.benchmarks import compilergym as cg; "
              "cg.download('cbench-v1', url=sys.argv[1], sha256='0' * 64, progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", script, server.url("/stall/cbench.tar")], cwd=REPO)
    try:
        assert server.stalled.wait(20), "the download never started"
        assert (datasets / ".cbench-v1.partial").is_dir()
    finally:
        proc.kill()
        proc.wait()
    assert not cg.installed("cbench-v1") and not (datasets / "cbench-v1").exists()
    cg.download("cbench-v1", **overrides)  # takes over the lock and clears the leftovers
    assert cg.benchmarks("cbench-v1") == PATHS
    assert not (datasets / ".cbench-v1.partial").exists()


def test_lookup_errors(server, bitcode):
    for call in (lambda: cg.load_uri("benchmark://nosuch-v0/x"), lambda: cg.download("nosuch-v0"),
                 lambda: resolve("benchmark://nosuch-v0")):
        with pytest.raises(BadProgramError, match=r"unknown CompilerGym dataset 'nosuch-v0' \(known: .*cbench-v1"):
            call()
    with pytest.raises(BadProgramError, match="dataset npb-v0 is not downloaded: run `ecco datasets download npb-v0`"):
        cg.load_uri("benchmark://npb-v0/x")
    cg.download("cbench-v1", **_cbench(server, bitcode, stem="cbench-lookup"))
    with pytest.raises(BadProgramError, match="unknown benchmark 'benchmark://cbench-v1/sub/nope'"):
        cg.load_uri("benchmark://cbench-v1/sub/nope")
    with pytest.raises(BadProgramError, match="unknown benchmark"):
        cg.load_uri("benchmark://cbench-v1/sub")  # a folder, not a benchmark


def test_chstone_builds_linked_bitcode_from_c(server):
    sources = {  # two separately compiled files (old C: implicit declaration), and CHStone's include style
        "alpha/main.c": "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", helper(2)); return 0; }\n",
        "alpha/util.c": "int helper(int x) { return x + 1; }\n",
        "beta/beta.c": "#include \"beta_part.c\"\nint main(void) { return part(1) - 2; }\n",
        "beta/beta_part.c": "int part(int x) { return x * 2; }\n",
        "beta/notes.txt": "not a source file\n",
    }
    files = {f"{CHSTONE_PREFIX}/{name}": text.encode() for name, text in sources.items()}
    files["patmos_HLS-e62d878ceb91e5a18007ca2e0a9602ee44ff7d59/README.md"] = b"outside CHStone\n"
    cg.download("chstone-v0", **server.publish("chstone", files, mode="w:gz"))
    assert cg.benchmarks("chstone-v0") == ["alpha", "beta"]
    alpha, beta = cg.load_uri("benchmark://chstone-v0")
    assert (alpha.uri, alpha.suite, alpha.name) == ("benchmark://chstone-v0/alpha", "chstone", "alpha")
    assert "@main(" in _defined_functions(alpha.ir) and "@helper(" in _defined_functions(alpha.ir)
    assert "@main(" in _defined_functions(beta.ir) and _defined_functions(beta.ir).count("@part(") == 1


def test_real_cbench_crc32_bitcode(server, cgym_crc32_bc):
    """CompilerGym's genuine LLVM 10 bitcode is read and upgraded by LLVM 19."""
    overrides = server.publish("cbench-real", {"cBench-v1/crc32.bc": cgym_crc32_bc}, ["crc32"])
    cg.download("cbench-v1", **overrides)
    [program] = resolve("benchmark://cbench-v1/crc32")
    assert program.ir == cgym_crc32_bc and program.name == "crc32" and not program.runnable
    defined = _defined_functions(program.ir)
    for function in ("@main(", "@crc32buf(", "@crc32file(", "@updateCRC32("):
        assert function in defined
    opt = subprocess.run([find_toolchain().opt, "-passes=default<O3>", "-o", "/dev/null", "-"],
                         input=program.ir, capture_output=True, check=False)
    assert opt.returncode == 0, opt.stderr.decode()
