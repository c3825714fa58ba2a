"""Lossy WebP encoding of opaque RGB pictures with a third of Pillow's working memory.

Pillow's encoder copies the whole picture into a 4-byte-per-pixel ARGB buffer and libwebp then converts that to
YUV 4:2:0 (1.5 bytes per pixel): while encoding, the decoded picture, the ARGB copy and the YUV planes are all
alive (about 9.5 bytes per pixel, 3.2x the 3-byte RGB picture). Here the YUV planes are filled directly from the
picture in strips of 64 rows (libwebp converts each strip with the same code cwebp and Pillow use), so the encoder
holds only the YUV planes: the output is byte for byte what Pillow writes for the same picture and settings.

It calls the libwebp that Pillow itself ships (``pillow.libs``; or the system one) through ctypes. Anything
unexpected (library missing, an ABI it does not recognise, an image that is not plain RGB) returns ``None`` and the
caller uses Pillow's encoder; ``WEBP_DIRECT_YUV=false`` turns this path off.
"""
from __future__ import annotations

import ctypes
import glob
import os
import struct
import threading

from omcore import config
from omcore.log import get_logger

log = get_logger("images.webp")

_ABI = 0x020F  # WEBP_ENCODER_ABI_VERSION of libwebp 1.1 - 1.6 (only the major byte is checked)
_STRIP_ROWS = 64  # even: chroma is computed from 2x2 blocks, so strips join exactly


class _Config(ctypes.Structure):
    _fields_ = [("lossless", ctypes.c_int), ("quality", ctypes.c_float), ("method", ctypes.c_int),
                ("image_hint", ctypes.c_int), ("target_size", ctypes.c_int), ("target_PSNR", ctypes.c_float)] + \
               [(name, ctypes.c_int) for name in (
                   "segments", "sns_strength", "filter_strength", "filter_sharpness", "filter_type", "autofilter",
                   "alpha_compression", "alpha_filtering", "alpha_quality", "pass_", "show_compressed",
                   "preprocessing", "partitions", "partition_limit", "emulate_jpeg_size", "thread_level",
                   "low_memory", "near_lossless", "exact", "use_delta_palette", "use_sharp_yuv", "qmin", "qmax")] + \
               [("spare", ctypes.c_uint32 * 16)]  # room for fields a later libwebp may add


class _Picture(ctypes.Structure):
    _fields_ = [("use_argb", ctypes.c_int), ("colorspace", ctypes.c_int), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("y", ctypes.c_void_p), ("u", ctypes.c_void_p), ("v", ctypes.c_void_p),
                ("y_stride", ctypes.c_int), ("uv_stride", ctypes.c_int), ("a", ctypes.c_void_p),
                ("a_stride", ctypes.c_int), ("pad1", ctypes.c_uint32 * 2), ("argb", ctypes.c_void_p),
                ("argb_stride", ctypes.c_int), ("pad2", ctypes.c_uint32 * 3), ("writer", ctypes.c_void_p),
                ("custom_ptr", ctypes.c_void_p), ("extra_info_type", ctypes.c_int),
                ("extra_info", ctypes.c_void_p), ("stats", ctypes.c_void_p), ("error_code", ctypes.c_int),
                ("progress_hook", ctypes.c_void_p), ("user_data", ctypes.c_void_p), ("pad3", ctypes.c_uint32 * 3),
                ("pad4", ctypes.c_void_p), ("pad5", ctypes.c_void_p), ("pad6", ctypes.c_uint32 * 8),
                ("memory_", ctypes.c_void_p), ("memory_argb_", ctypes.c_void_p), ("pad7", ctypes.c_void_p * 2),
                ("spare", ctypes.c_uint32 * 16)]


class _Writer(ctypes.Structure):
    _fields_ = [("mem", ctypes.c_void_p), ("size", ctypes.c_size_t), ("max_size", ctypes.c_size_t),
                ("pad", ctypes.c_uint32 * 1)]


_lock = threading.Lock()
_state: dict = {}


def _candidates() -> list[str]:
    import PIL

    bundled = sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs",
                                            "libwebp-*.so*")))
    from ctypes.util import find_library

    system = find_library("webp")
    return bundled + ([system] if system else [])


def _load():
    P, W, c = ctypes.POINTER(_Picture), ctypes.POINTER(_Writer), ctypes
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            if lib.WebPGetEncoderVersion() < 0x010100:  # 1.1.0: the structures above
                continue
            lib.WebPConfigInitInternal.argtypes = [c.POINTER(_Config), c.c_int, c.c_float, c.c_int]
            lib.WebPValidateConfig.argtypes = [c.POINTER(_Config)]
            lib.WebPPictureInitInternal.argtypes = [P, c.c_int]
            lib.WebPPictureAlloc.argtypes = [P]
            lib.WebPPictureFree.argtypes = [P]
            lib.WebPPictureFree.restype = None
            lib.WebPPictureImportRGB.argtypes = [P, c.c_char_p, c.c_int]
            lib.WebPEncode.argtypes = [c.POINTER(_Config), P]
            lib.WebPMemoryWriterInit.argtypes = [W]
            lib.WebPMemoryWriterInit.restype = None
            lib.WebPMemoryWriterClear.argtypes = [W]
            lib.WebPMemoryWriterClear.restype = None
            return lib
        except (OSError, AttributeError):
            continue
    return None


