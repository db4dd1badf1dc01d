#!/usr/bin/env python3
"""Independent reader of MNIST / Fashion-MNIST IDX files for tests/test_idx.c, in plain
CPython (gzip and struct only), written from the format's definition (LeCun's MNIST
page), not from core/idx.c.

usage: idx_oracle.py DIR SPLIT N INDEX...
    SPLIT is train or t10k. Reads DIR/SPLIT-images-idx3-ubyte and -labels-idx1-ubyte,
    plain if present, else .gz, and prints:
      line 1: count rows cols
      line 2: the number of labels equal to 0, 1, ..., 9 over the whole file
      line 3: the sum of the pixel bytes of the first N images
      then one line per INDEX: its label, then its rows*cols pixel bytes
"""
import gzip
import os
import struct
import sys


def read(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    with gzip.open(path + ".gz", "rb") as f:
        return f.read()


def main():
    d, split, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    idx = [int(a) for a in sys.argv[4:]]
    images = read(os.path.join(d, split + "-images-idx3-ubyte"))
    labels = read(os.path.join(d, split + "-labels-idx1-ubyte"))
    magic, count, rows, cols = struct.unpack(">IIII", images[:16])
    lmagic, lcount = struct.unpack(">II", labels[:8])
    assert magic == 2051 and lmagic == 2049 and count == lcount, "not MNIST files"
    assert len(images) == 16 + count * rows * cols and len(labels) == 8 + count
    size = rows * cols
    print(count, rows, cols)
    print(" ".join(str(labels[8:].count(bytes([k]))) for k in range(10)))
    print(sum(images[16:16 + n * size]))
    for i in idx:
        pixels = images[16 + i * size:16 + (i + 1) * size]
        print(labels[8 + i], " ".join(str(b) for b in pixels))


main()
