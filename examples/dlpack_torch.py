#!/usr/bin/env python3
"""DLPack both ways between Ember (libafcuda.so.3, through ctypes) and PyTorch, zero-copy.

    python3 examples/dlpack_torch.py [path/to/libafcuda.so.3]

The library path is the first argument, else $EMBER_LIB, else ./build-gpu/libafcuda.so.3.

(a) Ember to torch. An Ember array is exported with af_dlpack_export inside a small producer
    object whose __dlpack__ returns a PyCapsule named "dltensor_versioned" (or, for a consumer
    that asks for the legacy protocol, a "dltensor" capsule holding a DLManagedTensor built from
    the versioned one). torch.from_dlpack takes it; the values must equal what af_get_data_ptr
    reads, the tensor must share Ember's memory, and Ember's deleter must run exactly once, when
    torch lets the tensor go.
(b) Torch to Ember. A torch tensor computed on a side stream (behind a GPU sleep, so that a missing
    stream hand-off reads unfinished data) is exported by torch, the capsule renamed "used_..." as
    the protocol requires, and imported with af_dlpack_import (versioned; torch makes Ember's
    stream wait) and af_dlpack_import_legacy (legacy; Ember makes its stream wait for torch's).
    The values read through Ember must match, the import must not copy, and torch's deleter must
    run exactly once, when the Ember array is released.

Deleters are counted by replacing the tensor's deleter pointer with a ctypes callback that counts
and then calls the original. Prints PASS or FAIL; exits 1 on failure, 77 when torch or a CUDA
device is unavailable.
"""

import ctypes
import gc
import os
import sys
import traceback
from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_int32, c_int64, c_uint, c_uint8
from ctypes import c_uint16, c_uint32, c_uint64, c_void_p

SKIP = 77
F32 = 0  # af_dtype f32
KDL_CPU = 1
KDL_CUDA = 2

# ---- DLPack 1.x ABI, as include/af/dlpack.h declares it ----


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", c_uint32), ("minor", c_uint32)]


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", c_int32), ("device_id", c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", c_uint8), ("bits", c_uint8), ("lanes", c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", c_void_p),
        ("device", DLDevice),
        ("ndim", c_int32),
        ("dtype", DLDataType),
        ("shape", POINTER(c_int64)),
        ("strides", POINTER(c_int64)),
        ("byte_offset", c_uint64),
    ]


class DLManagedTensorVersioned(ctypes.Structure):
    pass


DeleterVersioned = ctypes.CFUNCTYPE(None, POINTER(DLManagedTensorVersioned))
DLManagedTensorVersioned._fields_ = [
    ("version", DLPackVersion),
    ("manager_ctx", c_void_p),
    ("deleter", DeleterVersioned),
    ("flags", c_uint64),
    ("dl_tensor", DLTensor),
]


class DLManagedTensor(ctypes.Structure):
    pass


DeleterLegacy = ctypes.CFUNCTYPE(None, POINTER(DLManagedTensor))
DLManagedTensor._fields_ = [
    ("dl_tensor", DLTensor),
    ("manager_ctx", c_void_p),
    ("deleter", DeleterLegacy),
]

DLPACK_FLAG_BITMASK_READ_ONLY = 1 << 0

# ---- PyCapsule, through the C API ----
# The capsule keeps the name pointer it is given, so the names are module constants that live as
# long as the interpreter.
NAME_VERSIONED = b"dltensor_versioned"
NAME_USED_VERSIONED = b"used_dltensor_versioned"
NAME_LEGACY = b"dltensor"
NAME_USED_LEGACY = b"used_dltensor"

_api = ctypes.pythonapi
_capsule_new = ctypes.PYFUNCTYPE(ctypes.py_object, c_void_p, c_char_p, c_void_p)(
    ("PyCapsule_New", _api))
_capsule_get_pointer = ctypes.PYFUNCTYPE(c_void_p, ctypes.py_object, c_char_p)(
    ("PyCapsule_GetPointer", _api))
_capsule_set_name = ctypes.PYFUNCTYPE(c_int, ctypes.py_object, c_char_p)(
    ("PyCapsule_SetName", _api))
