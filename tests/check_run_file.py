#!/usr/bin/python3
"""check_run_file.py RUN.h5 [RUN.h5 ...]: does each file follow the run-file format
that docs/run-file.md describes?

It checks a file at rest (closed by grokscope, not being written): the root and /config
attributes with their types and ranges, every dataset's type, shape, fill value, units
and description, the storage (chunk shapes, the filter pipeline with its checksum,
growable axis 0, no time stamps), the commit records (checkpoint and analysis epochs,
the optimizer slots, /status), the split, /analysis when present, and that every chunk
reads back (a damaged chunk fails its fletcher32 checksum). In a file of the format
version this checker knows, an object or attribute the page does not list is a problem
too; a newer minor version may add some.

Prints one line per problem, "RUN.h5: /object: what is wrong", and exits 1; or
"ok: RUN.h5: ..." and exit status 0. Exit status 2: bad usage; 77: h5py or numpy is
missing (the test suites report that as a skip). Needs Debian's python3-h5py and
python3-numpy; does not need grokscope.
"""
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"check_run_file.py: needs /usr/bin/python3 with h5py and numpy ({e}); "
          "apt-get install python3-h5py python3-numpy")
    sys.exit(77)

# The format version this checker describes.
MAJOR, MINOR = 1, 3

I32, I64, F32, F64, STR = "int32", "int64", "float32", "float64", "string"

ROOT_ATTRS = {"format": STR, "format_version": STR, "format_version_major": I64,
              "format_version_minor": I64, "created_by": STR, "command_line": STR}

CONFIG_ATTRS = {"p": I64, "op": STR, "frac": F64, "seed": I64, "d_model": I64,
                "n_heads": I64, "d_head": I64, "d_mlp": I64, "lr": F64, "wd": F64,
                "beta1": F64, "beta2": F64, "eps": F64, "warmup": I64, "epochs": I64,
                "every": I64, "stop_test_loss": F64, "n_train": I64, "n_test": I64}

# /config attributes added by a minor version: (type, the minor that added it); files
# of older minors lack them (docs/run-file.md)
CONFIG_OPTIONAL = {"flush_subnormals": (I64, 1)}   # absent = 0 (IEEE subnormals)
# the interventions (docs/interventions.md), since 1.3; absent = the paper's run
INTERVENTIONS = {"optimizer": (STR, 3), "momentum": (F64, 3), "wd_to_init": (I64, 3),
                 "grokfast": (STR, 3), "gf_alpha": (F64, 3), "gf_lambda": (F64, 3),
                 "gf_window": (I64, 3), "loss": (STR, 3), "loss_precision": (I64, 3),
                 "orthograd": (I64, 3), "init_scale": (F64, 3), "fix_norm": (I64, 3),
                 "output_scale": (F64, 3)}
INTERVENTION_DEFAULTS = {"optimizer": "adamw", "momentum": 0.0, "wd_to_init": 0, "grokfast": "none",
                         "gf_alpha": 0.98, "gf_lambda": 2.0, "gf_window": 100, "loss": "ce",
                         "loss_precision": 64, "orthograd": 0, "init_scale": 1.0, "fix_norm": 0,
                         "output_scale": 1.0}
CHOICES = {"optimizer": ("adamw", "adam", "sgd"), "grokfast": ("none", "ema", "ma"),
           "loss": ("ce", "stablemax", "mse")}

# The network and the batch (1.3; docs/run-file.md): model and batch always, n_layers
# for the transformer, the rest for the MLP. Absent in older files: the one-layer
# transformer, full batch.
MODEL_ATTRS = {"model": STR, "batch": I64}
MODEL_TRANSFORMER_ATTRS = {"n_layers": I64}
MODEL_MLP_ATTRS = {"d_embed": I64, "hidden": STR, "act": STR, "bias": I64}
MODELS = ("transformer", "mlp")
ACTS = ("relu", "gelu", "quad")
MAX_LAYERS, MAX_HIDDEN = 8, 8

OPS = ("add", "sub", "mul", "div", "x2y2", "x2xyy2", "x2xyy2x", "x3xy", "x3xy2y", "x2y", "x3y",
       "div-or-sub", "add-or-mul", "add-or-sub", "s5-compose", "s5-conjugate", "s5-xyx")
PRIME_OPS = ("div", "div-or-sub")               # they divide: p must be prime
S5_OPS = ("s5-compose", "s5-conjugate", "s5-xyx")   # p is the 120 permutations of S5

# The task kind (1.3; docs/run-file.md): task always ("modular" when absent); the image
# task's fields only with task mnist, whose p is its 10 classes and whose model is the
# MLP on the 784 pixels
TASK_OPTIONAL = {"task": (STR, 3)}
TASK_MNIST_ATTRS = {"data_dir": STR, "train_size": I64, "test_size": I64}
TASKS = ("modular", "mnist")
MNIST_PIXELS, MNIST_CLASSES = 784, 10

# /analysis attributes added by a minor version (docs/run-file.md)
ANALYSIS_OPTIONAL = {"circuit_measures": (STR, 2), "model_measures": (STR, 3)}


def is_prime(n):
    return n >= 2 and all(n % q for q in range(2, int(n ** 0.5) + 1))


def has_circuit(op, p):
    """docs/tasks.md: restricted and excluded loss exist for add and sub, and for mul and
    div on a prime p (the discrete-log basis)."""
    return op in ("add", "sub") or (op in ("mul", "div") and is_prime(p))

PHASE_ROWS = 10   # /analysis/phase_epochs since 1.1

