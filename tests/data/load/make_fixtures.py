#!/usr/bin/python3
"""Writes the small TIFF fixtures of tests/stages/load with tifffile, a writer independent of ours.

Run from anywhere: /usr/bin/python3 tests/data/load/make_fixtures.py
Needs numpy and tifffile (Debian python3-tifffile). tifffile encodes LZW and PackBits only through the
imagecodecs package; without it we hand tifffile the small encoders below (and check them by decoding).

Voxel values follow value(c, t, z, y, x) = BASE + 1000*c + 5000*t + 256*z + 16*y + x (0-based indices),
the same formula the C++ tests use; uint8 files use (16*y + x + 7*z) % 256.
"""
import os
import struct

import numpy as np
import tifffile

HERE = os.path.dirname(os.path.abspath(__file__))
NX, NY = 16, 12


def out(name):
    return os.path.join(HERE, name)


def pattern(c=1, t=1, z=4, base=0, dtype=np.uint16, nx=NX, ny=NY):
    tt, cc, zz, yy, xx = np.meshgrid(np.arange(t), np.arange(c), np.arange(z), np.arange(ny), np.arange(nx),
                                     indexing='ij')
    v = base + 1000 * cc + 5000 * tt + 256 * zz + 16 * yy + xx
    return v.astype(dtype)  # shape (T, C, Z, Y, X)


def pattern_u8(z=4):
    zz, yy, xx = np.meshgrid(np.arange(z), np.arange(NY), np.arange(NX), indexing='ij')
    return ((16 * yy + xx + 7 * zz) % 256).astype(np.uint8)


# --- codecs tifffile lacks without imagecodecs --------------------------------------------------------

def packbits_encode(data, *args, **kwargs):
    data = bytes(data)
    outb = bytearray()
    i, n = 0, len(data)
    while i < n:
        run = 1
        while i + run < n and run < 128 and data[i + run] == data[i]:
            run += 1
        if run >= 2:
            outb.append((257 - run) & 0xFF)
            outb.append(data[i])
            i += run
            continue
        j = i
        while j < n and j - i < 128 and not (j + 1 < n and data[j + 1] == data[j]):
            j += 1
        j = max(j, i + 1)
        outb.append(j - i - 1)
        outb += data[i:j]
        i = j
    return bytes(outb)


def lzw_encode(data, *args, **kwargs):
    """TIFF LZW as in TIFF 6.0 section 13: MSB-first codes, the code width grows once the table holds
    511, 1023, 2047 entries (the decoder, one entry behind, switches at the same code)."""
    data = bytes(data)
    clear, eoi = 256, 257
    table = {bytes([i]): i for i in range(256)}
    next_code, width = 258, 9
    bits, nbits = 0, 0
    outb = bytearray()

    def emit(code):
        nonlocal bits, nbits
        bits = (bits << width) | code
        nbits += width
        while nbits >= 8:
            nbits -= 8
            outb.append((bits >> nbits) & 0xFF)
        bits &= (1 << nbits) - 1

    emit(clear)
    w = b''
    for byte in data:
        wc = w + bytes([byte])
        if wc in table:
            w = wc
            continue
        emit(table[w])
        table[wc] = next_code
        next_code += 1
        if next_code in (512, 1024, 2048):
            width += 1
        if next_code == 4094:
            emit(clear)
            table = {bytes([i]): i for i in range(256)}
            next_code, width = 258, 9
        w = bytes([byte])
    if w:
        emit(table[w])
        next_code += 1
        if next_code in (512, 1024, 2048):
            width += 1
    emit(eoi)
    if nbits:
        outb.append((bits << (8 - nbits)) & 0xFF)
    return bytes(outb)


def lzw_decode(data, *args, **kwargs):
    """Independent check of lzw_encode (reading back what tifffile wrote)."""
    data = bytes(data)
    pos, width, outb = 0, 9, bytearray()
    table, prev = None, None
    total = len(data) * 8
    while pos + width <= total:
        byte, bit = divmod(pos, 8)
        chunk = int.from_bytes(data[byte:byte + 4].ljust(4, b'\0'), 'big')
        code = (chunk >> (32 - bit - width)) & ((1 << width) - 1)
        pos += width
        if code == 256:
            table = [bytes([i]) for i in range(256)] + [b'', b'']
            width, prev = 9, None
            continue
        if code == 257:
            break
        if prev is None:
            entry = table[code]
        else:
            entry = table[code] if code < len(table) else prev + prev[:1]
            table.append(prev + entry[:1])
        outb += entry
        prev = entry
        if len(table) >= (1 << width) - 1 and width < 12:
            width += 1
    return bytes(outb)


codecs = tifffile.tifffile.imagecodecs
if not hasattr(codecs, 'lzw_encode'):
    codecs.lzw_encode = lzw_encode
    codecs.lzw_decode = lzw_decode