_capsule_is_valid = ctypes.PYFUNCTYPE(c_int, ctypes.py_object, c_char_p)(
    ("PyCapsule_IsValid", _api))
# The destructor receives a borrowed PyObject * of a capsule being destroyed: raw pointers only.
_raw_is_valid = ctypes.PYFUNCTYPE(c_int, c_void_p, c_char_p)(("PyCapsule_IsValid", _api))
_raw_get_pointer = ctypes.PYFUNCTYPE(c_void_p, c_void_p, c_char_p)(("PyCapsule_GetPointer", _api))

# ctypes callbacks handed to C must stay alive as long as C may call them: they are kept here for
# the life of the program.
_KEEP = []


def _capsule_destructor(capsule):
    """A capsule that no consumer took still owns its tensor: free it, as the protocol says. A
    consumed capsule has been renamed "used_..." and is left alone."""
    for name, kind in ((NAME_VERSIONED, DLManagedTensorVersioned), (NAME_LEGACY, DLManagedTensor)):
        if _raw_is_valid(capsule, name):
            managed = ctypes.cast(_raw_get_pointer(capsule, name), POINTER(kind))
            if managed.contents.deleter:
                managed.contents.deleter(managed)
            return


_DESTRUCTOR = ctypes.CFUNCTYPE(None, c_void_p)(_capsule_destructor)


def make_capsule(managed, name):
    return _capsule_new(ctypes.cast(managed, c_void_p), name, ctypes.cast(_DESTRUCTOR, c_void_p))


class Counter:
    def __init__(self):
        self.calls = 0


def count_deleter(managed, deleter_type, counter):
    """Replaces managed.deleter with a callback that counts, then calls the original."""
    # The original is rebuilt from the pointer's value: reading the field would give a function
    # object that aliases the field's memory, and would call the replacement (itself) instead.
    field = type(managed.contents).deleter.offset
    address = c_void_p.from_address(ctypes.addressof(managed.contents) + field).value
    original = deleter_type(address) if address else None

    def counted(self_ptr):
        counter.calls += 1
        if original:
            original(self_ptr)

    callback = deleter_type(counted)
    _KEEP.append(callback)
    managed.contents.deleter = callback


# ---- Ember through ctypes ----


class EmberError(RuntimeError):
    pass


def load_ember(path):
    lib = ctypes.CDLL(path)
    protos = {
        "af_get_device_count": [POINTER(c_int)],
        "af_get_device": [POINTER(c_int)],
        "af_info": [],
        "af_sync": [c_int],
        "af_randu": [POINTER(c_void_p), c_uint, POINTER(c_int64), c_int],
        "af_get_data_ptr": [c_void_p, c_void_p],
        "af_get_dims": [POINTER(c_int64)] * 4 + [c_void_p],
        "af_release_array": [c_void_p],
        "af_get_last_error": [POINTER(c_void_p), POINTER(c_int64)],
        "af_free_host": [c_void_p],
        "af_dlpack_export": [POINTER(POINTER(DLManagedTensorVersioned)), c_void_p, c_void_p],
        "af_dlpack_import": [POINTER(c_void_p), POINTER(DLManagedTensorVersioned), c_void_p,
                             POINTER(c_bool)],
        "af_dlpack_import_legacy": [POINTER(c_void_p), POINTER(DLManagedTensor), c_void_p,
                                    POINTER(c_bool)],
    }
    for name, args in protos.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = c_int
    return lib


def load_cuda_extras(lib):
    """afcu_* exist only in the CUDA backend's library."""
    for name, args in {
        "afcu_get_stream": [POINTER(c_void_p), c_int],
        "afcu_get_native_id": [POINTER(c_int), c_int],
        "afcu_set_native_id": [c_int],
    }.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = c_int


def check(lib, err, what):
    if err == 0:
        return
    msg = c_void_p()
    length = c_int64(0)
    text = ""
    if lib.af_get_last_error(byref(msg), byref(length)) == 0 and msg.value:
        text = ctypes.string_at(msg.value).decode(errors="replace")
        lib.af_free_host(msg)
    raise EmberError("%s failed: error %d: %s" % (what, err, text))