# The parameters in the order of the flat optimizer state (the `keys` attribute), each
# with its shape after the checkpoint axis. Letters are filled in from /config.
PARAMS = [("embed.W_E", "VD"), ("pos_embed.W_pos", "3D"),
          ("blocks.0.attn.W_Q", "HDE"), ("blocks.0.attn.W_K", "HDE"),
          ("blocks.0.attn.W_V", "HDE"), ("blocks.0.attn.W_O", "HED"),
          ("blocks.0.mlp.W_in", "DM"), ("blocks.0.mlp.b_in", "M"),
          ("blocks.0.mlp.W_out", "MD"), ("blocks.0.mlp.b_out", "D"),
          ("unembed.W_U", "DV")]

METRICS = ["epoch", "train_loss", "test_loss", "train_acc", "test_acc"]
METRICS_1_3 = ["collapse_frac", "grad_norm", "grad_cos"]   # since 1.3
AN_SCALARS = ["train_loss", "test_loss", "train_acc", "test_acc", "restricted_loss",
              "excluded_loss", "gini_embed", "gini_neuron_logit", "weight_norm"]
AN_ROWS = ["embed_fourier_norm", "neuron_logit_fourier_norm"]
# /analysis datasets added by 1.3 (docs/early-warning.md): per-checkpoint series, and two
# fixed ones with their row counts; files of older minors lack them until analysed again
AN_SIGNALS = ["init_distance", "cka_init", "cka_label", "llc"]
AN_SIGNAL_FIXED = {"llc_settings": 9, "loss_spectrum": 2}
AN_SIGNALS_SINCE = 3
AN_MAX_KEYS = 64

METRIC_CHUNK = 1024          # rows
SERIES_CHUNK = 64            # rows of /checkpoints/epoch-like series in /analysis
FLAT_CHUNK = 1 << 20         # floats per chunk of a flat optimizer moment
MATRIX_CHUNK_BYTES = 1 << 20  # cap on the [n, p] and [p, p] analysis chunks

# Filter pipelines (HDF5 filter ids): shuffle, deflate level 4, fletcher32. What is
# rewritten in place (the optimizer slots and /status) skips deflate so its chunks keep
# their size.
SHUFFLE, DEFLATE, FLETCHER32 = 2, 1, 3
PIPELINE = [(SHUFFLE, None), (DEFLATE, 4), (FLETCHER32, None)]
PIPELINE_IN_PLACE = [(SHUFFLE, None), (FLETCHER32, None)]


def param_shapes(c):
    """The run's parameters in the order of the flat optimizer state: (key, shape)."""
    p = c["p"]
    if c["model"] == "mlp":
        out = []
        if c["d_embed"] > 0:
            out.append(("embed.W_E", (p, c["d_embed"])))
        width = 2 * (c["d_embed"] if c["d_embed"] > 0 else p)
        if c.get("task") == "mnist":
            width = MNIST_PIXELS
        for k, h in enumerate(c["hidden"] + [p]):
            name = f"layers.{k}" if k < len(c["hidden"]) else "unembed"
            out.append((f"{name}.W" if k < len(c["hidden"]) else "unembed.W_U", (width, h)))
            if c["bias"]:
                out.append((f"{name}.b" if k < len(c["hidden"]) else "unembed.b_U", (h,)))
            width = h
        return out
    letters = {"V": p + 1, "D": c["d_model"], "H": c["n_heads"], "E": c["d_head"],
               "M": c["d_mlp"], "3": 3}
    out = [(k, tuple(letters[s] for s in spec)) for k, spec in PARAMS[:2]]
    for layer in range(c["n_layers"]):
        out += [(k.replace("blocks.0.", f"blocks.{layer}."), tuple(letters[s] for s in spec))
                for k, spec in PARAMS[2:-1]]
    out += [(k, tuple(letters[s] for s in spec)) for k, spec in PARAMS[-1:]]
    return out


