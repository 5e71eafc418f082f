"""Real media files made on the spot: Pillow images with EXIF, XMP and IPTC, animations,
and short MP4/WebM clips encoded with PyAV."""

from __future__ import annotations

import io
import random
import struct
import zlib
from fractions import Fraction

import av
from PIL import Image, ImageDraw, PngImagePlugin

GPS_XMP = (
    b"http://ns.adobe.com/xap/1.0/\x00"
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'exif:GPSLatitude="52,22.2N" exif:GPSLongitude="4,53.5E"/></rdf:RDF></x:xmpmeta>'
)
PLAIN_XMP = (
    b"http://ns.adobe.com/xap/1.0/\x00"
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'xmp:CreatorTool="Pinsphere tests"/></rdf:RDF></x:xmpmeta>'
)
IPTC = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x5a\x00\x07Haarlem"


def picture(size: tuple[int, int], mode: str = "RGB", seed: int = 1) -> Image.Image:
    """A picture with structure (so orientation and crops are visible) and some noise."""
    width, height = size
    image = Image.new("RGB", size, (200, 60, 40))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height // 2), fill=(30, 90, 220))
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 240, 30))
    rng = random.Random(seed)
    noise = Image.frombytes("L", size, rng.randbytes(width * height))
    image = Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.15)
    return image.convert(mode) if mode != "RGB" else image


def camera_exif(
    *,
    orientation: int | None = None,
    gps: tuple[float, float] | None = (52.37, 4.8925),
    offset: str | None = "+02:00",
    serial: bool = True,
) -> Image.Exif:
    """EXIF as a phone camera writes it: make, model, times, GPS, serial numbers."""
    exif = Image.Exif()
    exif[0x010F] = "Pinsphere Optics"
    exif[0x0110] = "PX-1"
    exif[0x0131] = "firmware 1.0"
    exif[0x8298] = "(c) the owner"
    if orientation is not None:
        exif[0x0112] = orientation
    if serial:
        exif[0x013B] = "Alice Example"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:06 07:08:09"
    if offset:
        sub[0x9011] = offset
    if serial:
        sub[0xA431] = "SN-0042"
        sub[0xA430] = "Alice"
        sub[0x927C] = b"vendor blob with serial SN-0042"
    if gps is not None:
        latitude, longitude = gps
        block = exif.get_ifd(0x8825)
        block[1] = "N" if latitude >= 0 else "S"
        block[2] = _dms(abs(latitude))
        block[3] = "E" if longitude >= 0 else "W"
        block[4] = _dms(abs(longitude))
        block[5] = b"\x00"
        block[6] = Fraction(1234, 10)
    return exif


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round((value - degrees - minutes / 60) * 3600 * 1000), 1000)
    return Fraction(degrees), Fraction(minutes), seconds


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _insert_jpeg_segments(data: bytes, *segments: tuple[int, bytes]) -> bytes:
    """Add APPn segments right after SOI."""
    extra = b"".join(
        bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload
        for marker, payload in segments
    )
    return data[:2] + extra + data[2:]


def camera_jpeg(
    size: tuple[int, int] = (120, 80),
    *,
    orientation: int | None = None,
    gps: tuple[float, float] | None = (52.37, 4.8925),
    offset: str | None = "+02:00",
    serial: bool = True,
    xmp: bytes | None = GPS_XMP,
    iptc: bool = True,
    quality: int = 90,
) -> bytes:
    """A JPEG with camera EXIF, and optionally XMP and IPTC blocks."""
    exif = camera_exif(orientation=orientation, gps=gps, offset=offset, serial=serial)
    data = encode(picture(size), "JPEG", quality=quality, exif=exif)
    segments = []
    if xmp:
        segments.append((0xE1, xmp))
    if iptc:
        segments.append((0xED, IPTC))
    return _insert_jpeg_segments(data, *segments)


def plain_jpeg(size: tuple[int, int] = (120, 80), quality: int = 90) -> bytes:
    return encode(picture(size), "JPEG", quality=quality)


