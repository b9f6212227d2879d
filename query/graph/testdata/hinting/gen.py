"""Writes fonts/hinted-metrics.bin: cairo's image-surface text metrics for
the embedded DejaVu Sans, Serif and Sans Mono faces (FreeType hinting with graphite-web's font
options, antialias none), measured with Debian's cairo via python3-cairocffi.

Layout: for family in (Sans, Serif, Mono), for face in (regular, oblique,
bold, bold oblique), for size in
1..48: ascent, descent, height, then the advance of each rune 32..255, one
byte each, in whole pixels.

Run from query/graph: /usr/bin/python3 testdata/hinting/gen.py
"""
import cairocffi as cairo

out = bytearray()
for bold, italic, family in [(b, i, f) for f in ("Sans", "Serif", "Mono")
                              for b, i in [(False, False), (False, True), (True, False), (True, True)]]:
    for size in range(1, 49):
        s = cairo.ImageSurface(cairo.FORMAT_ARGB32, 10, 10)
        c = cairo.Context(s)
        o = c.get_font_options()
        o.set_antialias(cairo.ANTIALIAS_NONE)
        c.set_font_options(o)
        c.select_font_face(family, cairo.FONT_SLANT_ITALIC if italic else cairo.FONT_SLANT_NORMAL,
                           cairo.FONT_WEIGHT_BOLD if bold else cairo.FONT_WEIGHT_NORMAL)
        c.set_font_size(size)
        fe = c.font_extents()
        out += bytes([round(fe[0]), round(fe[1]), round(fe[2])])
        for r in range(32, 256):
            out.append(round(c.text_extents(chr(r))[4]))
open("fonts/hinted-metrics.bin", "wb").write(out)