class Checker:
    def __init__(self, path):
        self.path = path
        self.problems = []
        self.known_objects = {"/"}
        self.strict_extras = True

    def bad(self, obj, msg):
        self.problems.append(f"{self.path}: {obj}: {msg}")

    # ---- attributes ----

    def attr(self, obj, name, kind):
        """The attribute's value if it exists with the right type, else None (reported)."""
        where = obj.name
        if name not in obj.attrs:
            self.bad(where, f"attribute {name} missing")
            return None
        aid = obj.attrs.get_id(name)
        if aid.shape != ():
            self.bad(where, f"attribute {name} has shape {aid.shape}, expected a scalar")
            return None
        t = aid.get_type()
        if kind == STR:
            if not isinstance(t, h5py.h5t.TypeStringID):
                self.bad(where, f"attribute {name} is {aid.dtype}, expected a string")
                return None
            if t.is_variable_str():
                self.bad(where, f"attribute {name} is a variable-length string, expected fixed-length")
            if t.get_strpad() != h5py.h5t.STR_NULLTERM:
                self.bad(where, f"attribute {name} is not a null-terminated string")
            if t.get_cset() != h5py.h5t.CSET_UTF8:
                self.bad(where, f"attribute {name} is not UTF-8")
            value = obj.attrs[name]
            if isinstance(value, bytes):
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    self.bad(where, f"attribute {name} is not valid UTF-8")
                    return None
            return str(value)
        want = np.dtype(kind)
        if aid.dtype.kind != want.kind or aid.dtype.itemsize != want.itemsize:
            self.bad(where, f"attribute {name} is {aid.dtype}, expected {kind}")
            return None
        return obj.attrs[name].item()

    def no_other_attrs(self, obj, names):
        if not self.strict_extras:
            return
        for name in obj.attrs:
            if name not in names:
                self.bad(obj.name, f"attribute {name} is not part of format {MAJOR}.{MINOR}")

    # ---- objects ----

    def open(self, parent, name, path):
        try:
            return parent[name]
        except (KeyError, OSError, RuntimeError) as e:
            self.bad(path, f"cannot open (damaged file?): {str(e).splitlines()[0]}")
            return None

    def member(self, parent, name, cls):
        """parent[name] if it is there, a hard link and of class cls (h5py.Group or
        h5py.Dataset), else None after reporting what it is; and its path."""
        path = f"{parent.name.rstrip('/')}/{name}"
        self.known_objects.add(path)
        want, other = ("group", "dataset") if cls is h5py.Group else ("dataset", "group")
        if name not in parent:
            self.bad(path, "missing")
            return None, path
        link = parent.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            self.bad(path, f"is a {type(link).__name__}, expected a {want}")
            return None, path
        obj = self.open(parent, name, path)
        if obj is None:
            return None, path
        if not isinstance(obj, cls):
            self.bad(path, f"is a {other}, expected a {want}")
            return None, path
        return obj, path

    def group(self, parent, name, attrs=()):
        g, path = self.member(parent, name, h5py.Group)
        if g is None:
            return None
        if g.id.get_create_plist().get_obj_track_times():
            self.bad(path, "stores time stamps (the same run must give the same bytes)")
        self.no_other_attrs(g, attrs)
        return g

    def dataset(self, parent, name, kind, shape, chunk=None, fill=None, in_place=False):
        """Checks one dataset against the layout. shape: the expected shape, with None
        for the growing axis 0 when its length is free. chunk: the expected chunk shape,
        or a function of the actual chunk shape that returns a complaint or None.
        Returns the dataset if its type and shape are right, else None."""
        d, path = self.member(parent, name, h5py.Dataset)
        if d is None:
            return None
        ok = True
        want = np.dtype(kind)
        if d.dtype.kind != want.kind or d.dtype.itemsize != want.itemsize:
            self.bad(path, f"type {d.dtype}, expected {kind}")
            ok = False
        if len(d.shape) != len(shape):
            self.bad(path, f"rank {len(d.shape)} (shape {list(d.shape)}), expected {len(shape)}")
            return None
        if any(w is not None and w != n for w, n in zip(shape, d.shape)):
            want_s = ["n" if w is None else w for w in shape]
            self.bad(path, f"shape {list(d.shape)}, expected {want_s}")
            ok = False
        # storage
        if d.maxshape[0] is not None:
            self.bad(path, f"axis 0 cannot grow (maxshape {d.maxshape})")
        if tuple(d.maxshape[1:]) != tuple(d.shape[1:]):
            self.bad(path, f"maxshape {d.maxshape}: only axis 0 may grow")
        dcpl = d.id.get_create_plist()
        if d.chunks is None:
            self.bad(path, "not chunked")
        elif callable(chunk):
            msg = chunk(d.chunks)
            if msg:
                self.bad(path, msg)
        elif chunk is not None and tuple(d.chunks) != tuple(chunk):
            self.bad(path, f"chunks {list(d.chunks)}, expected {list(chunk)}")
        filters = [dcpl.get_filter(i) for i in range(dcpl.get_nfilters())]
        have = [(f[0], f[2][0] if f[0] == DEFLATE and f[2] else None) for f in filters]
        pipeline = PIPELINE_IN_PLACE if in_place else PIPELINE
        if have != pipeline:
            names = " + ".join(f[3].decode(errors="replace") +
                               (f"({f[2][0]})" if f[0] == DEFLATE and f[2] else "") for f in filters)
            want_names = "shuffle + fletcher32" if in_place else "shuffle + deflate(4) + fletcher32"
            self.bad(path, f"filters {names or 'none'}, expected {want_names}")
        if dcpl.get_obj_track_times():
            self.bad(path, "stores time stamps (the same run must give the same bytes)")
        if fill is not None and d.fillvalue != fill:
            self.bad(path, f"fill value {d.fillvalue}, expected {fill}")
        # attributes
        extra = ("units", "description", "keys") if name in ("adam_m", "adam_v", "grokfast") else ("units", "description")
        for a in ("units", "description"):
            v = self.attr(d, a, STR)
            if v is not None and not v.strip():
                self.bad(path, f"attribute {a} is empty")
        self.no_other_attrs(d, extra)
        return d if ok else None

    def read_all(self, d):
        """Reads every chunk along axis 0: a damaged chunk fails its checksum here."""
        if d is None:
            return None
        step = max(1, d.chunks[0]) if d.chunks else max(1, d.shape[0])
        parts = []
        try:
            for at in range(0, d.shape[0], step):
                parts.append(d[at:at + step])
        except (OSError, ValueError) as e:
            self.bad(d.name, f"cannot read (damaged chunk?): {str(e).splitlines()[0]}")
            return None
        return np.concatenate(parts) if parts else d[0:0]

    # ---- the file ----

    def run(self):
        try:
            f = h5py.File(self.path, "r")
        except OSError as e:
            try:
                f = h5py.File(self.path, "r", swmr=True)
                self.bad("/", "marked as open for writing (a writer was killed?); "
                         "`grokscope train --resume` or `h5clear -s` clears it")
            except OSError:
                self.bad("/", f"cannot open as HDF5: {str(e).splitlines()[0]}")
                return self.problems
        with f:
            try:
                self.check_file(f)
            except Exception as e:   # a file damaged beyond what the checks expect
                self.bad("/", f"check stopped by {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        return self.problems

    def check_file(self, f):
        if f.id.get_create_plist().get_version()[0] < 3:
            self.bad("/", "superblock version < 3 (SWMR needs the HDF5 1.10 format)")
        fmt = self.attr(f, "format", STR)
        if fmt != "grokscope-run":
            if fmt is not None:
                self.bad("/", f"attribute format is {fmt!r}, expected 'grokscope-run'")
            self.bad("/", "not a grokscope run file")
            return
        major = self.attr(f, "format_version_major", I64)
        minor = self.attr(f, "format_version_minor", I64)
        text = self.attr(f, "format_version", STR)
        if None not in (major, minor, text) and text != f"{major}.{minor}":
            self.bad("/", f"format_version {text!r} disagrees with format_version_major/minor {major}.{minor}")
        if major is not None and major != MAJOR:
            self.bad("/", f"format version {major}.{minor}: this checker knows {MAJOR}.x only")
            return
        if minor is not None and minor > MINOR:
            self.strict_extras = False   # a newer minor version may add objects
        self.minor = minor if minor is not None else 0
        created = self.attr(f, "created_by", STR)
        if created is not None and not created.startswith("grokscope "):
            self.bad("/", f"attribute created_by is {created!r}, expected 'grokscope VERSION'")
        self.attr(f, "command_line", STR)
        self.no_other_attrs(f, ROOT_ATTRS)
        if f["/"].id.get_create_plist().get_obj_track_times():
            self.bad("/", "stores time stamps (the same run must give the same bytes)")

        cfg = self.check_config(f)
        if cfg is None:
            return
        n_ckpt_epochs = self.check_checkpoints(f, cfg)
        self.check_data(f, cfg)
        self.check_metrics(f, n_ckpt_epochs)
        self.check_resume(f, cfg, n_ckpt_epochs)
        self.check_status(f, cfg, n_ckpt_epochs)
        if "analysis" in f:
            self.check_analysis(f, cfg, n_ckpt_epochs)
        else:
            self.known_objects.add("/analysis")   # optional: files from before it existed
        self.check_no_other_objects(f)

    def check_config(self, f):
        g = self.group(f, "config", {**CONFIG_ATTRS, **{k: t for k, (t, _) in CONFIG_OPTIONAL.items()},
                                     **{k: t for k, (t, _) in INTERVENTIONS.items()},
                                     **MODEL_ATTRS, **MODEL_TRANSFORMER_ATTRS, **MODEL_MLP_ATTRS,
                                     **{k: t for k, (t, _) in TASK_OPTIONAL.items()},
                                     **TASK_MNIST_ATTRS})
        if g is None:
            return None
        cfg = {k: self.attr(g, k, kind) for k, kind in CONFIG_ATTRS.items()}
        if any(v is None for v in cfg.values()):
            return None
        for k, (kind, since) in CONFIG_OPTIONAL.items():
            if k in g.attrs:
                v = self.attr(g, k, kind)
                if v is not None and v not in (0, 1):
                    self.bad("/config", f"{k} = {v} must be 0 or 1")
            elif getattr(self, "minor", 0) >= since:
                self.bad("/config", f"missing attribute {k} (format 1.{since} has it)")
        c = cfg
        for k, (kind, since) in INTERVENTIONS.items():
            if k in g.attrs:
                c[k] = self.attr(g, k, kind)
                if c[k] is None:
                    return None
            else:
                if getattr(self, "minor", 0) >= since:
                    self.bad("/config", f"missing attribute {k} (format 1.{since} has it)")
                c[k] = INTERVENTION_DEFAULTS[k]
        for k, allowed in CHOICES.items():
            if c[k] not in allowed:
                self.bad("/config", f"{k} = {c[k]!r} is not one of {', '.join(allowed)}")
                return None
        if not self.check_model(g, c) or not self.check_task(g, c):
            return None
        if c["task"] == "mnist":
            return self.check_mnist_config(c)
        ranges = [
            (c["p"] >= 3, "p must be at least 3"),
            (c["op"] in OPS, f"op {c['op']!r} is not one of {', '.join(OPS)}"),
            (c["op"] not in PRIME_OPS or is_prime(c["p"]), f"op {c['op']} needs a prime p"),
            (c["op"] not in S5_OPS or c["p"] == 120, f"op {c['op']} needs p = 120 (S5)"),
            (0 < c["frac"] < 1, "frac must lie strictly between 0 and 1"),
            (min(c["d_model"], c["n_heads"], c["d_head"], c["d_mlp"]) >= 1, "widths must be >= 1"),
            (c["d_head"] * c["n_heads"] == c["d_model"], "d_head must equal d_model / n_heads"),
            (c["lr"] > 0 and np.isfinite(c["lr"]), "lr must be positive"),
            (c["wd"] >= 0 and np.isfinite(c["wd"]), "wd must be >= 0"),
            (0 <= c["beta1"] < 1 and 0 <= c["beta2"] < 1, "beta1 and beta2 must lie in [0, 1)"),
            (c["eps"] > 0 and np.isfinite(c["eps"]), "eps must be positive"),
            (c["warmup"] >= 1, "warmup must be >= 1 (lr_t = lr * min(t / warmup, 1))"),
            (c["epochs"] >= 1, "epochs must be >= 1"),
            (c["every"] >= 1, "every must be >= 1"),
            (c["stop_test_loss"] >= 0 and np.isfinite(c["stop_test_loss"]), "stop_test_loss must be >= 0"),
            (0 <= c["momentum"] < 1 and (c["momentum"] == 0 or c["optimizer"] == "sgd"),
             "momentum must lie in [0, 1), and be 0 unless optimizer is sgd"),
            (c["wd_to_init"] in (0, 1) and c["orthograd"] in (0, 1) and c["fix_norm"] in (0, 1),
             "wd_to_init, orthograd and fix_norm must be 0 or 1"),
            (not c["fix_norm"] or c["wd"] == 0, "fix_norm needs wd 0"),
            (0 <= c["gf_alpha"] < 1 and c["gf_lambda"] >= 0 and c["gf_window"] >= 1,
             "gf_alpha must lie in [0, 1), gf_lambda >= 0, gf_window >= 1"),
            (c["loss_precision"] in (32, 64), "loss_precision must be 32 or 64"),
            (c["init_scale"] > 0 and c["output_scale"] > 0, "init_scale and output_scale must be positive"),
        ]
        for ok, msg in ranges:
            if not ok:
                self.bad("/config", f"{msg} ({self.config_line(c)})")
        if not all(ok for ok, _ in ranges):
            return None
        # only div leaves pairs out (y = 0); an odd y is never 0 (p is prime for both)
        pairs = c["p"] * (c["p"] - 1) if c["op"] == "div" else c["p"] * c["p"]
        if c["n_train"] + c["n_test"] != pairs:
            self.bad("/config", f"n_train {c['n_train']} + n_test {c['n_test']} is not the {pairs} pairs")
        elif c["n_train"] != int(c["frac"] * pairs):
            self.bad("/config", f"n_train {c['n_train']} is not int(frac * {pairs}) = {int(c['frac'] * pairs)}")
        c["shapes"] = dict(param_shapes(c))
        c["P"] = sum(int(np.prod(s)) for s in c["shapes"].values())
        c["pairs"] = pairs
        return c

    def check_task(self, g, c):
        """The 1.3 task fields into c ("modular" when absent); False if unusable."""
        c["task"] = "modular"
        for k, (kind, since) in TASK_OPTIONAL.items():
            if k in g.attrs:
                c[k] = self.attr(g, k, kind)
                if c[k] is None:
                    return False
            elif getattr(self, "minor", 0) >= since:
                self.bad("/config", f"missing attribute {k} (format 1.{since} has it)")
        if c["task"] not in TASKS:
            self.bad("/config", f"task {c['task']!r} is not one of {', '.join(TASKS)}")
            return False
        for k, kind in TASK_MNIST_ATTRS.items():
            if c["task"] != "mnist":
                if k in g.attrs:
                    self.bad("/config", f"attribute {k} does not belong to a {c['task']} run")
                continue
            if k not in g.attrs:
                self.bad("/config", f"missing attribute {k} (a mnist run has it)")
                return False
            c[k] = self.attr(g, k, kind)
            if c[k] is None:
                return False
        return True

    def check_mnist_config(self, c):
        """The image task: its own ranges; p is the class count."""
        ranges = [
            (c["p"] == MNIST_CLASSES, f"p must be the {MNIST_CLASSES} classes"),
            (c["model"] == "mlp" and c["d_embed"] == 0, "the model must be the MLP on pixels (d_embed 0)"),
            (len(c["data_dir"]) > 0, "data_dir must name a directory"),
            (1 <= c["n_train"] <= c["train_size"], "n_train must lie in 1..train_size"),
            (1 <= c["n_test"] <= c["test_size"], "n_test must lie in 1..test_size"),
            (c["lr"] > 0 and c["wd"] >= 0 and c["epochs"] >= 1 and c["every"] >= 1,
             "lr, wd, epochs, every out of range"),
        ]
        for ok, msg in ranges:
            if not ok:
                self.bad("/config", f"task mnist: {msg}")
        if not all(ok for ok, _ in ranges):
            return None
        c["shapes"] = dict(param_shapes(c))
        c["P"] = sum(int(np.prod(s)) for s in c["shapes"].values())
        c["pairs"] = c["n_train"] + c["n_test"]
        return c

    def check_model(self, g, c):
        """The 1.3 model fields into c (defaults when absent); False if unusable."""
        c.update(model="transformer", batch=0, n_layers=1)
        present = [k for k in {**MODEL_ATTRS, **MODEL_TRANSFORMER_ATTRS, **MODEL_MLP_ATTRS} if k in g.attrs]
        if getattr(self, "minor", 0) >= 3:
            for k in MODEL_ATTRS:
                if k not in g.attrs:
                    self.bad("/config", f"missing attribute {k} (format 1.3 has it)")
        for k in present:
            kind = {**MODEL_ATTRS, **MODEL_TRANSFORMER_ATTRS, **MODEL_MLP_ATTRS}[k]
            v = self.attr(g, k, kind)
            if v is None:
                return False
            c[k] = v
        if c["model"] not in MODELS:
            self.bad("/config", f"model {c['model']!r} is not one of {', '.join(MODELS)}")
            return False
        own = MODEL_TRANSFORMER_ATTRS if c["model"] == "transformer" else MODEL_MLP_ATTRS
        other = MODEL_MLP_ATTRS if c["model"] == "transformer" else MODEL_TRANSFORMER_ATTRS
        for k in other:
            if k in g.attrs:
                self.bad("/config", f"attribute {k} does not belong to a {c['model']} run")
        if "model" in g.attrs:
            for k in own:
                if k not in g.attrs:
                    self.bad("/config", f"missing attribute {k} (a {c['model']} run has it)")
                    return False
        ok = c["batch"] >= 0 and 1 <= c["n_layers"] <= MAX_LAYERS
        if c["model"] == "mlp":
            try:
                c["hidden"] = [int(w) for w in c["hidden"].split(",")]
            except ValueError:
                c["hidden"] = []
            ok = ok and 1 <= len(c["hidden"]) <= MAX_HIDDEN and min(c["hidden"]) >= 1
            ok = ok and c["act"] in ACTS and c["bias"] in (0, 1) and c["d_embed"] >= 0
        if not ok:
            self.bad("/config", "model fields out of range: " + ", ".join(
                f"{k}={c[k]}" for k in present))
        return ok

    @staticmethod
    def config_line(c):
        return ", ".join(f"{k}={c[k]}" for k in ("p", "op", "frac", "d_model", "n_heads", "d_head",
                                                  "d_mlp", "lr", "wd", "beta1", "beta2", "eps",
                                                  "warmup", "epochs", "every", "stop_test_loss"))

    def check_checkpoints(self, f, cfg):
        """Returns the committed checkpoint epochs (possibly empty), or None."""
        g = self.group(f, "checkpoints")
        if g is None:
            return None
        ep = self.read_all(self.dataset(g, "epoch", I64, (None,), fill=-1,
                                        chunk=(SERIES_CHUNK,)))
        if ep is None:
            return None
        n = len(ep)
        if n and ep[-1] == -1:
            self.bad("/checkpoints/epoch", "ends in rows never written (-1): a checkpoint "
                     "that was not committed; `grokscope train --resume` trims it")
            ep = ep[ep != -1]
        if len(ep) and ep[0] != 0:
            self.bad("/checkpoints/epoch", f"starts at {ep[0]}, expected 0 (the initialization)")
        if np.any(np.diff(ep) <= 0):
            i = int(np.argmax(np.diff(ep) <= 0))
            self.bad("/checkpoints/epoch", f"not strictly increasing: row {i + 1} is {ep[i + 1]} after {ep[i]}")
        if len(ep) and ep[-1] > cfg["epochs"]:
            self.bad("/checkpoints/epoch", f"last epoch {ep[-1]} is beyond /config epochs {cfg['epochs']}")
        for key, shape in cfg["shapes"].items():
            d = self.dataset(g, key, F32, (n,) + shape, chunk=(1,) + shape)
            self.read_all(d)
        return ep

    def check_data(self, f, cfg):
        g = self.group(f, "data")
        if g is None:
            return
        p = cfg["p"]
        # the page sets no chunk size for the split: any chunking will do
        tr = self.read_all(self.dataset(g, "train_idx", I32, (cfg["n_train"],)))
        te = self.read_all(self.dataset(g, "test_idx", I32, (cfg["n_test"],)))
        if tr is None or te is None:
            return
        if cfg["task"] == "mnist":
            # image indices: the training set's and the test set's, each in its own file
            for name, idx, n in (("train_idx", tr, cfg["train_size"]), ("test_idx", te, cfg["test_size"])):
                if np.any((idx < 0) | (idx >= n)):
                    self.bad(f"/data/{name}", f"an image index is outside 0..{n - 1}")
                elif len(np.unique(idx)) != len(idx):
                    self.bad(f"/data/{name}", "an image appears twice")
            return
        both = np.concatenate([tr, te]).astype(np.int64)
        valid = (both >= 0) & (both < p * p)
        if cfg["op"] == "div":
            valid &= both % p != 0
        if not valid.all():
            i = int(np.argmin(valid))
            self.bad("/data", f"pair index {both[i]} is not a pair a*p + b of this task")
        elif len(np.unique(both)) != len(both):
            self.bad("/data", "a pair appears twice in train_idx and test_idx")

    def check_metrics(self, f, ckpt):
        g = self.group(f, "metrics")
        if g is None:
            return
        names = METRICS + [m for m in METRICS_1_3 if m in g or getattr(self, "minor", 0) >= 3]
        cols = {m: self.read_all(self.dataset(g, m, I64 if m == "epoch" else F64, (None,),
                                              chunk=(METRIC_CHUNK,)))
                for m in names}
        lengths = {m: len(v) for m, v in cols.items() if v is not None}
        if len(set(lengths.values())) > 1:
            self.bad("/metrics", "datasets differ in length: " +
                     ", ".join(f"{m} {n}" for m, n in lengths.items()))
        ep = cols["epoch"]
        if ep is not None:
            if not np.array_equal(ep, np.arange(len(ep))):
                i = int(np.argmax(ep != np.arange(len(ep))))
                self.bad("/metrics/epoch", f"row {i} holds {ep[i]}, expected {i}")
            if ckpt is not None and len(ckpt) and len(ep) != ckpt[-1] + 1:
                self.bad("/metrics", f"{len(ep)} rows, expected {ckpt[-1] + 1} (up to the last "
                         f"checkpoint, epoch {ckpt[-1]})")
            if ckpt is not None and not len(ckpt) and len(ep):
                self.bad("/metrics", f"{len(ep)} rows but no committed checkpoint")

    def check_resume(self, f, cfg, ckpt):
        g = self.group(f, "resume")
        if g is None:
            return
        P = cfg["P"]
        for name in ("adam_m", "adam_v"):
            d = self.dataset(g, name, F32, (2, P), chunk=(1, min(P, FLAT_CHUNK)), in_place=True)
            if d is not None:
                keys = self.attr(d, "keys", STR)
                want = " ".join(cfg["shapes"])
                if keys is not None and keys != want:
                    self.bad(d.name, f"attribute keys is {keys!r}, expected {want!r}")
                self.read_all(d)
        rows = {"ema": 1, "ma": cfg["gf_window"]}.get(cfg["grokfast"], 0)
        if rows:   # the Grokfast filter's state, since 1.3, exactly when the run has one
            d = self.dataset(g, "grokfast", F32, (2, rows, P), chunk=(1, 1, min(P, FLAT_CHUNK)),
                             in_place=True)
            if d is not None:
                keys = self.attr(d, "keys", STR)
                want = " ".join(cfg["shapes"])
                if keys is not None and keys != want:
                    self.bad(d.name, f"attribute keys is {keys!r}, expected {want!r}")
                self.read_all(d)
        elif "grokfast" in g:
            self.bad("/resume/grokfast", "present, but /config grokfast is none")
            self.known_objects.add("/resume/grokfast")
        step = self.read_all(self.dataset(g, "step", I64, (2,), chunk=(2,), in_place=True))
        epoch = self.read_all(self.dataset(g, "epoch", I64, (2,), chunk=(2,), fill=-1, in_place=True))
        if step is None or epoch is None or ckpt is None or not len(ckpt):
            return
        last = ckpt[-1]
        slots = [s for s in (0, 1) if epoch[s] == last]
        if len(slots) != 1:
            self.bad("/resume/epoch", f"{list(epoch)}: expected exactly one slot for the last checkpoint, epoch {last}")
            return
        s = slots[0]
        if step[s] != last:
            self.bad("/resume/step", f"slot {s} has taken {step[s]} steps, but holds checkpoint epoch {last}")
        other = epoch[1 - s]
        if other != -1 and other not in ckpt[:-1]:
            self.bad("/resume/epoch", f"slot {1 - s} belongs to epoch {other}, which is no earlier checkpoint")

    def check_status(self, f, cfg, ckpt):
        self.known_objects.add("/status")
        st = self.read_all(self.dataset(f, "status", I64, (2,), chunk=(2,), in_place=True))
        if st is None or ckpt is None:
            return
        code, at = int(st[0]), int(st[1])
        last = int(ckpt[-1]) if len(ckpt) else 0
        rules = {0: (0 <= at <= last, f"running at epoch {at}, beyond the last checkpoint {last}"),
                 1: (at == last, f"finished at epoch {at}, but the last checkpoint is {last}"),
                 2: (at == last, f"stopped early at epoch {at}, but the last checkpoint is {last}"),
                 3: (at >= last, f"diverged at epoch {at}, before the last checkpoint {last}")}
        if code not in rules:
            self.bad("/status", f"status code {code} is not 0..3")
        elif not rules[code][0]:
            self.bad("/status", rules[code][1])

    def check_analysis(self, f, cfg, ckpt):
        g = self.group(f, "analysis", {k: t for k, (t, _) in ANALYSIS_OPTIONAL.items()})
        if g is None:
            return
        p = cfg["p"]
        M = cfg["hidden"][0] if cfg["model"] == "mlp" else cfg["d_mlp"]   # the probed neurons
        for k, (kind, since) in ANALYSIS_OPTIONAL.items():
            if k in g.attrs:
                v = self.attr(g, k, kind)
                if k == "model_measures":
                    want = "all:" if cfg["model"] == "transformer" else cfg["model"] + ":"
                    want = "mnist:" if cfg["task"] == "mnist" else want
                    if v is not None and not v.startswith(want):
                        self.bad("/analysis", f"{k} = {v!r} does not begin {want!r} (model {cfg['model']})")
                elif cfg["task"] == "mnist":
                    if v is not None and not v.startswith("none"):
                        self.bad("/analysis", f"{k} = {v!r}: images have no Fourier circuit")
                elif v is not None and v.startswith("none") == has_circuit(cfg["op"], p):
                    self.bad("/analysis", f"{k} = {v!r}: op {cfg['op']} with p = {p} "
                             f"{'has' if has_circuit(cfg['op'], p) else 'has no'} Fourier circuit")
            elif getattr(self, "minor", 0) >= since:
                self.bad("/analysis", f"missing attribute {k} (format 1.{since} has it)")
        max_rows = max(1, MATRIX_CHUNK_BYTES // (8 * p))
        row_chunk = (min(SERIES_CHUNK, max_rows), p)

        def matrix_chunk(c):
            if c[1] != p or c[0] * p * 8 > MATRIX_CHUNK_BYTES:
                return f"chunks {list(c)}, expected [rows, {p}] of at most {MATRIX_CHUNK_BYTES} bytes"
            return None

        ep = self.read_all(self.dataset(g, "epoch", I64, (None,), chunk=(SERIES_CHUNK,), fill=-1))
        lengths = {}
        for name in AN_SCALARS:
            v = self.read_all(self.dataset(g, name, F64, (None,), chunk=(SERIES_CHUNK,)))
            if v is not None:
                lengths[name] = len(v)
        for name in AN_ROWS:
            v = self.read_all(self.dataset(g, name, F64, (None, p), chunk=row_chunk))
            if v is not None:
                lengths[name] = len(v)
        # 1.3: all or none of them (an analysis adds them all to an older file)
        have = [n for n in AN_SIGNALS + list(AN_SIGNAL_FIXED) if n in g]
        if have or getattr(self, "minor", 0) >= AN_SIGNALS_SINCE:
            for name in AN_SIGNALS:
                v = self.read_all(self.dataset(g, name, F64, (None,), chunk=(SERIES_CHUNK,)))
                if v is not None:
                    lengths[name] = len(v)
            for name, rows in AN_SIGNAL_FIXED.items():
                v = self.read_all(self.dataset(g, name, F64, (rows,), chunk=(rows,)))
                if v is not None and name == "loss_spectrum" and v[0] != 0 and not (v[0] >= 2 and v[0] == int(v[0])):
                    self.bad(f"/analysis/{name}", f"window {v[0]}: expected 0 (not computed) or an epoch count >= 2")
        basis = self.read_all(self.dataset(g, "fourier_basis", F64, (None, p), chunk=matrix_chunk))
        if basis is not None and len(basis) not in (0, p):
            self.bad("/analysis/fourier_basis", f"{len(basis)} rows, expected 0 or p = {p}")
        if ep is not None:
            if len(ep) and ep[-1] == -1:
                self.bad("/analysis/epoch", "ends in rows never written (-1): an analysis that was "
                         "not committed; the next `grokscope analyze` trims it")
                ep = ep[ep != -1]
            for name, n in lengths.items():
                if n != len(ep):
                    self.bad(f"/analysis/{name}", f"{n} rows, but /analysis/epoch has {len(ep)}")
            if ckpt is not None:
                if len(ep) > len(ckpt):
                    self.bad("/analysis/epoch", f"{len(ep)} rows, more than the {len(ckpt)} checkpoints")
                elif not np.array_equal(ep, ckpt[:len(ep)]):
                    i = int(np.argmax(ep != ckpt[:len(ep)]))
                    self.bad("/analysis/epoch", f"row {i} holds {ep[i]}, but checkpoint {i} is epoch {ckpt[i]}")

        # the key frequencies, committed by key_freqs_epoch
        top = p // 2   # docs/run-file.md: key frequencies lie in 1..p/2 (p/2 for even p: cos only)
        keys = self.read_all(self.dataset(g, "key_freqs", I32, (None,), chunk=(SERIES_CHUNK,)))
        kep = self.read_all(self.dataset(g, "key_freqs_epoch", I64, (1,), chunk=(1,), fill=-2))
        nfreq = self.read_all(self.dataset(g, "neuron_freq", I32, (None,), chunk=(M,)))
        nfrac = self.read_all(self.dataset(g, "neuron_frac_explained", F64, (None,), chunk=(M,)))
        for name, v in (("neuron_freq", nfreq), ("neuron_frac_explained", nfrac)):
            if v is not None and len(v) not in (0, M):
                self.bad(f"/analysis/{name}", f"{len(v)} rows, expected 0 or the neuron count {M}")
        if keys is not None and len(keys) > AN_MAX_KEYS:
            self.bad("/analysis/key_freqs", f"{len(keys)} key frequencies, at most {AN_MAX_KEYS}")
        if kep is not None and kep[0] != -2:
            k = int(kep[0])
            if k != -1 and (ckpt is None or k not in ckpt):
                self.bad("/analysis/key_freqs_epoch", f"{k} is neither -1, -2 nor a checkpoint epoch")
            if keys is not None:
                if np.any((keys < 1) | (keys > top)):
                    self.bad("/analysis/key_freqs", f"{list(keys)}: outside 1..{top}")
                elif np.any(np.diff(keys) <= 0):
                    self.bad("/analysis/key_freqs", f"{list(keys)}: not strictly ascending")
            if k != -1 and nfreq is not None and len(nfreq) != M:
                self.bad("/analysis/neuron_freq", "not written although key_freqs_epoch commits the clusters")
        if nfreq is not None and np.any((nfreq != -1) & ((nfreq < 1) | (nfreq > p // 2))):
            self.bad("/analysis/neuron_freq", f"holds values other than -1 and 1..{p // 2}")

        # phase_epochs: 10 rows since 1.1 (three ends, fitted, grokked, four levelling
        # epochs, `through`, which commits the rest); 3 rows (the ends alone, earlier rules)
        # in a file analysed before; a 1.0 file re-analysed grows to 10 rows of its 3-row chunks
        chunk_ok = lambda c: None if tuple(c) in ((3,), (PHASE_ROWS,)) else f"chunks {list(c)}, expected [3] or [{PHASE_ROWS}]"
        ph = self.read_all(self.dataset(g, "phase_epochs", I64, (None,), chunk=chunk_ok, fill=-1))
        if ph is not None and len(ph) not in (3, PHASE_ROWS):
            self.bad("/analysis/phase_epochs", f"{len(ph)} rows, expected {PHASE_ROWS} (or 3 from an earlier grokscope)")
        elif ph is not None:
            last = int(ckpt[-1]) if ckpt is not None and len(ckpt) else -1
            ends = [int(e) for e in ph[:3]]
            through = int(ph[-1]) if len(ph) == PHASE_ROWS else last
            if len(ph) == PHASE_ROWS and through == -1:
                if np.any(ph < -1):
                    self.bad("/analysis/phase_epochs", f"{list(ph)}: values below -1")
            elif through < 0 or through > last:
                self.bad("/analysis/phase_epochs", f"{list(ph)}: phases found through epoch {through}, outside 0..{last} (the last checkpoint)")
            elif any(e < -1 or e > through for e in ph[:len(ph) - (len(ph) == PHASE_ROWS)]):
                self.bad("/analysis/phase_epochs", f"{list(ph)}: an epoch outside -1 and 0..{through}")
            elif any(a == -1 and b != -1 for a, b in zip(ends, ends[1:])):
                self.bad("/analysis/phase_epochs", f"{list(ph)}: a later phase ends before an earlier one")
            elif [e for e in ends if e != -1] != sorted(e for e in ends if e != -1):
                self.bad("/analysis/phase_epochs", f"{list(ph)}: phase ends not in order")

    def check_no_other_objects(self, f):
        if not self.strict_extras:
            return
        extras = []
        try:
            f.visit(lambda name: extras.append("/" + name) if "/" + name not in self.known_objects else None)
        except (KeyError, OSError, RuntimeError) as e:
            self.bad("/", f"cannot list the objects (damaged file?): {str(e).splitlines()[0]}")
        for name in extras:
            # a missing group was reported already; report only the top of an unknown tree
            if not any(name.startswith(e + "/") for e in extras):
                self.bad(name, f"not part of format {MAJOR}.{MINOR}")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 2 if len(argv) < 2 else 0
    status = 0
    for path in argv[1:]:
        problems = Checker(path).run()
        for line in problems:
            print(line)
        if problems:
            status = 1
        else:
            with h5py.File(path, "r") as f:
                n_ck = f["checkpoints/epoch"].shape[0]
                n = f["metrics/epoch"].shape[0]
                an = f"{f['analysis/epoch'].shape[0]} analysed" if "analysis" in f else "no /analysis"
            print(f"ok: {path}: {n_ck} checkpoints, {n} metric rows, {an}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