def ember_dims(lib, arr):
    d = [c_int64(0) for _ in range(4)]
    check(lib, lib.af_get_dims(*[byref(x) for x in d], arr), "af_get_dims")
    return tuple(x.value for x in d)


class EmberDLPack:
    """A DLPack producer over one Ember array: exports it when the consumer asks."""

    def __init__(self, lib, arr, device, counter):
        self.lib = lib
        self.arr = arr
        self.device = device  # (DLDeviceType, device id)
        self.counter = counter
        self.data = None
        self.protocol = None

    def __dlpack_device__(self):
        return self.device

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None, **_):
        if copy:
            raise BufferError("this producer exports without copying only")
        if dl_device is not None and tuple(dl_device) != tuple(self.device):
            raise BufferError("this producer exports on its own device only")
        # The consumer's stream: None or -1 asks for no hand-off; otherwise it is a cudaStream_t
        # (1 is the legacy default stream, cudaStreamLegacy, which the CUDA runtime takes as is)
        # that Ember makes wait for its pending work, through an event. 0 is ambiguous and the
        # protocol forbids it for CUDA.
        if stream == 0 and self.device[0] == KDL_CUDA:
            raise BufferError("stream 0 is ambiguous on CUDA; pass 1 for the legacy stream")
        handoff = None if stream is None or stream == -1 else stream
        managed = POINTER(DLManagedTensorVersioned)()
        check(self.lib, self.lib.af_dlpack_export(byref(managed), self.arr, handoff),
              "af_dlpack_export")
        count_deleter(managed, DeleterVersioned, self.counter)
        self.data = managed.contents.dl_tensor.data
        if max_version is not None and max_version[0] >= 1:
            self.protocol = "versioned"
            return make_capsule(managed, NAME_VERSIONED)
        self.protocol = "legacy"
        return make_capsule(legacy_from_versioned(managed), NAME_LEGACY)


# Legacy tensors built by legacy_from_versioned, alive until their deleter runs.
_LEGACY_LIVE = {}


def legacy_from_versioned(versioned):
    """A DLManagedTensor over the same data, for a consumer that only reads the legacy form. Its
    deleter calls the versioned tensor's deleter (so Ember's runs once) and then lets go of the
    legacy struct. The shape and strides arrays belong to the versioned tensor and live until its
    deleter runs, which is exactly as long as the legacy tensor needs them."""
    legacy = DLManagedTensor()
    ctypes.memmove(byref(legacy.dl_tensor), byref(versioned.contents.dl_tensor),
                   ctypes.sizeof(DLTensor))
    legacy.manager_ctx = None
    key = ctypes.addressof(legacy)

    def deleter(_self_ptr):
        inner = versioned.contents.deleter
        if inner:
            inner(versioned)
        _LEGACY_LIVE.pop(key, None)

    callback = DeleterLegacy(deleter)
    _KEEP.append(callback)
    legacy.deleter = callback
    _LEGACY_LIVE[key] = legacy
    return ctypes.pointer(legacy)


# ---- the checks ----


class Report:
    def __init__(self):
        self.failures = 0

    def check(self, cond, what):
        print("  %s: %s" % ("ok  " if cond else "FAIL", what))
        if not cond:
            self.failures += 1
        return cond


def column_major(t):
    """The elements of t in Ember's order (dim 0 fastest), on the host."""
    return t.detach().cpu().permute(*reversed(range(t.dim()))).reshape(-1)


