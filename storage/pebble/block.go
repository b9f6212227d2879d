package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Block format (see docs/pebble.md, "Block format"). A block holds the slots
// of one archive of one series over blockSlots consecutive steps. Merge
// operands use the same format, so merging is "decode all, newer slot wins,
// encode".
//
//	block   = header:u8 first:uvarint span:uvarint [bitmap] values
//	header  = bits 0-1 value encoding (0 xor, 1 for, 2 delta)
//	          bit 2    dense: every slot in [first, first+span) is present
//	          bits 3-7 zero (format version 0)
//	bitmap  = ceil(span/8) bytes, bit i (MSB first) = slot first+i present
//	values  = one value per present slot, in slot order:
//	  xor:   float64 bits of the first value (8 bytes, big-endian), then
//	         Gorilla XOR coding of each next value against the previous
//	  for:   zigzag-varint base, width:u8, then width bits per value of v-base
//	  delta: zigzag-varint first, width:u8, then width bits per value of
//	         zigzag(v[i]-v[i-1])
//	  dod:   zigzag-varint first, then per next value the delta of deltas
//	         d = (v[i]-v[i-1]) - (v[i-1]-v[i-2]) (the first delta counts
//	         against 0) as '0' (d=0), '10'+7 bits, '110'+12 bits,
//	         '1110'+20 bits or '1111'+64 bits of zigzag(d)
//
// Integer encodings apply when every value is an integer with |v| <= 2^53
// (not -0), which is typical for Graphite counters and gauges.
const (
	blockSlots = 1024 // slots per block; a power of two

	encXOR   = 0
	encFOR   = 1
	encDelta = 2
	encDoD   = 3

	flagDense = 1 << 2

	maxExactInt = 1 << 53
)

var (
	errBadBlock = errors.New("corrupt block")
)

// slotBuf is a dense decoded block: a presence bitmap and a value per slot.
// Only the words of the bitmap in [lo, hi] are ever non-zero, so Reset is
// cheap for blocks that touch few slots.
type slotBuf struct {
	present [blockSlots / 64]uint64
	vals    [blockSlots]float64
	lo, hi  int // touched slot range; lo > hi when empty
	ints    []int64
}

func (s *slotBuf) reset() {
	if s.lo <= s.hi {
		for w := s.lo >> 6; w <= s.hi>>6; w++ {
			s.present[w] = 0
		}
	}
	s.lo, s.hi = blockSlots, -1
}

func (s *slotBuf) empty() bool { return s.lo > s.hi }

func (s *slotBuf) set(slot int, v float64) {
	s.present[slot>>6] |= 1 << (uint(slot) & 63)
	s.vals[slot] = v
	if slot < s.lo {
		s.lo = slot
	}
	if slot > s.hi {
		s.hi = slot
	}
}

func (s *slotBuf) has(slot int) bool {
	return s.present[slot>>6]&(1<<(uint(slot)&63)) != 0
}

// count returns the number of present slots.
func (s *slotBuf) count() int {
	if s.empty() {
		return 0
	}
	n := 0
	for w := s.lo >> 6; w <= s.hi>>6; w++ {
		n += bits.OnesCount64(s.present[w])
	}
	return n
}

// apply decodes block b into s; slots present in b overwrite those in s.
func (s *slotBuf) apply(b []byte) error {
	h, err := parseBlockHeader(b)
	if err != nil || h.count == 0 {
		return err
	}
	cur := slotCursor{first: h.first, span: h.span, bitmap: h.bitmap}
	switch h.enc {
	case encXOR:
		err = s.applyXOR(&cur, h.values, h.count)
	case encDoD:
		err = s.applyDoD(&cur, h.values, h.count)
	default:
		err = s.applyInts(&cur, h.values, h.count, h.enc)
	}
	if err != nil {
		return fmt.Errorf("decoding block: %w: %w", errBadBlock, err)
	}
	return nil
}

