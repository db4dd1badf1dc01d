#!/usr/bin/python3
"""The run-file checker (tests/check_run_file.py) passes grokscope's own files and fails
each of a set of broken copies, made with h5py, with the one line that names the damage;
byte-damaged copies make it report, never crash.
Usage: test_check_run_file.py GROKSCOPE   (needs Debian's python3-h5py and numpy)"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"SKIP: needs /usr/bin/python3 with h5py and numpy ({e})")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, "check_run_file.py")
GS = os.path.abspath(sys.argv[1])
T = tempfile.mkdtemp()
passed = failed = 0


def note(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def check(path):
    """The checker as a program: exit status and output."""
    r = subprocess.run([sys.executable, CHECKER, path], capture_output=True, text=True)
    return r.returncode, r.stdout


sys.path.insert(0, HERE)
import check_run_file  # noqa: E402  (the same checker in-process: 40 files in a second)


def problems(path):
    return check_run_file.Checker(path).run()


def gs(*args):
    r = subprocess.run([GS, *args], cwd=T, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        raise SystemExit(f"FAIL: grokscope {' '.join(args)} exited {r.returncode}")


def recreate(f, name, **storage):
    """Rewrites dataset `name` with the same data and attributes but other storage
    settings (the keyword arguments of create_dataset override the original's)."""
    d = f[name]
    data, attrs = d[()], {k: d.attrs[k] for k in d.attrs}
    kw = dict(shape=d.shape, dtype=d.dtype, maxshape=d.maxshape, chunks=d.chunks,
              shuffle=d.shuffle, fletcher32=d.fletcher32, fillvalue=d.fillvalue,
              track_times=False)
    if d.compression:
        kw.update(compression=d.compression, compression_opts=d.compression_opts)
    kw.update(storage)
    del f[name]
    n = f.create_dataset(name, **kw)
    if n.shape == data.shape:   # a changed shape is left at its fill value
        n[...] = data.astype(kw["dtype"])
    for k, v in attrs.items():
        n.attrs[k] = v


def set_fixed_str(obj, name, value):
    """A fixed-length null-terminated UTF-8 string attribute, as grokscope writes them."""
    t = h5py.h5t.C_S1.copy()
    t.set_size(len(value) + 1)
    t.set_strpad(h5py.h5t.STR_NULLTERM)
    t.set_cset(h5py.h5t.CSET_UTF8)
    if name in obj.attrs:
        del obj.attrs[name]
    obj.attrs.create(name, np.array(value.encode(), dtype=f"S{len(value) + 1}"), dtype=h5py.Datatype(t))


def flip_chunk_byte(path, name):
    with h5py.File(path, "r") as f:
        info = f[name].id.get_chunk_info(0)
    with open(path, "r+b") as raw:
        raw.seek(info.byte_offset + info.size // 2)
        b = raw.read(1)
        raw.seek(info.byte_offset + info.size // 2)
        raw.write(bytes([b[0] ^ 0x55]))


# (description, base file, edit of the open h5py file or of the path, expected line)
def edits():
    W = "checkpoints/blocks.0.mlp.W_in"
    yield "a parameter removed", "run", lambda f: f.__delitem__(W), rf"/{W}: missing"
    yield "version string disagrees", "run", lambda f: set_fixed_str(f, "format_version", "1.0"), \
        r"/: format_version '1.0' disagrees"
    yield "newer major version", "run", lambda f: f.attrs.modify("format_version_major", np.int64(2)), \
        r"/: format version 2.3: this checker knows 1.x only"
    yield "p stored as a float", "run", lambda f: f["config"].attrs.create("p", np.float64(11)), \
        r"/config: attribute p is float64, expected int64"
    yield "negative learning rate", "run", lambda f: f["config"].attrs.modify("lr", -1.0), \
        r"/config: lr must be positive"
    yield "unknown op", "run", lambda f: set_fixed_str(f["config"], "op", "pow"), r"/config: op 'pow' is not one of"
    yield "n_train disagrees with frac", "run", lambda f: f["config"].attrs.modify("frac", 0.25), \
        r"/config: n_train \d+ is not int\(frac"
    yield "an extra /config attribute", "run", lambda f: set_fixed_str(f["config"], "notes", "mine"), \
        r"/config: attribute notes is not part of format 1.3"
    yield "model missing in a 1.3 file", "run", lambda f: f["config"].attrs.__delitem__("model"), \
        r"/config: missing attribute model \(format 1.3 has it\)"
    yield "unknown model", "run", lambda f: set_fixed_str(f["config"], "model", "rnn"), \
        r"/config: model 'rnn' is not one of transformer, mlp"
    yield "an MLP field in a transformer run", "run", lambda f: set_fixed_str(f["config"], "act", "relu"), \
        r"/config: attribute act does not belong to a transformer run"
    yield "flush_subnormals not 0 or 1", "run", lambda f: f["config"].attrs.modify("flush_subnormals", np.int64(2)), \
        r"/config: flush_subnormals = 2 must be 0 or 1"
    yield "flush_subnormals missing in a 1.1 file", "run", lambda f: f["config"].attrs.__delitem__("flush_subnormals"), \
        r"/config: missing attribute flush_subnormals \(format 1.1 has it\)"
    yield "circuit_measures missing in a 1.2 file", "run", lambda f: f["analysis"].attrs.__delitem__("circuit_measures"), \
        r"/analysis: missing attribute circuit_measures \(format 1.2 has it\)"
    yield "circuit_measures denies add its circuit", "run", \
        lambda f: set_fixed_str(f["analysis"], "circuit_measures", "none: no circuit"), \
        r"/analysis: circuit_measures = 'none: no circuit': op add with p = \d+ has Fourier circuit"
    yield "an S5 op with p != 120", "run", lambda f: set_fixed_str(f["config"], "op", "s5-xyx"), \
        r"/config: op s5-xyx needs p = 120 \(S5\)"
    yield "variable-length string", "run", lambda f: f.attrs.__setitem__("created_by", "grokscope 9"), \
        r"/: attribute created_by is a variable-length string"
    yield "units missing", "run", lambda f: f["metrics/epoch"].attrs.__delitem__("units"), \
        r"/metrics/epoch: attribute units missing"
    yield "float64 weights", "run", lambda f: recreate(f, "checkpoints/unembed.W_U", dtype="f8"), \
        r"/checkpoints/unembed.W_U: type float64, expected float32"
    yield "no checksum", "run", lambda f: recreate(f, "metrics/train_loss", fletcher32=False), \
        r"/metrics/train_loss: filters shuffle \+ deflate\(4\), expected shuffle \+ deflate\(4\) \+ fletcher32"
    yield "deflate level 9", "run", lambda f: recreate(f, "metrics/test_acc", compression_opts=9), \
        r"/metrics/test_acc: filters .*deflate\(9\)"
    yield "deflated optimizer slots", "run", lambda f: recreate(f, "resume/adam_v", compression="gzip", compression_opts=4), \
        r"/resume/adam_v: filters .*, expected shuffle \+ fletcher32"
    yield "axis 0 fixed", "run", lambda f: recreate(f, "metrics/test_loss", maxshape=(31,), chunks=(31,)), \
        r"/metrics/test_loss: axis 0 cannot grow"
    yield "two checkpoints per chunk", "run", lambda f: recreate(f, "checkpoints/embed.W_E", chunks=(2, 12, 8)), \
        r"/checkpoints/embed.W_E: chunks \[2, 12, 8\], expected \[1, 12, 8\]"
    yield "time stamps", "run", lambda f: recreate(f, "data/test_idx", track_times=True), \
        r"/data/test_idx: stores time stamps"
    yield "wrong fill value", "run", lambda f: recreate(f, "checkpoints/epoch", fillvalue=0), \
        r"/checkpoints/epoch: fill value 0, expected -1"
    yield "wrong shape", "run", lambda f: recreate(f, "checkpoints/blocks.0.mlp.b_out", shape=(4, 9), maxshape=(None, 9), chunks=(1, 9)), \
        r"/checkpoints/blocks.0.mlp.b_out: shape \[4, 9\], expected \[4, 8\]"
    yield "checkpoint epochs not increasing", "run", lambda f: f["checkpoints/epoch"].__setitem__(2, 3), \
        r"/checkpoints/epoch: not strictly increasing: row 2 is 3 after 10"
    yield "an uncommitted checkpoint row", "run", lambda f: f["checkpoints/epoch"].resize((5,)), \
        r"/checkpoints/epoch: ends in rows never written"
    yield "a parameter with a checkpoint too few", "run", lambda f: f["checkpoints/blocks.0.attn.W_V"].resize(3, axis=0), \
        r"/checkpoints/blocks.0.attn.W_V: shape \[3, 2, 8, 4\], expected \[4, 2, 8, 4\]"
    yield "metric rows beyond the last checkpoint", "run", lambda f: [f[f"metrics/{m}"].resize((40,)) for m in f["metrics"]], \
        r"/metrics: 40 rows, expected 31"
    yield "metrics of unequal length", "run", lambda f: f["metrics/train_acc"].resize((30,)), \
        r"/metrics: datasets differ in length"
    yield "metrics epoch column wrong", "run", lambda f: f["metrics/epoch"].__setitem__(5, 6), \
        r"/metrics/epoch: row 5 holds 6, expected 5"
    yield "a pair twice", "run", lambda f: f["data/test_idx"].__setitem__(0, f["data/train_idx"][0]), \
        r"/data: a pair appears twice"
    yield "a pair out of range", "run", lambda f: f["data/train_idx"].__setitem__(0, 121), \
        r"/data: pair index 121 is not a pair"
    yield "no optimizer slot for the last checkpoint", "run", lambda f: f["resume/epoch"].__setitem__(slice(None), -1), \
        r"/resume/epoch: \[-1, -1\]: expected exactly one slot"
    yield "keys attribute reordered", "run", lambda f: set_fixed_str(f["resume/adam_m"], "keys", "unembed.W_U embed.W_E"), \
        r"/resume/adam_m: attribute keys is 'unembed.W_U embed.W_E'"
    yield "status code 7", "run", lambda f: f["status"].__setitem__(0, 7), r"/status: status code 7 is not 0..3"
    yield "finished elsewhere", "run", lambda f: f["status"].__setitem__(1, 20), \
        r"/status: finished at epoch 20, but the last checkpoint is 30"
    yield "checkpoints beyond the planned epochs", "run", lambda f: f["config"].attrs.modify("epochs", np.int64(20)), \
        r"/checkpoints/epoch: last epoch 30 is beyond /config epochs 20"
    yield "an unknown dataset", "run", lambda f: f.create_dataset("notes", data=[1]), r"/notes: not part of format 1.3"
    yield "a soft link", "run", lambda f: (f.__delitem__("status"), f.__setitem__("status", h5py.SoftLink("/resume/step"))), \
        r"/status: is a SoftLink, expected a dataset"
    yield "an analysis row too few", "an", lambda f: f["analysis/gini_embed"].resize((3,)), \
        r"/analysis/gini_embed: 3 rows, but /analysis/epoch has 4"
    yield "analysis epochs off the checkpoints", "an", lambda f: f["analysis/epoch"].__setitem__(1, 11), \
        r"/analysis/epoch: row 1 holds 11, but checkpoint 1 is epoch 10"
    yield "key frequency out of range", "an", lambda f: f["analysis/key_freqs"].__setitem__(1, 6), \
        r"/analysis/key_freqs: \[1, 6\]: outside 1..5"
    yield "key frequencies of no checkpoint", "an", lambda f: f["analysis/key_freqs_epoch"].__setitem__(0, 7), \
        r"/analysis/key_freqs_epoch: 7 is neither"
    yield "fourier basis half written", "an", lambda f: f["analysis/fourier_basis"].resize((5, 11)), \
        r"/analysis/fourier_basis: 5 rows, expected 0 or p = 11"
    yield "phases out of order", "an", lambda f: f["analysis/phase_epochs"].__setitem__(slice(0, 3), [20, 10, -1]), \
        r"/analysis/phase_epochs: \[20, 10, -1, .*\]: phase ends not in order"
    yield "phases of 4 rows", "an", lambda f: f["analysis/phase_epochs"].resize((4,)), \
        r"/analysis/phase_epochs: 4 rows, expected 10 \(or 3 from an earlier grokscope\)"
    yield "analysis dataset missing", "an", lambda f: f.__delitem__("analysis/neuron_freq"), \
        r"/analysis/neuron_freq: missing"
    yield "a damaged chunk", "run", ("raw", lambda path: flip_chunk_byte(path, "checkpoints/blocks.0.mlp.W_out")), \
        r"/checkpoints/blocks.0.mlp.W_out: cannot read \(damaged chunk\?\)"
    yield "a text file", "run", ("raw", lambda path: open(path, "w").write("not hdf5\n")), r"/: cannot open as HDF5"
    yield "a foreign HDF5 file", "run", ("raw", lambda path: h5py.File(path, "w").close()), \
        r"/: attribute format missing"


try:
    small = ["--p", "11", "--d-model", "8", "--n-heads", "2", "--d-mlp", "16", "--frac", "0.5", "--every", "10", "--quiet"]
    gs("train", "--out", "run.h5", "--epochs", "30", *small)
    shutil.copy(os.path.join(T, "run.h5"), os.path.join(T, "an.h5"))
    gs("analyze", "an.h5", "--key-freqs", "1,3", "--quiet")
    base = {k: os.path.join(T, k + ".h5") for k in ("run", "an")}
    for k, path in base.items():
        rc, out = check(path)
        note(rc == 0 and out.startswith(f"ok: {path}"), f"checker rejects grokscope's {k}.h5: {out}")
    for i, (desc, src, edit, want) in enumerate(edits()):
        path = os.path.join(T, f"broken{i}.h5")
        shutil.copy(base[src], path)
        if isinstance(edit, tuple):
            edit[1](path)
        else:
            with h5py.File(path, "r+") as f:
                edit(f)
        lines = problems(path)
        hit = [l for l in lines if re.match(re.escape(path) + ": " + want, l)]
        note(hit, f"{desc}: expected a line '{want}'; got:\n    " + "\n    ".join(lines))
        if i == 0:   # as a program: exit status 1, the same lines
            rc, out = check(path)
            note(rc == 1 and out.splitlines() == lines, f"{desc}: checker exit {rc}, output {out}")
    # damaged copies (truncated, bytes flipped, a block overwritten, as the fuzz test
    # makes them): the checker reports, never raises, and rejects every truncation
    seed = open(base["an"], "rb").read()
    rejected = truncated = 0
    for n in range(60):
        r, data = random.Random(n), bytearray(seed)
        if n % 3 == 0:
            data = data[:r.randrange(len(data))]
        elif n % 3 == 1:
            for _ in range(r.randint(1, 8)):
                data[r.randrange(len(data))] ^= 1 << r.randrange(8)
        else:
            at = r.randrange(len(data))
            data[at:at + 256] = bytes(r.randrange(256) for _ in data[at:at + 256])
        path = os.path.join(T, "mutant.h5")
        open(path, "wb").write(data)
        try:
            lines = problems(path)
        except Exception as e:
            note(False, f"mutant {n}: the checker raised {type(e).__name__}: {e}")
            continue
        rejected += bool(lines)
        truncated += n % 3 == 0 and bool(lines)
    note(truncated == 20, f"only {truncated} of 20 truncated copies rejected")
    print(f"damaged copies: {rejected} of 60 rejected")
    # usage and a missing file
    r = subprocess.run([sys.executable, CHECKER], capture_output=True, text=True)
    note(r.returncode == 2, f"no argument: exit {r.returncode}, expected 2")
    rc, out = check(os.path.join(T, "nope.h5"))
    note(rc == 1 and "cannot open as HDF5" in out, f"missing file: exit {rc}: {out}")
finally:
    shutil.rmtree(T)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