def _library():
    """The checked libwebp, or None (then Pillow encodes). Loaded and self-tested once per process."""
    if "lib" not in _state:
        with _lock:
            if "lib" not in _state:
                lib = _load()
                _state["lib"] = lib
                if lib is not None and not _self_test():
                    _state["lib"] = None
    return _state["lib"]


def _self_test() -> bool:
    """Encode a small picture both ways: the direct path is used only if its output decodes to the same pixels."""
    try:
        import io

        from PIL import Image, ImageChops

        probe = Image.linear_gradient("L").resize((150, 97)).convert("RGB")
        probe.putpixel((3, 5), (250, 10, 10))
        ours = _encode(_state["lib"], probe, 80.0, 1, None)
        theirs = io.BytesIO()
        probe.save(theirs, "WEBP", quality=80, method=1)
        a, b = Image.open(io.BytesIO(ours)), Image.open(io.BytesIO(theirs.getvalue()))
        same = a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None
        if not same:
            log.warning("direct WebP encoding differs from Pillow's; using Pillow's encoder")
        return same
    except Exception as exc:  # noqa: BLE001 - any doubt: Pillow's encoder
        log.warning("direct WebP encoding unavailable (%s); using Pillow's encoder", type(exc).__name__)
        return False


def _encode(lib, img, quality: float, method: int, icc: bytes | None) -> bytes:
    width, height = img.size
    cfg = _Config()
    if not lib.WebPConfigInitInternal(ctypes.byref(cfg), 0, ctypes.c_float(quality), _ABI):
        raise OSError("libwebp refused its configuration (ABI)")
    cfg.lossless, cfg.quality, cfg.method, cfg.alpha_quality, cfg.exact = 0, float(quality), int(method), 100, 0
    if not lib.WebPValidateConfig(ctypes.byref(cfg)):
        raise ValueError("invalid WebP settings")
    pic, strip = _Picture(), _Picture()
    if not (lib.WebPPictureInitInternal(ctypes.byref(pic), _ABI)
            and lib.WebPPictureInitInternal(ctypes.byref(strip), _ABI)):
        raise OSError("libwebp refused its picture (ABI)")
    writer = _Writer()
    lib.WebPMemoryWriterInit(ctypes.byref(writer))
    try:
        pic.use_argb, pic.width, pic.height = 0, width, height
        if not lib.WebPPictureAlloc(ctypes.byref(pic)):
            raise MemoryError("cannot allocate the WebP picture")
        for top in range(0, height, _STRIP_ROWS):
            rows = min(_STRIP_ROWS, height - top)
            rgb = img.crop((0, top, width, top + rows)).tobytes()  # packed RGB, 3 bytes a pixel
            strip.use_argb, strip.width, strip.height = 0, width, rows
            if not lib.WebPPictureImportRGB(ctypes.byref(strip), rgb, 3 * width):
                raise MemoryError("cannot convert a strip to YUV")
            if strip.y_stride != pic.y_stride or strip.uv_stride != pic.uv_stride:
                raise OSError("unexpected plane layout")
            ctypes.memmove(pic.y + top * pic.y_stride, strip.y, pic.y_stride * rows)
            chroma_rows = (rows + 1) // 2
            for plane in ("u", "v"):
                ctypes.memmove(getattr(pic, plane) + (top // 2) * pic.uv_stride, getattr(strip, plane),
                               pic.uv_stride * chroma_rows)
        lib.WebPPictureFree(ctypes.byref(strip))
        pic.writer = ctypes.cast(lib.WebPMemoryWrite, ctypes.c_void_p).value
        pic.custom_ptr = ctypes.addressof(writer)
        if not lib.WebPEncode(ctypes.byref(cfg), ctypes.byref(pic)):
            raise OSError(f"WebP encoding failed (libwebp error {pic.error_code})")
        data = ctypes.string_at(writer.mem, writer.size)
    finally:
        lib.WebPPictureFree(ctypes.byref(strip))
        lib.WebPPictureFree(ctypes.byref(pic))
        lib.WebPMemoryWriterClear(ctypes.byref(writer))
    return _with_icc(data, icc, width, height) if icc else data


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def _with_icc(data: bytes, icc: bytes, width: int, height: int) -> bytes:
    """The simple-format file (RIFF/WEBP/VP8) as an extended one (VP8X + ICCP + VP8) carrying the ICC profile."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or data[12:16] != b"VP8 ":
        raise OSError("unexpected WebP container")
    vp8x = bytes([0x20, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + _chunk(b"VP8X", vp8x) + _chunk(b"ICCP", icc) + data[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def encode(img, quality: float, method: int, icc: bytes | None = None) -> bytes | None:
    """WebP bytes of an RGB picture, or None when this path cannot be used (the caller then uses Pillow)."""
    if img.mode != "RGB" or not config.get_bool("WEBP_DIRECT_YUV"):
        return None
    lib = _library()
    if lib is None:
        return None
    return _encode(lib, img, quality, method, icc)
