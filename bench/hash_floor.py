"""The hashing floor: SHA-256 of the given files with hashlib on N threads (default 2), nothing else.

What ``bundle verify`` is measured against besides ``openssl dgst``: Python's start-up
plus hashlib (OpenSSL's SHA-256) reading each file through one reused 8 MiB buffer.

    python bench/hash_floor.py [--threads 2] FILE...
"""

from __future__ import annotations

import argparse
import hashlib
import threading
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    queue = sorted(args.files, key=lambda p: -p.stat().st_size)
    lock = threading.Lock()

    def work() -> None:
        buffer = bytearray(8 << 20)
        view = memoryview(buffer)
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop(0)
            digest = hashlib.sha256()
            with path.open("rb", buffering=0) as handle:
                while n := handle.readinto(view):
                    digest.update(view[:n])

    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
