"""Shared fixtures: real LLVM 19, caches in temporary directories, never the user's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SMALL_C = r"""
#include <stdio.h>
static unsigned table[64];
static unsigned mix(unsigned x, unsigned k) { return (x ^ (x >> 7)) * 2654435761u + k; }
unsigned fold(const unsigned *v, int n) {
    unsigned h = 2166136261u;
    for (int i = 0; i < n; i++) h = mix(h ^ v[i], (unsigned)i);
    return h;
}
int main(void) {
    for (int i = 0; i < 64; i++) table[i] = (unsigned)i * 40503u;
    unsigned h = 0;
    for (int r = 0; r < 100; r++) h ^= fold(table, 64) + (unsigned)r;
    printf("checksum %08x\n", h);
    return 0;
}
"""


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's cache or datasets."""
    root = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("ECCO_CACHE_DIR", str(root / "default-cache"))
    monkeypatch.setenv("ECCO_DATASETS_DIR", str(root / "default-datasets"))


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    from ecco_lib.llvm import EvaluationCache

    return EvaluationCache(tmp_path_factory.mktemp("session-cache"))


@pytest.fixture(scope="session")
def evaluator(session_cache):
    from ecco_lib.llvm import Evaluator

    with Evaluator(cache=session_cache, jobs=2) as ev:
        yield ev


@pytest.fixture(scope="session")
def small_c(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("src") / "small.c"
    path.write_text(SMALL_C)
    return path


@pytest.fixture(scope="session")
def small_ll(small_c) -> Path:
    """The small program as unoptimized textual IR, made the way DESIGN.md says."""
    out = small_c.with_suffix(".ll")
    subprocess.run(["clang-19", "-O2", "-Xclang", "-disable-llvm-passes", "-emit-llvm", "-S", str(small_c),
                    "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def small_program(small_c, session_cache):
    from ecco_lib.benchmarks import resolve

    return resolve(str(small_c), cache=session_cache)[0]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m ecco_lib ARGS`` as a user would; returns the completed process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "ecco_lib", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or REPO, timeout=900)


@pytest.fixture(scope="session")
def embedded_programs(session_cache):
    from ecco_lib.benchmarks import resolve

    return resolve("ecco://", cache=session_cache)


CGYM_DOWNLOADS = REPO / "tests" / "fixtures" / ".downloads"
CGYM_CRC32 = "compiler_gym-0.2.5.data/purelib/compiler_gym/third_party/cbench/cbench-v1/crc32.bc"


@pytest.fixture(scope="session")
def cgym_crc32_bc() -> bytes:
    """CompilerGym's genuine cBench crc32 bitcode (LLVM 10), read out of the compiler-gym 0.2.5 wheel."""
    import zipfile

    wheels = sorted(CGYM_DOWNLOADS.glob("compiler_gym-0.2.5-*.whl"))
    if not wheels:
        pytest.fail(f"the compiler-gym 0.2.5 wheel is missing from {CGYM_DOWNLOADS}: run `make test` (it "
                    f"downloads it) or `pip download --no-deps compiler-gym==0.2.5 -d {CGYM_DOWNLOADS}`",
                    pytrace=False)
    with zipfile.ZipFile(wheels[0]) as wheel:
        return wheel.read(CGYM_CRC32)


#: The repository's train-split evidence (what the learned baselines train on in tests).
EVIDENCE = REPO / "results" / "dataset" / "evidence"


def evidence_root(path: Path, monkeypatch) -> Path:
    """Make ``path`` the output root, holding :data:`EVIDENCE` (a read-only symlink): learned
    baselines write their offline models under it, never into the repository."""
    (path / "results" / "dataset").mkdir(parents=True)
    (path / "results" / "dataset" / "evidence").symlink_to(EVIDENCE)
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(path))
    return path


@pytest.fixture
def training_root(tmp_path, monkeypatch):
    return evidence_root(tmp_path, monkeypatch)


def leaky_evidence(directory: Path) -> Path:
    """An evidence directory of one real training record plus a copy relabelled as a test-split
    program (what every learned baseline must refuse)."""
    import json
    import shutil

    from ecco_lib.baselines.offline import test_split_uris

    source = sorted(EVIDENCE.glob("*/*.json"))[0]
    (directory / source.parent.name).mkdir(parents=True)
    shutil.copy(source, directory / source.parent.name / source.name)
    data = json.loads(source.read_text())
    data["program"] = sorted(test_split_uris())[0]
    (directory / source.parent.name / "leak.json").write_text(json.dumps(data))
    return directory


@pytest.fixture(scope="module")
def program(session_cache):
    """One embedded test-split program, ecco://nas/is (what the baselines are reported on)."""
    from ecco_lib.benchmarks import resolve

    (found,) = resolve("ecco://nas/is", cache=session_cache)
    assert found.split == "test"
    return found


class FailingEvaluator:
    """A real evaluator, except that every candidate whose passes ``fails(passes)`` selects is an
    ``opt-error`` (as a crashed opt would be); ``failed`` counts them."""

    def __init__(self, inner, fails):
        self.inner, self.fails, self.failed = inner, fails, 0
        self.metric, self.cache, self.jobs, self.timeout_s = inner.metric, inner.cache, inner.jobs, inner.timeout_s

    def evaluate(self, program, pipeline):
        return self.inner.evaluate(program, pipeline)

    def evaluate_many(self, pairs, progress=None):
        from ecco_lib.llvm.evaluate import Measurement

        pairs = list(pairs)
        fails = [bool(self.fails(pipeline.passes)) for _, pipeline in pairs]
        self.failed += sum(fails)
        rows = iter(self.inner.evaluate_many([pair for pair, f in zip(pairs, fails) if not f], progress=progress))
        return [Measurement(program=prog.uri, suite=prog.suite, pipeline=pipe.label, status="opt-error",
                            error="injected failure") if f else next(rows) for (prog, pipe), f in zip(pairs, fails)]


#: The API key the fake endpoint expects (in the environment variable KEY_ENV).
KEY_ENV, KEY = "ECCO_TEST_LLM_KEY", "sekret-123"


class FakeEndpoint(ThreadingHTTPServer):
    """POST /v1/chat/completions. ``mode``: ok (reply i is ``replies[i % len]``), 500, garbage (not
    JSON), no-content (JSON without choices), raw (bytes that are not HTTP), slow (answers after
    1 s), flaky (HTTP 500 for the first request, ok afterwards). Without ``Bearer KEY``: 401."""

    daemon_threads = True

    def __init__(self, mode="ok", replies=("",)):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.replies, self.requests = mode, replies, []
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}/v1"
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    server: FakeEndpoint

    def log_message(self, *args):  # quiet
        pass

    def _send(self, code: int, body: bytes) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server, index = self.server, len(self.server.requests)
        server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._send(401, b'{"error": "bad key"}')
        if server.mode == "500" or (server.mode == "flaky" and index == 0):
            return self._send(500, b'{"error": "overloaded"}')
        if server.mode == "garbage":
            return self._send(200, b"<html>not json")
        if server.mode == "no-content":
            return self._send(200, b'{"object": "error"}')
        if server.mode == "raw":
            self.close_connection = True
            return self.wfile.write(b"garbage that is no HTTP\r\n\r\n")
        if server.mode == "slow":
            time.sleep(1.0)
        content = server.replies[index % len(server.replies)]
        self._send(200, json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode())