// blockHeader is a block's parsed header: which slots it holds and where
// their values start.
type blockHeader struct {
	enc    byte
	first  int
	span   int
	bitmap []byte // nil for a dense block
	count  int    // present slots (values to decode); 0 for an empty block
	values []byte
}

// parseBlockHeader checks and splits the header, slot range and bitmap of
// block b.
func parseBlockHeader(b []byte) (blockHeader, error) {
	var h blockHeader
	if len(b) < 1 {
		return h, fmt.Errorf("decoding block: %w: empty", errBadBlock)
	}
	hdr := b[0]
	if hdr>>3 != 0 {
		return h, fmt.Errorf("decoding block: %w: header %#x", errBadBlock, hdr)
	}
	h.enc = hdr & 3
	p := 1
	first, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return h, fmt.Errorf("decoding block: %w: first slot", errBadBlock)
	}
	p += n
	span, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return h, fmt.Errorf("decoding block: %w: span", errBadBlock)
	}
	p += n
	if first >= blockSlots || span > blockSlots-first {
		return h, fmt.Errorf("decoding block: %w: slots %d+%d", errBadBlock, first, span)
	}
	if span == 0 {
		if p != len(b) {
			return h, fmt.Errorf("decoding block: %w: trailing bytes", errBadBlock)
		}
		return h, nil
	}
	h.first, h.span, h.count = int(first), int(span), int(span)
	if hdr&flagDense == 0 {
		nb := (h.span + 7) / 8
		if len(b)-p < nb {
			return h, fmt.Errorf("decoding block: %w: bitmap", errBadBlock)
		}
		h.bitmap = b[p : p+nb]
		p += nb
		if pad := uint(nb*8 - h.span); pad > 0 && h.bitmap[nb-1]&(1<<pad-1) != 0 {
			return h, fmt.Errorf("decoding block: %w: bitmap padding", errBadBlock)
		}
		h.count = 0
		for _, x := range h.bitmap {
			h.count += bits.OnesCount8(x)
		}
		if h.count == 0 {
			return h, fmt.Errorf("decoding block: %w: empty bitmap", errBadBlock)
		}
	}
	h.values = b[p:]
	return h, nil
}

// slotCursor yields the slots of a block's present values, in order.
type slotCursor struct {
	first, span int
	bitmap      []byte // nil: dense
	next, bit   int
}

func (c *slotCursor) slot() int {
	if c.bitmap == nil {
		c.next++
		return c.first + c.next - 1
	}
	for ; c.bit < c.span; c.bit++ {
		if c.bitmap[c.bit>>3]&(0x80>>(uint(c.bit)&7)) != 0 {
			c.bit++
			return c.first + c.bit - 1
		}
	}
	return -1
}

// applyXOR decodes k Gorilla-XOR coded values.
func (s *slotBuf) applyXOR(cur *slotCursor, rest []byte, k int) error {
	if len(rest) < 8 {
		return errors.New("xor head")
	}
	prev := binary.BigEndian.Uint64(rest)
	s.set(cur.slot(), math.Float64frombits(prev))
	r := bitReader{b: rest[8:]}
	var lead, trail uint = 0, 0
	haveWin := false
	for i := 1; i < k; i++ {
		if r.readBit() {
			if r.readBit() {
				lead = uint(r.read(5))
				sig := uint(r.read(6))
				if sig == 0 {
					sig = 64
				}
				if lead+sig > 64 {
					return errors.New("xor window")
				}
				trail = 64 - lead - sig
				haveWin = true
			} else if !haveWin {
				return errors.New("xor window reuse")
			}
			x := r.read(64-lead-trail) << trail
			prev ^= x
		}
		if r.err != nil {
			return r.err
		}
		s.set(cur.slot(), math.Float64frombits(prev))
	}
	return nil
}

