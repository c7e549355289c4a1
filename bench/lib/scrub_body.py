#!/usr/bin/env python3
"""Writes the body of the scrub-bulk scenarios (stdlib only): --mib MiB of JSON/SSE-like
ASCII text (words, numbers, punctuation, a few %XX and \\n escapes: the mix of
bench/scrub_bench.cpp's "text" body), made of one 1 MiB block drawn with a fixed seed and
written again and again. With --gzip the file is that text gzip-compressed (zlib level 1,
as nginx's default gzip_comp_level), decoding to exactly --mib MiB.

The text holds no secret (the common case: nothing is masked, so the figure is the scan's
cost alone); what a body of this kind costs the scanner is what the pure bench measures.
Usage: scrub_body.py --out FILE --mib N [--gzip]
"""
import argparse
import random
import zlib

WORDS = ["the", "model", "response", "token", "stream", "data", "event", "content", "delta",
         "text", "of", "and", "a", "to", "in", "is", "that", "for", "with", "as", "on", "by",
         '"type":', '"index":', "{", "}", "[", "]", ",", ":", "%20", "\\n", '\\"', "12345",
         "3.14", "https://example.com/path?q=1&r=2", "null", "true", "\n", "data: {"]
BLOCK = 1 << 20


def block():
    rng = random.Random(18)
    out, size = [], 0
    while size < BLOCK:
        w = rng.choice(WORDS) + " "
        out.append(w)
        size += len(w)
    return "".join(out).encode()[:BLOCK]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mib", type=int, required=True, choices=range(1, 4097),
                    metavar="N (1..4096)")
    ap.add_argument("--gzip", action="store_true")
    a = ap.parse_args()
    b = block()
    with open(a.out, "wb") as f:
        if not a.gzip:
            for _ in range(a.mib):
                f.write(b)
            return
        z = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip wrapper
        for _ in range(a.mib):
            f.write(z.compress(b))
        f.write(z.flush())


if __name__ == "__main__":
    main()