if not hasattr(codecs, 'packbits_encode'):
    codecs.packbits_encode = packbits_encode


def imagej(name, data, spacing_um=0.35, xy_um=0.1, unit='um', axes='ZYX', **kwargs):
    tifffile.imwrite(out(name), data, imagej=True, resolution=(1 / xy_um, 1 / xy_um),
                     metadata={'spacing': spacing_um, 'unit': unit, 'axes': axes}, **kwargs)


def check_pages(name, count):
    with tifffile.TiffFile(out(name)) as t:
        assert len(t.pages) == count, name


def check(name, expected):
    got = tifffile.imread(out(name))
    assert got.shape == expected.shape and np.array_equal(got, expected), name


def main():
    # --- accepted forms -------------------------------------------------------------------------------
    u16 = pattern(z=4)[0, 0]
    u16[0, 0, 0] = 40000  # above 32767: unsigned, never rescaled
    imagej('imagej_u16.tif', u16)
    imagej('imagej_u8.tif', pattern_u8(z=3), spacing_um=0.5)
    f32 = (pattern(z=3, dtype=np.float32)[0, 0] - 100.0) / 8.0  # negative and fractional values
    imagej('imagej_f32.tif', f32)
    # channels: ImageJ order is channel fastest (axes ZCYX)
    two = pattern(c=2, z=3)[0].transpose(1, 0, 2, 3).copy()
    imagej('imagej_two_channels.tif', two, spacing_um=0.5, xy_um=0.08, unit='micron', axes='ZCYX')
    frames = pattern(t=2, z=3)[:, 0]
    imagej('imagej_frames.tif', frames, axes='TZYX')
    imagej('imagej_nm.tif', pattern(z=3)[0, 0], spacing_um=350.0, xy_um=65.0, unit='nm')
    imagej('imagej_mm.tif', pattern(z=3)[0, 0], spacing_um=0.0005, xy_um=0.0001, unit='mm')
    # ImageJ's own spelling of µ: the 6-character escape \u00B5
    imagej('imagej_escaped_micro.tif', pattern(z=3)[0, 0], unit='\\u00B5m')
    imagej('imagej_single_plane.tif', pattern(z=1)[0, 0, 0], axes='YX')
    # UTF-8 µ written by hand (tifffile escapes non-ASCII units itself)
    desc = 'ImageJ=1.53t\nimages=3\nslices=3\nunit=\u00b5m\nspacing=0.35\nloop=false\n'.encode('utf-8')
    tifffile.imwrite(out('imagej_utf8_micro.tif'), pattern(z=3)[0, 0], description=desc, metadata=None,
                     photometric='minisblack', resolution=(10.0, 10.0), resolutionunit='NONE')

    # compression (ImageJ metadata; tifffile + zlib / the encoders above)
    data = pattern(z=3)[0, 0]
    imagej('lzw.tif', data, compression='lzw')
    imagej('lzw_predictor.tif', data, compression='lzw', predictor=True)
    imagej('deflate.tif', data, compression='adobe_deflate')
    imagej('deflate_old.tif', data, compression=32946)
    imagej('packbits.tif', data, compression='packbits')
    for name in ('lzw.tif', 'lzw_predictor.tif', 'deflate.tif', 'deflate_old.tif', 'packbits.tif'):
        check(name, data)
    imagej('strips_rows3.tif', data, rowsperstrip=3)
    # big enough for LZW code widths 10..12 and a table reset: value(z, y, x) = (x*37 + y*101 + z*13) % 4096
    zz, yy, xx = np.meshgrid(np.arange(3), np.arange(48), np.arange(64), indexing='ij')
    scrambled = ((xx * 37 + yy * 101 + zz * 13) % 4096).astype(np.uint16)
    imagej('lzw_large.tif', scrambled, compression='lzw')
    check('lzw_large.tif', scrambled)

    # OME-TIFF
    ome = pattern(z=4)[0, 0]
    tifffile.imwrite(out('ome_u16.tif'), ome, ome=True,
                     metadata={'axes': 'ZYX', 'PhysicalSizeX': 0.1, 'PhysicalSizeY': 0.1, 'PhysicalSizeZ': 0.35})
    ome2 = pattern(c=2, z=3)[0]  # axes CZYX: DimensionOrder XYZCT
    tifffile.imwrite(out('ome_two_channels.tif'), ome2, ome=True,
                     metadata={'axes': 'CZYX', 'PhysicalSizeX': 0.08, 'PhysicalSizeY': 0.08, 'PhysicalSizeZ': 0.5})
    tifffile.imwrite(out('ome_xyczt.tif'), ome2.transpose(1, 0, 2, 3).copy(), ome=True,  # axes ZCYX: XYCZT
                     metadata={'axes': 'ZCYX', 'PhysicalSizeX': 0.08, 'PhysicalSizeY': 0.08, 'PhysicalSizeZ': 0.5})
    tifffile.imwrite(out('ome_nm.tif'), ome, ome=True,
                     metadata={'axes': 'ZYX', 'PhysicalSizeX': 100.0, 'PhysicalSizeXUnit': 'nm',
                               'PhysicalSizeY': 100.0, 'PhysicalSizeYUnit': 'nm',
                               'PhysicalSizeZ': 500.0, 'PhysicalSizeZUnit': 'nm'})
    i16 = (pattern(z=3)[0, 0].astype(np.int32) - 300).astype(np.int16)
    tifffile.imwrite(out('ome_int16.tif'), i16, ome=True,
                     metadata={'axes': 'ZYX', 'PhysicalSizeX': 0.1, 'PhysicalSizeY': 0.1, 'PhysicalSizeZ': 0.35})
    tifffile.imwrite(out('ome_bigtiff.tif'), ome, ome=True, bigtiff=True,
                     metadata={'axes': 'ZYX', 'PhysicalSizeX': 0.1, 'PhysicalSizeY': 0.1, 'PhysicalSizeZ': 0.35})
    tiled = pattern(z=3, nx=40, ny=24)[0, 0]
    tifffile.imwrite(out('ome_tiled.tif'), tiled, ome=True, tile=(16, 16), compression='adobe_deflate',
                     metadata={'axes': 'ZYX', 'PhysicalSizeX': 0.1, 'PhysicalSizeY': 0.1, 'PhysicalSizeZ': 0.35})
    check('ome_tiled.tif', tiled)

    # RGB pages: channels are samples (no spacing: read with an override)
    rgb = np.stack([pattern_u8(z=3), pattern_u8(z=3) // 2, 255 - pattern_u8(z=3)], axis=-1)
    tifffile.imwrite(out('rgb_samples.tif'), rgb, photometric='rgb', metadata=None)

    # --- refusals --------------------------------------------------------------------------------------
    tifffile.imwrite(out('plain_no_spacing.tif'), pattern(z=3)[0, 0], metadata=None, photometric='minisblack')
    tifffile.imwrite(out('plain_resolution_cm.tif'), pattern(z=3)[0, 0], metadata=None, photometric='minisblack',
                     resolution=(100000.0, 100000.0), resolutionunit='CENTIMETER')  # 0.1 µm pixels, no z
    desc = b'ImageJ=1.53t\nimages=5\nslices=5\nunit=micron\nspacing=0.35\nloop=false\n'
    tifffile.imwrite(out('imagej_images_mismatch.tif'), pattern(z=3)[0, 0], description=desc, metadata=None,
                     photometric='minisblack', resolution=(10.0, 10.0), resolutionunit='NONE')
    with tifffile.TiffWriter(out('mixed_sizes.tif')) as w:
        w.write(pattern(z=1)[0, 0, 0], metadata=None)
        w.write(pattern(z=1, nx=8, ny=6)[0, 0, 0], metadata=None)
    tifffile.imwrite(out('bilevel.tif'), np.tile(np.arange(NX) % 2 == 0, (3, NY, 1)), metadata=None,
                     photometric='minisblack')
    colormap = np.zeros((3, 256), dtype=np.uint16)
    colormap[1] = np.arange(256) * 256
    tifffile.imwrite(out('palette.tif'), pattern_u8(z=3), photometric='palette', colormap=colormap, metadata=None)

    # Hand-made headers claiming absurd dimensions, with a few bytes of "pixel data".
    def handmade(name, width, height, compression, bytecount):
        entries = [(256, 4, width), (257, 4, height), (258, 3, 16), (259, 3, compression), (262, 3, 1),
                   (273, 4, 8), (277, 3, 1), (278, 4, height), (279, 4, bytecount)]
        ifd_offset = 8 + 16
        body = struct.pack('<2sHI', b'II', 42, ifd_offset) + bytes(16)
        body += struct.pack('<H', len(entries))
        for tag, typ, value in entries:
            body += struct.pack('<HHI', tag, typ, 1) + (struct.pack('<HH', value, 0) if typ == 3
                                                         else struct.pack('<I', value))
        body += struct.pack('<I', 0)
        with open(out(name), 'wb') as f:
            f.write(body)

    for name in ('imagej_utf8_micro.tif', 'plain_no_spacing.tif', 'plain_resolution_cm.tif',
                 'imagej_images_mismatch.tif'):
        check_pages(name, 3)
    handmade('absurd_uncompressed.tif', 100000, 100000, 1, 16)
    handmade('absurd_deflate.tif', 1000000, 1000000, 8, 16)
    handmade('absurd_zstd.tif', 1000000, 1000000, 50000, 16)


if __name__ == '__main__':
    main()