// applyDoD decodes k delta-of-delta coded integers.
func (s *slotBuf) applyDoD(cur *slotCursor, rest []byte, k int) error {
	v, n := binary.Varint(rest)
	if n <= 0 {
		return errors.New("dod head")
	}
	r := bitReader{b: rest[n:]}
	s.set(cur.slot(), float64(v))
	var delta int64
	for i := 1; i < k; i++ {
		var z uint64
		switch {
		case !r.readBit():
		case !r.readBit():
			z = r.read(7)
		case !r.readBit():
			z = r.read(12)
		case !r.readBit():
			z = r.read(20)
		default:
			z = r.read(64)
		}
		if r.err != nil {
			return r.err
		}
		delta += unzigzag(z)
		v += delta
		s.set(cur.slot(), float64(v))
	}
	return nil
}

// applyInts decodes k frame-of-reference (encFOR) or delta (encDelta)
// coded integers.
func (s *slotBuf) applyInts(cur *slotCursor, rest []byte, k int, enc byte) error {
	base, n := binary.Varint(rest)
	if n <= 0 || len(rest) < n+1 {
		return errors.New("int head")
	}
	width := uint(rest[n])
	if width > 64 {
		return fmt.Errorf("width %d", width)
	}
	r := bitReader{b: rest[n+1:]}
	if enc == encFOR {
		for i := 0; i < k; i++ {
			v := base + int64(r.read(width))
			if r.err != nil {
				return r.err
			}
			s.set(cur.slot(), float64(v))
		}
		return nil
	}
	v := base
	s.set(cur.slot(), float64(v))
	for i := 1; i < k; i++ {
		d := r.read(width)
		if r.err != nil {
			return r.err
		}
		v += unzigzag(d)
		s.set(cur.slot(), float64(v))
	}
	return nil
}

// dodCost is the number of bits the dod encoding spends on zigzag value z.
func dodCost(z uint64) uint {
	switch {
	case z == 0:
		return 1
	case z < 1<<7:
		return 2 + 7
	case z < 1<<12:
		return 3 + 12
	case z < 1<<20:
		return 4 + 20
	}
	return 4 + 64
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func widthOf(v uint64) uint { return uint(64 - bits.LeadingZeros64(v)) }

// appendEncode appends the encoding of s's present slots to dst.
func (s *slotBuf) appendEncode(dst []byte) []byte {
	if s.empty() {
		return append(dst, encXOR, 0, 0)
	}
	f, l := s.lo, s.hi
	span := l - f + 1
	k := 0
	allInt := true
	for i := f; i <= l; i++ {
		if !s.has(i) {
			continue
		}
		k++
		v := s.vals[i]
		if allInt && !(v == math.Trunc(v) && v >= -maxExactInt && v <= maxExactInt && !(v == 0 && math.Signbit(v))) {
			allInt = false
		}
	}
	hdrPos := len(dst)
	var hdr byte = encXOR
	dense := k == span
	if dense {
		hdr |= flagDense
	}
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(f))
	dst = binary.AppendUvarint(dst, uint64(span))
	if !dense {
		dst = s.appendBitmap(dst)
	}
	if allInt {
		var enc byte
		dst, enc = s.appendInts(dst, k)
		hdr |= enc
	} else {
		dst = s.appendFloats(dst)
	}
	dst[hdrPos] = hdr
	return dst
}

// appendBitmap appends the presence bitmap of slots lo..hi (a set bit per
// present slot, most significant bit first).
func (s *slotBuf) appendBitmap(dst []byte) []byte {
	f, l := s.lo, s.hi
	span := l - f + 1
	start := len(dst)
	for i := 0; i < (span+7)/8; i++ {
		dst = append(dst, 0)
	}
	bm := dst[start:]
	for i := f; i <= l; i++ {
		if s.has(i) {
			j := i - f
			bm[j>>3] |= 0x80 >> (uint(j) & 7)
		}
	}
	return dst
}