def camera_png(size: tuple[int, int] = (90, 60), *, alpha: bool = False) -> bytes:
    """A PNG with an eXIf chunk and text chunks (one of them a location)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Canal at dusk")
    info.add_text("Location", "Herengracht, Amsterdam")
    info.add_itxt("XML:com.adobe.xmp", GPS_XMP.split(b"\x00", 1)[1].decode())
    image = picture(size, "RGBA" if alpha else "RGB")
    if alpha:
        image.putalpha(Image.linear_gradient("L").resize(size))
    return encode(image, "PNG", exif=camera_exif(), pnginfo=info)


def camera_webp(size: tuple[int, int] = (90, 60)) -> bytes:
    """A lossless WebP with EXIF (GPS) and an XMP packet mentioning GPS."""
    xmp = GPS_XMP.split(b"\x00", 1)[1]
    return encode(picture(size), "WEBP", lossless=True, exif=camera_exif(), xmp=xmp)


def animated_gif(size: tuple[int, int] = (60, 40), frames: int = 5, delay_ms: int = 80) -> bytes:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    images = [Image.new("RGB", size, colours[index % 5]) for index in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=delay_ms)


def animated_webp(size: tuple[int, int] = (60, 40), frames: int = 4, delay_ms: int = 100) -> bytes:
    images = [Image.new("RGB", size, (index * 60, 100, 200)) for index in range(frames)]
    return encode(
        images[0], "WEBP", save_all=True, append_images=images[1:], duration=delay_ms, lossless=True
    )


def animated_png(size: tuple[int, int] = (30, 20), frames: int = 3, delay_ms: int = 50) -> bytes:
    images = [Image.new("RGB", size, (index * 80, 0, 0)) for index in range(frames)]
    return encode(images[0], "PNG", save_all=True, append_images=images[1:], duration=delay_ms)


def video(
    fmt: str = "mp4",
    codec: str = "libx264",
    *,
    size: tuple[int, int] = (64, 48),
    frames: int = 10,
    rate: int = 10,
    colour_at: object = None,
) -> bytes:
    """A short clip; ``colour_at(index)`` gives each frame's colour."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = rate
        for index in range(frames):
            colour = colour_at(index) if callable(colour_at) else (40 + index * 20 % 200, 90, 60)
            frame = av.VideoFrame.from_image(Image.new("RGB", size, colour))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def audio_only(fmt: str = "mp4", codec: str = "aac", frames: int = 20) -> bytes:
    """A clip with one silent audio stream and no video."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=48000)
        stream.layout = "mono"
        pts = 0
        for _ in range(frames):
            frame = av.AudioFrame(format="fltp", layout="mono", samples=960)
            frame.planes[0].update(bytes(960 * 4))
            frame.sample_rate = 48000
            frame.pts = pts
            pts += 960
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


# -- hostile files ------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small, well-formed PNG declaring a huge canvas."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


def gif_frames(count: int, size: int = 1) -> bytes:
    """A GIF of ``count`` one-pixel frames, written block by block (Pillow would be slow)."""
    head = b"GIF89a" + struct.pack("<HHBBB", size, size, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (
        b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"  # LZW min code size 2, one sub-block, terminator
    )
    return head + loop + frame * count + b"\x3b"


def gif_bomb() -> bytes:
    """A GIF whose logical screen is 65535x65535 pixels."""
    data = bytearray(gif_frames(1))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def webp_bomb() -> bytes:
    """A WebP whose VP8X canvas is 16384x16384 pixels."""
    vp8x = bytes((0x10, 0, 0, 0)) + (16383).to_bytes(3, "little") * 2
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_bomb() -> bytes:
    """A real small JPEG whose frame header is patched to claim 65000x65000 pixels."""
    data = bytearray(plain_jpeg((16, 16)))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def apng_frame_bomb(frames: int = 10_000_000) -> bytes:
    """An APNG declaring ten million frames."""
    data = animated_png(frames=2)
    actl = data.find(b"acTL") - 4
    patched = png_chunk(b"acTL", struct.pack(">II", frames, 0))
    return data[:actl] + patched + data[actl + len(patched) :]


def random_after_magic(magic: bytes, size: int = 64 * 1024, seed: int = 7) -> bytes:
    return magic + random.Random(seed).randbytes(size)