def ember_to_torch(torch, lib, native, report):
    print("(a) Ember -> torch (af_dlpack_export, torch.from_dlpack)")
    dims = (c_int64 * 2)(5, 7)
    arr = c_void_p()
    check(lib, lib.af_randu(byref(arr), 2, dims, F32), "af_randu")
    host = torch.empty(5 * 7, dtype=torch.float32)
    check(lib, lib.af_get_data_ptr(c_void_p(host.data_ptr()), arr), "af_get_data_ptr")

    counter = Counter()
    producer = EmberDLPack(lib, arr, (KDL_CUDA, native), counter)
    tensor = torch.from_dlpack(producer)
    # The tensor holds its own reference to Ember's buffer, so Ember's handle can go at once.
    check(lib, lib.af_release_array(arr), "af_release_array")
    producer.arr = None
    print("  torch asked for the %s protocol" % producer.protocol)

    report.check(tensor.device.type == "cuda" and tensor.device.index == native,
                 "tensor on cuda:%d (%s)" % (native, tensor.device))
    report.check(tuple(tensor.shape) == (5, 7) and tuple(tensor.stride()) == (1, 5),
                 "shape %s, strides %s (Ember's column-major layout)"
                 % (tuple(tensor.shape), tuple(tensor.stride())))
    report.check(tensor.dtype == torch.float32, "dtype %s" % tensor.dtype)
    report.check(tensor.data_ptr() == producer.data, "zero-copy: the tensor's data is Ember's")
    report.check(torch.equal(column_major(tensor), host),
                 "values equal af_get_data_ptr's after Ember's handle was released")
    total = float(tensor.sum())
    report.check(abs(total - float(host.double().sum())) <= 1e-4 * 35,
                 "torch computes on it (sum %.6f)" % total)
    report.check(counter.calls == 0, "Ember's deleter not run while torch holds the tensor "
                 "(%d calls)" % counter.calls)
    del tensor
    gc.collect()
    torch.cuda.synchronize()
    report.check(counter.calls == 1, "Ember's deleter ran exactly once after torch released the "
                 "tensor (%d calls)" % counter.calls)


def gpu_delay(torch):
    """Keeps the current stream busy for tens of milliseconds, so that work queued after it on
    that stream is visibly late to a reader that does not wait for it."""
    if hasattr(torch.cuda, "_sleep"):
        torch.cuda._sleep(100 * 1000 * 1000)


def import_and_check(torch, lib, report, source, producer_stream, managed, versioned, stream,
                     counter):
    """Imports a torch DLPack tensor into Ember, checks it, releases it."""
    arr = c_void_p()
    copied = c_bool(True)
    if versioned:
        err = lib.af_dlpack_import(byref(arr), managed, stream, byref(copied))
    else:
        err = lib.af_dlpack_import_legacy(byref(arr), managed, stream, byref(copied))
    if err != 0:
        # On failure the tensor is still the caller's: hand it back to torch.
        managed.contents.deleter(managed)
        check(lib, err, "af_dlpack_import" if versioned else "af_dlpack_import_legacy")
    try:
        want_dims = tuple(source.shape) + (1,) * (4 - source.dim())
        got_dims = ember_dims(lib, arr)
        report.check(got_dims == want_dims, "Ember dims %s" % (got_dims,))
        report.check(not copied.value, "zero-copy import (copied = %s)" % copied.value)
        host = torch.empty(source.numel(), dtype=torch.float32)
        check(lib, lib.af_get_data_ptr(c_void_p(host.data_ptr()), arr), "af_get_data_ptr")
        # Ember has read the data in its own stream order; torch's copy of the reference runs on
        # torch's default stream, which is not ordered after the side stream that made it.
        producer_stream.synchronize()
        report.check(torch.equal(host, column_major(source)),
                     "values read through Ember equal the torch tensor's")
        report.check(counter.calls == 0, "torch's deleter not run while Ember holds the array "
                     "(%d calls)" % counter.calls)
    finally:
        check(lib, lib.af_release_array(arr), "af_release_array")
    report.check(counter.calls == 1, "torch's deleter ran exactly once at af_release_array "
                 "(%d calls)" % counter.calls)