// appendInts appends the k present values, all exact integers, in the
// smallest of three codings (delta-of-delta, delta, frame of reference),
// and returns the coding's header bits.
func (s *slotBuf) appendInts(dst []byte, k int) ([]byte, byte) {
	f, l := s.lo, s.hi
	var enc byte
	ints := s.ints[:0]
	minV, maxV := int64(math.MaxInt64), int64(math.MinInt64)
	var maxZ uint64
	var dodBits uint
	var prevDelta int64
	for i := f; i <= l; i++ {
		if s.has(i) {
			v := int64(s.vals[i])
			if len(ints) > 0 {
				d := v - ints[len(ints)-1]
				if z := zigzag(d); z > maxZ {
					maxZ = z
				}
				dodBits += dodCost(zigzag(d - prevDelta))
				prevDelta = d
			}
			ints = append(ints, v)
			minV = min(minV, v)
			maxV = max(maxV, v)
		}
	}
	s.ints = ints
	wFOR := widthOf(uint64(maxV - minV))
	wDelta := widthOf(maxZ)
	// Delta codes k-1 values, frame-of-reference k.
	w := &bitWriter{}
	if dodBits < uint(k-1)*wDelta && dodBits < uint(k)*wFOR {
		enc = encDoD
		w.b = binary.AppendVarint(dst, ints[0])
		var prev int64
		for i := 1; i < len(ints); i++ {
			d := ints[i] - ints[i-1]
			z := zigzag(d - prev)
			prev = d
			switch c := dodCost(z); c {
			case 1:
				w.write(0, 1)
			case 2 + 7:
				w.write(0b10, 2)
				w.write(z, 7)
			case 3 + 12:
				w.write(0b110, 3)
				w.write(z, 12)
			case 4 + 20:
				w.write(0b1110, 4)
				w.write(z, 20)
			default:
				w.write(0b1111, 4)
				w.write(z, 64)
			}
		}
	} else if uint(k-1)*wDelta < uint(k)*wFOR {
		enc = encDelta
		dst = binary.AppendVarint(dst, ints[0])
		dst = append(dst, byte(wDelta))
		w.b = dst
		for i := 1; i < len(ints); i++ {
			w.write(zigzag(ints[i]-ints[i-1]), wDelta)
		}
	} else {
		enc = encFOR
		dst = binary.AppendVarint(dst, minV)
		dst = append(dst, byte(wFOR))
		w.b = dst
		for _, v := range ints {
			w.write(uint64(v-minV), wFOR)
		}
	}
	return w.flush(), enc
}

// appendFloats appends the present values XOR-coded (Gorilla's float
// compression: the first value whole, then each one's XOR with the one
// before, in a window of leading and trailing zero bits).
func (s *slotBuf) appendFloats(dst []byte) []byte {
	f, l := s.lo, s.hi
	w := &bitWriter{b: dst}
	var prev uint64
	var lead, trail uint
	haveWin := false
	firstVal := true
	for i := f; i <= l; i++ {
		if !s.has(i) {
			continue
		}
		cur := math.Float64bits(s.vals[i])
		if firstVal {
			w.b = binary.BigEndian.AppendUint64(w.b, cur)
			prev = cur
			firstVal = false
			continue
		}
		x := cur ^ prev
		prev = cur
		if x == 0 {
			w.write(0, 1)
			continue
		}
		lz := uint(bits.LeadingZeros64(x))
		tz := uint(bits.TrailingZeros64(x))
		if lz > 31 {
			lz = 31
		}
		if haveWin && lz >= lead && tz >= trail {
			w.write(0b10, 2)
			w.write(x>>trail, 64-lead-trail)
			continue
		}
		sig := 64 - lz - tz
		w.write(0b11, 2)
		w.write(uint64(lz), 5)
		w.write(uint64(sig&63), 6)
		w.write(x>>tz, sig)
		lead, trail, haveWin = lz, tz, true
	}
	return w.flush()
}
