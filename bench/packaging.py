"""H5 packaging speed and memory: our inspect + build against unzip + tar + sha256sum + openssl.

Generates a package zip of ~5,000 files (~300 MB expanded: half compressible text, deflated; half random
bytes, stored) in a temp dir, then times, in the same process and run:

  ours      h5zip.inspect (inflate everything once: CRC, real sizes, SHA-256 per file) + amr.build
            (inflate again, tar, SHA-256 + MD5 of the .amr, RSA signature of the manifest)
  baseline  `unzip -q` + `tar cf` + `sha256sum` + `openssl dgst -sha256 -sign key.pem`

and prints the ratio (target ours ≤ 1.5× baseline). It then measures the peak RSS (ru_maxrss) of our
packaging run in a fresh child process for a 30 MB and a 300 MB input (target < 200 MB regardless of size).
Everything is deleted afterwards.

    python bench/packaging.py [--quick] [--files 5000] [--mb 300]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

H5_ID = "12345678"
_WORDS = (
    "function var let const return if else for while document window element style class div span "
    "import export default props state render component module require true false null undefined "
    "color margin padding border width height display flex grid position absolute relative"
).split()


def make_zip(path: Path, *, files: int, total_mb: int, seed: int = 7) -> tuple[int, int]:
    """Write the package zip; returns (files, expanded bytes)."""
    rng = random.Random(seed)
    average = total_mb * 1024 * 1024 // files
    expanded = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr(f"{H5_ID}/www/index.html", b"<!DOCTYPE html><html><body>bench</body></html>")
        for i in range(files - 1):
            size = max(64, int(rng.expovariate(1 / average)))
            size = min(size, average * 8)
            folder = f"{H5_ID}/www/{'js' if i % 2 else 'img'}/{i // 250:02d}"
            if i % 2:
                line = " ".join(rng.choice(_WORDS) for _ in range(40)).encode() + b";\n"
                text = (line * (size // len(line) + 1))[:size]
                # vary the text so it compresses like real JS (~4:1), not like a repeated line
                chunks = bytearray(text)
                for j in range(0, len(chunks), 64):
                    chunks[j] = 97 + rng.randrange(26)
                archive.writestr(f"{folder}/f{i:05d}.js", bytes(chunks))
            else:
                archive.writestr(f"{folder}/f{i:05d}.png", os.urandom(size), compress_type=zipfile.ZIP_STORED)
            expanded += size
    return files, expanded


def ours(zip_path: Path, out_path: Path, key_pem: bytes) -> dict:
    from chalicelib.packaging import amr, h5zip
    from chalicelib.security import rsa_keys

    key = rsa_keys.load_private_key(key_pem)
    with open(zip_path, "rb") as f, open(out_path, "wb") as out:
        report = h5zip.inspect(
            f, h5_id=H5_ID, resource_type="normal", tenant_app_id="BENCH", workspace_id="default"
        )
        built = amr.build(f, report, out, private_key=key, descriptor_fields={"version": "1.0.0.1"})
    return {"files": built.file_count, "size": built.size, "sha256": built.sha256}


def verify(amr_path: Path, key_pem: bytes, sha256: str) -> None:
    from chalicelib.packaging import amr
    from chalicelib.security import rsa_keys

    public = rsa_keys.public_key_pem(rsa_keys.load_private_key(key_pem))
    with open(amr_path, "rb") as f:
        amr.verify(f, public, expected_sha256=sha256)


def baseline(zip_path: Path, work: Path, key_path: Path) -> None:
    extracted = work / "unzipped"
    tar_path = work / "baseline.tar"
    subprocess.run(["unzip", "-q", "-o", str(zip_path), "-d", str(extracted)], check=True)
    subprocess.run(["tar", "cf", str(tar_path), "-C", str(extracted), H5_ID], check=True)
    subprocess.run(["sha256sum", str(tar_path)], check=True, capture_output=True)
    subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-sign",
            str(key_path),
            "-out",
            str(work / "baseline.sig"),
            str(tar_path),
        ],
        check=True,
    )
    shutil.rmtree(extracted)
    tar_path.unlink()


def child(zip_path: str, out_path: str, key_path: str) -> None:
    """Entry point of the fresh process whose peak RSS is measured."""
    result = ours(Path(zip_path), Path(out_path), Path(key_path).read_bytes())
    result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


def peak_rss(zip_path: Path, work: Path, key_path: Path) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(zip_path), str(work / "child.amr"), str(key_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    (work / "child.amr").unlink()
    return json.loads(out.stdout)["maxrss_kib"] / 1024


def idle_rss(key_path: Path) -> float:
    """RSS of a child that only imports the packaging code and loads the key (the floor)."""
    code = (
        "import resource;from chalicelib.packaging import amr, h5zip;from chalicelib.security import rsa_keys;"
        f"rsa_keys.load_private_key(open({str(key_path)!r},'rb').read());"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return int(out.stdout) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="30 MB / 500 files, one round, RSS at 3 and 30 MB"
    )
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.quick:
        args.files, args.mb, args.rounds = 500, 30, 1

    from chalicelib.security import rsa_keys

    missing = [tool for tool in ("unzip", "tar", "sha256sum", "openssl") if shutil.which(tool) is None]
    with tempfile.TemporaryDirectory(prefix="mds-bench-packaging-") as tmp:
        work = Path(tmp)
        key_path = work / "key.pem"
        key_path.write_bytes(rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
        zip_path = work / "big.zip"
        started = time.perf_counter()
        files, expanded = make_zip(zip_path, files=args.files, total_mb=args.mb)
        print(
            f"input: {files} files, {expanded / 1e6:.0f} MB expanded, {zip_path.stat().st_size / 1e6:.0f} MB zipped "
            f"(generated in {time.perf_counter() - started:.1f}s)"
        )

        ours_times, base_times, verify_times = [], [], []
        for _ in range(args.rounds):
            if not missing:
                started = time.perf_counter()
                baseline(zip_path, work, key_path)
                base_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = ours(zip_path, work / "ours.amr", key_path.read_bytes())
            ours_times.append(time.perf_counter() - started)
            with open(work / "ours.amr", "rb") as f:
                assert hashlib.file_digest(f, "sha256").hexdigest() == result["sha256"]
            started = time.perf_counter()
            verify(work / "ours.amr", key_path.read_bytes(), result["sha256"])
            verify_times.append(time.perf_counter() - started)
            (work / "ours.amr").unlink()
        best_ours = min(ours_times)
        print(
            f"ours     inspect+build+sha256+sign: {best_ours:.2f}s  ({expanded / 1e6 / best_ours:.0f} MB/s expanded)"
        )
        print(f"device   amr.verify (signature + every file digest): {min(verify_times):.2f}s")
        if missing:
            print(f"baseline skipped: {', '.join(missing)} not installed (Debian: apt-get install unzip)")
        else:
            best_base = min(base_times)
            ratio = best_ours / best_base
            verdict = "OK" if ratio <= 1.5 else "SLOWER THAN TARGET"
            print(f"baseline unzip+tar+sha256sum+openssl: {best_base:.2f}s")
            print(f"ratio ours/baseline: {ratio:.2f}x (target <= 1.5x) {verdict}")

        floor = idle_rss(key_path)
        sizes = [(args.mb // 10, args.files // 10), (args.mb, args.files)]
        for mb, n in sizes:
            path = zip_path if mb == args.mb else work / f"rss-{mb}.zip"
            if mb != args.mb:
                make_zip(path, files=n, total_mb=mb, seed=11)
            rss = peak_rss(path, work, key_path)
            verdict = "OK" if rss < 200 else "OVER TARGET"
            print(
                f"peak RSS, fresh process, {mb} MB input: {rss:.0f} MB (import floor {floor:.0f} MB; target < 200 MB) {verdict}"
            )


if __name__ == "__main__":
    main()