def torch_to_ember(torch, lib, dev, report):
    ember_stream = c_void_p()
    check(lib, lib.afcu_get_stream(byref(ember_stream), dev), "afcu_get_stream")
    side = torch.cuda.Stream()

    print("(b1) torch -> Ember, versioned (__dlpack__(stream=Ember's, max_version=(1, 0)), "
          "af_dlpack_import)")
    with torch.cuda.stream(side):
        gpu_delay(torch)
        x = torch.arange(3 * 4 * 5, device="cuda", dtype=torch.float32).reshape(3, 4, 5) * 0.5 + 1
        try:
            # torch makes Ember's stream wait for the side stream, where x is computed.
            capsule = x.__dlpack__(stream=ember_stream.value, max_version=(1, 0))
        except TypeError:
            capsule = None
    if capsule is None or not _capsule_is_valid(capsule, NAME_VERSIONED):
        print("  this torch does not export versioned tensors; skipped")
        if capsule is not None:
            del capsule
    else:
        managed = ctypes.cast(_capsule_get_pointer(capsule, NAME_VERSIONED),
                              POINTER(DLManagedTensorVersioned))
        # The consumer owns the tensor now; torch's capsule destructor must leave it alone.
        _capsule_set_name(capsule, NAME_USED_VERSIONED)
        del capsule
        counter = Counter()
        count_deleter(managed, DeleterVersioned, counter)
        report.check(managed.contents.version.major == 1,
                     "torch's tensor is DLPack %d.%d" % (managed.contents.version.major,
                                                         managed.contents.version.minor))
        report.check(not managed.contents.flags & DLPACK_FLAG_BITMASK_READ_ONLY,
                     "not marked read-only")
        import_and_check(torch, lib, report, x, side, managed, True, None, counter)

    print("(b2) torch -> Ember, legacy (to_dlpack, af_dlpack_import_legacy with torch's stream)")
    with torch.cuda.stream(side):
        gpu_delay(torch)
        base = torch.arange(4 * 5, device="cuda", dtype=torch.float32).reshape(4, 5) * 0.25 - 2
        y = base.t()  # a strided view: shape (5, 4), strides (1, 5)
        capsule = torch.utils.dlpack.to_dlpack(y)  # no stream hand-off here: Ember does it
    managed = ctypes.cast(_capsule_get_pointer(capsule, NAME_LEGACY), POINTER(DLManagedTensor))
    _capsule_set_name(capsule, NAME_USED_LEGACY)
    del capsule
    counter = Counter()
    count_deleter(managed, DeleterLegacy, counter)
    # Ember's stream waits for torch's side stream, through an event.
    import_and_check(torch, lib, report, y, side, managed, False, side.cuda_stream, counter)
    del base
    torch.cuda.current_stream().wait_stream(side)
    # x and y stay torch's, intact after Ember let them go.
    report.check(float(x.sum()) == float(sum(0.5 * i + 1 for i in range(60))),
                 "torch's x still intact after Ember released it")
    report.check(float(y.sum()) == float(sum(0.25 * i - 2 for i in range(20))),
                 "torch's y still intact after Ember released it")


def main(argv):
    try:
        import torch
        import torch.utils.dlpack
    except ImportError as e:
        print("dlpack_torch: torch is not available (%s), skipped" % e)
        return SKIP
    if not torch.cuda.is_available():
        print("dlpack_torch: torch sees no CUDA device, skipped")
        return SKIP
    path = argv[1] if len(argv) > 1 else os.environ.get("EMBER_LIB",
                                                        "./build-gpu/libafcuda.so.3")
    try:
        lib = load_ember(path)
        load_cuda_extras(lib)
    except (OSError, AttributeError) as e:
        print("dlpack_torch: FAIL: cannot load Ember's CUDA library %s: %s" % (path, e))
        return 1
    count = c_int(0)
    if lib.af_get_device_count(byref(count)) != 0 or count.value < 1:
        print("dlpack_torch: Ember sees no CUDA device, skipped")
        return SKIP

    report = Report()
    try:
        # Ember and torch on the same device: torch's current one.
        native = torch.cuda.current_device()
        check(lib, lib.afcu_set_native_id(native), "afcu_set_native_id")
        dev = c_int(0)
        check(lib, lib.af_get_device(byref(dev)), "af_get_device")
        check(lib, lib.af_info(), "af_info")
        print("dlpack_torch: torch %s, Ember device %d (cuda:%d), %s"
              % (torch.__version__, dev.value, native, path))
        ember_to_torch(torch, lib, native, report)
        torch_to_ember(torch, lib, dev.value, report)
        check(lib, lib.af_sync(dev.value), "af_sync")
        torch.cuda.synchronize()
    except Exception:
        traceback.print_exc()
        report.failures += 1
    gc.collect()
    if report.failures:
        print("dlpack_torch: FAIL (%d checks failed)" % report.failures)
        return 1
    print("dlpack_torch: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
