package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Errors returned (wrapped) by the decoder.
var (
	// ErrUnsafe marks a frame that uses an opcode the safe decoder refuses
	// (globals, reduce, object construction, sets, buffers, ...).
	ErrUnsafe = errors.New("unsafe pickle opcode")
	// ErrMalformed marks a frame that is not a valid pickle.
	ErrMalformed = errors.New("malformed pickle")
	// ErrLimit marks a frame that exceeds a decoder limit.
	ErrLimit = errors.New("pickle limit exceeded")
)

// Kind is the type of a decoded value.
type Kind uint8

// Value kinds.
const (
	KindNone Kind = iota
	KindBool
	KindInt
	KindFloat
	KindStr   // Python str (unicode), UTF-8 bytes
	KindBytes // Python bytes / Python 2 str
	KindTuple
	KindList
	KindDict
	kindMark // internal: stack marker
)

var kindNames = [...]string{"None", "bool", "int", "float", "str", "bytes", "tuple", "list", "dict", "mark"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Limits bound what one frame may make the decoder build.
type Limits struct {
	// MaxDepth is the deepest container nesting accepted (default 32).
	MaxDepth int
	// MaxValues is the most values one frame may create (default: the
	// frame length, since every value costs at least one opcode byte).
	MaxValues int
	// MaxMemo is the highest memo index accepted (default 1<<20, and never
	// more than the frame length).
	MaxMemo int
}

const (
	defaultMaxDepth = 32
	defaultMaxMemo  = 1 << 20
)

// value is one decoded object, 32 bytes.
type value struct {
	kind    Kind
	sealed  bool   // placed inside another container: immutable from now on
	scratch bool   // the string lives in Decoder.scratch, else in the frame
	depth   uint16 // 0 for scalars, 1 + deepest child for containers
	toff    int32  // tuple: offset into Decoder.tkids; list/dict: index into Decoder.lists
	tlen    int32  // tuple length
	soff    uint32 // str/bytes: offset and length
	slen    uint32
	n       uint64 // int64 or float64 bits
}

func (v *value) int() int64         { return int64(v.n) }
func (v *value) float() float64     { return math.Float64frombits(v.n) }
func (v *value) setInt(i int64)     { v.n = uint64(i) }
func (v *value) setFloat(f float64) { v.n = math.Float64bits(f) }

// Decoder decodes pickles. The zero value is ready to use with default
// limits. A Decoder is not safe for concurrent use; reuse one per goroutine
// so its buffers are recycled and decoding does not allocate.
type Decoder struct {
	Limits Limits
	// AllowDicts permits dict opcodes (needed for carbonlink requests).
	AllowDicts bool

	vals    []value
	stack   []int32
	marks   []int32
	memo    []int32
	tkids   []int32
	scratch []byte
	lists   [][]int32 // list/dict children (dict: key, value, key, value...)
	nlists  int
	frame   []byte
	root    int32

	maxDepth, maxValues, maxMemo int
}

// Ref is a read-only handle on a decoded value. It is valid until the next
// Decode on the same Decoder.
type Ref struct {
	d *Decoder
	i int32
}

// Decode decodes one pickle (without the 4-byte length prefix) and returns its
// top-level value. Trailing bytes after STOP are an error.
func (d *Decoder) Decode(frame []byte) (Ref, error) {
	if err := d.run(frame); err != nil {
		return Ref{}, err
	}
	return Ref{d, d.root}, nil
}

// retainValues bounds the value table kept between frames, so one huge
// hostile frame does not pin its memory.
const retainValues = 1 << 18

func (d *Decoder) reset() {
	if cap(d.vals) > retainValues {
		d.vals, d.stack, d.tkids, d.memo = nil, nil, nil, nil
	}
	if len(d.lists) > retainValues/8 {
		d.lists = nil
	}
	d.nlists = 0
	d.vals = d.vals[:0]
	d.stack = d.stack[:0]
	d.marks = d.marks[:0]
	d.memo = d.memo[:0]
	d.tkids = d.tkids[:0]
	d.scratch = d.scratch[:0]
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// newVal appends a value; lists and dicts get a children slice, reused
// from a previous frame when there is one.
func (d *Decoder) newVal(k Kind) (int32, error) {
	n := len(d.vals)
	if n >= d.maxValues {
		return 0, fmt.Errorf("%w: more than %d values", ErrLimit, d.maxValues)
	}
	v := value{kind: k}
	if k == KindList || k == KindDict {
		if d.nlists < len(d.lists) {
			d.lists[d.nlists] = d.lists[d.nlists][:0]
		} else {
			d.lists = append(d.lists, nil)
		}
		v.toff = int32(d.nlists)
		d.nlists++
	}
	d.vals = append(d.vals, v)
	return int32(n), nil
}

// str returns a str/bytes value's content.
func (d *Decoder) str(v *value) []byte {
	if v.scratch {
		return d.scratch[v.soff : v.soff+v.slen : v.soff+v.slen]
	}
	return d.frame[v.soff : v.soff+v.slen : v.soff+v.slen]
}

func (d *Decoder) push(k Kind) (*value, error) {
	i, err := d.newVal(k)
	if err != nil {
		return nil, err
	}
	d.stack = append(d.stack, i)
	return &d.vals[i], nil
}

func (d *Decoder) pop() (int32, error) {
	n := len(d.stack)
	if n == 0 || (len(d.marks) > 0 && int(d.marks[len(d.marks)-1]) >= n) {
		return 0, malformed("stack underflow")
	}
	v := d.stack[n-1]
	d.stack = d.stack[:n-1]
	return v, nil
}

func (d *Decoder) top() (int32, error) {
	n := len(d.stack)
	if n == 0 || (len(d.marks) > 0 && int(d.marks[len(d.marks)-1]) >= n) {
		return 0, malformed("stack underflow")
	}
	return d.stack[n-1], nil
}

// popMark returns the stack items above the innermost mark and removes them
// and the mark. The returned slice aliases the stack and is valid until the
// next push.
func (d *Decoder) popMark() ([]int32, error) {
	if len(d.marks) == 0 {
		return nil, malformed("missing mark")
	}
	m := d.marks[len(d.marks)-1]
	d.marks = d.marks[:len(d.marks)-1]
	items := d.stack[m:]
	d.stack = d.stack[:m]
	return items, nil
}

// adopt records that child is now inside parent: the child becomes immutable
// and the parent's depth grows. It rejects marks and over-deep nesting.
func (d *Decoder) adopt(parent *value, child int32) error {
	c := &d.vals[child]
	if c.kind == kindMark {
		return malformed("mark used as a value")
	}
	c.sealed = true
	if c.depth+1 > parent.depth {
		parent.depth = c.depth + 1
		if int(parent.depth) > d.maxDepth {
			return fmt.Errorf("%w: nesting deeper than %d", ErrLimit, d.maxDepth)
		}
	}
	return nil
}

func (d *Decoder) makeTuple(items []int32) error {
	// items aliases d.stack above the new top; copy them to tkids first.
	off := len(d.tkids)
	d.tkids = append(d.tkids, items...)
	i, err := d.newVal(KindTuple)
	if err != nil {
		return err
	}
	t := &d.vals[i]
	t.toff, t.tlen = int32(off), int32(len(items))
	if len(items) == 0 {
		t.depth = 1
	}
	for _, c := range d.tkids[off:] {
		if err := d.adopt(t, c); err != nil {
			return err
		}
	}
	d.stack = append(d.stack, i)
	return nil
}

func (d *Decoder) mutable(i int32, want Kind) (*value, error) {
	v := &d.vals[i]
	if v.kind != want {
		return nil, malformed("cannot add items to %s", v.kind)
	}
	if v.sealed {
		return nil, fmt.Errorf("%w: mutating a container after it was nested", ErrUnsafe)
	}
	return v, nil
}

func (d *Decoder) appendItems(list int32, items []int32) error {
	l, err := d.mutable(list, KindList)
	if err != nil {
		return err
	}
	for _, c := range items {
		if c == list {
			return fmt.Errorf("%w: recursive list", ErrUnsafe)
		}
		if err := d.adopt(l, c); err != nil {
			return err
		}
	}
	d.lists[l.toff] = append(d.lists[l.toff], items...)
	return nil
}

func (d *Decoder) setItems(dict int32, items []int32) error {
	if len(items)%2 != 0 {
		return malformed("odd number of dict items")
	}
	m, err := d.mutable(dict, KindDict)
	if err != nil {
		return err
	}
	for _, c := range items {
		if c == dict {
			return fmt.Errorf("%w: recursive dict", ErrUnsafe)
		}
		if err := d.adopt(m, c); err != nil {
			return err
		}
	}
	for j := 0; j < len(items); j += 2 {
		if k := d.vals[items[j]].kind; k > KindBytes {
			return malformed("unhashable dict key %s", k)
		}
	}
	d.lists[m.toff] = append(d.lists[m.toff], items...)
	return nil
}

func (d *Decoder) memoPut(idx int, v int32) error {
	if idx < 0 || idx > d.maxMemo {
		return fmt.Errorf("%w: memo index %d", ErrLimit, idx)
	}
	for len(d.memo) <= idx {
		d.memo = append(d.memo, -1)
	}
	d.memo[idx] = v
	return nil
}

func (d *Decoder) memoGet(idx int) error {
	if idx < 0 || idx >= len(d.memo) || d.memo[idx] < 0 {
		return malformed("memo index %d not set", idx)
	}
	d.stack = append(d.stack, d.memo[idx])
	return nil
}

// line returns the bytes up to the next '\n' at p and the position after it.
func line(b []byte, p int) ([]byte, int, error) {
	for j := p; j < len(b); j++ {
		if b[j] == '\n' {
			return b[p:j], j + 1, nil
		}
	}
	return nil, 0, malformed("unterminated line argument")
}

func need(b []byte, p, n int) error {
	if n < 0 || n > len(b)-p {
		return malformed("argument of %d bytes overruns the frame", n)
	}
	return nil
}

func (d *Decoder) run(b []byte) error {
	d.reset()
	d.frame = b
	d.setLimits(len(b))
	p := 0
	for p < len(b) {
		op := b[p]
		p++
		var err error
		switch op {
		case '.': // STOP
			return d.stop(len(b) - p)
		case 0x80: // PROTO
			if err := need(b, p, 1); err != nil {
				return err
			}
			if b[p] > 5 {
				return malformed("unsupported protocol %d", b[p])
			}
			p++
		case 0x95: // FRAME: 8-byte length, advisory
			if err := need(b, p, 8); err != nil {
				return err
			}
			n := binary.LittleEndian.Uint64(b[p:])
			p += 8
			if n > uint64(len(b)-p) {
				return malformed("frame of %d bytes overruns the data", n)
			}
		case 'N', 0x88, 0x89, 'K', 'M', 'J', 0x8a, 0x8b, 'G', 'I', 'L', 'F':
			p, err = d.scalar(op, b, p)
		case 'X', 0x8c, 0x8d, 'T', 'U', 'B', 'C', 0x8e, 0x96:
			p, err = d.binString(op, b, p)
		case 'S', 'V':
			p, err = d.textString(op, b, p)
		case '(', ')', 0x85, 0x86, 0x87, 't', ']', 'l', 'a', 'e', '0', '1', '2':
			err = d.structure(op)
		case '}', 'd', 's', 'u': // EMPTY_DICT, DICT, SETITEM, SETITEMS
			if !d.AllowDicts {
				return fmt.Errorf("%w: dict (opcode %q) not allowed here", ErrUnsafe, op)
			}
			err = d.dictOp(op)
		case 'p', 0x71, 'r', 0x94, 'g', 'h', 'j':
			p, err = d.memoOp(op, b, p)
		case 'c', 0x93, 'R', 'b', 'i', 'o', 0x81, 0x92, 0x82, 0x83, 0x84,
			'P', 'Q', 0x8f, 0x90, 0x91, 0x97, 0x98:
			return fmt.Errorf("%w: opcode %s", ErrUnsafe, opName(op))
		default:
			return malformed("unknown opcode 0x%02x at offset %d", op, p-1)
		}
		if err != nil {
			return err
		}
		if len(d.stack) > d.maxValues {
			return fmt.Errorf("%w: stack too deep", ErrLimit)
		}
	}
	return malformed("missing STOP")
}

// setLimits applies Limits (or their defaults) to a frame of n bytes.
func (d *Decoder) setLimits(n int) {
	d.maxDepth = d.Limits.MaxDepth
	if d.maxDepth <= 0 {
		d.maxDepth = defaultMaxDepth
	}
	d.maxValues = d.Limits.MaxValues
	if d.maxValues <= 0 {
		d.maxValues = n + 1
	}
	d.maxMemo = d.Limits.MaxMemo
	if d.maxMemo <= 0 {
		d.maxMemo = defaultMaxMemo
	}
	// Picklers number memo slots sequentially, so an index beyond the frame
	// length is hostile: refuse it rather than grow the memo table.
	if d.maxMemo > n {
		d.maxMemo = n
	}
}

// stop ends the frame at STOP, with rest bytes after it: exactly one value
// must be left, and nothing may follow.
func (d *Decoder) stop(rest int) error {
	if rest != 0 {
		return malformed("%d bytes after STOP", rest)
	}
	if len(d.marks) != 0 || len(d.stack) != 1 {
		return malformed("stack holds %d values at STOP", len(d.stack))
	}
	d.root = d.stack[0]
	if d.vals[d.root].kind == kindMark {
		return malformed("mark at STOP")
	}
	return nil
}

// scalar pushes None, a bool, an int or a float; p is the offset after the
// opcode and the offset after its argument is returned.
func (d *Decoder) scalar(op byte, b []byte, p int) (int, error) {
	switch op {
	case 'N':
		_, err := d.push(KindNone)
		return p, err
	case 0x88, 0x89: // NEWTRUE, NEWFALSE
		v, err := d.push(KindBool)
		if err != nil {
			return p, err
		}
		if op == 0x88 {
			v.setInt(1)
		}
		return p, nil
	case 'K', 'M', 'J': // BININT1, BININT2, BININT
		n := 4
		switch op {
		case 'K':
			n = 1
		case 'M':
			n = 2
		}
		if err := need(b, p, n); err != nil {
			return p, err
		}
		v, err := d.push(KindInt)
		if err != nil {
			return p, err
		}
		switch op {
		case 'K':
			v.setInt(int64(b[p]))
		case 'M':
			v.setInt(int64(binary.LittleEndian.Uint16(b[p:])))
		default:
			v.setInt(int64(int32(binary.LittleEndian.Uint32(b[p:]))))
		}
		return p + n, nil
	case 0x8a, 0x8b: // LONG1, LONG4
		return d.long(op, b, p)
	case 'G': // BINFLOAT, big-endian
		if err := need(b, p, 8); err != nil {
			return p, err
		}
		v, err := d.push(KindFloat)
		if err != nil {
			return p, err
		}
		v.setFloat(math.Float64frombits(binary.BigEndian.Uint64(b[p:])))
		return p + 8, nil
	default: // 'I', 'L', 'F': INT, LONG, FLOAT (text)
		arg, np, err := line(b, p)
		if err != nil {
			return p, err
		}
		return np, d.textNumber(op, arg)
	}
}

// long pushes a LONG1 or LONG4 int.
func (d *Decoder) long(op byte, b []byte, p int) (int, error) {
	var n int
	if op == 0x8a {
		if err := need(b, p, 1); err != nil {
			return p, err
		}
		n = int(b[p])
		p++
	} else {
		if err := need(b, p, 4); err != nil {
			return p, err
		}
		n = int(int32(binary.LittleEndian.Uint32(b[p:])))
		p += 4
	}
	if err := need(b, p, n); err != nil {
		return p, err
	}
	v, err := d.push(KindInt)
	if err != nil {
		return p, err
	}
	setLong(v, b[p:p+n])
	return p + n, nil
}

// binString pushes a length-prefixed str or bytes: BINUNICODE(4)
// SHORT_BINUNICODE(1) BINUNICODE8(8) BINSTRING(4) SHORT_BINSTRING(1)
// BINBYTES(4) SHORT_BINBYTES(1) BINBYTES8(8) BYTEARRAY8(8). The value is a
// view into the frame.
func (d *Decoder) binString(op byte, b []byte, p int) (int, error) {
	var lenSize int
	switch op {
	case 0x8c, 'U', 'C':
		lenSize = 1
	case 'X', 'T', 'B':
		lenSize = 4
	default:
		lenSize = 8
	}
	if err := need(b, p, lenSize); err != nil {
		return p, err
	}
	var n uint64
	switch lenSize {
	case 1:
		n = uint64(b[p])
	case 4:
		n = uint64(binary.LittleEndian.Uint32(b[p:]))
		if op == 'T' && int32(n) < 0 {
			return p, malformed("negative BINSTRING length")
		}
	default:
		n = binary.LittleEndian.Uint64(b[p:])
	}
	p += lenSize
	if n > uint64(len(b)-p) {
		return p, malformed("string of %d bytes overruns the frame", n)
	}
	kind := KindBytes
	if op == 'X' || op == 0x8c || op == 0x8d {
		kind = KindStr
	}
	start := p
	p += int(n)
	if kind == KindStr && !utf8.Valid(b[start:p]) {
		return p, malformed("invalid UTF-8 in str")
	}
	v, err := d.push(kind)
	if err != nil {
		return p, err
	}
	v.soff, v.slen = uint32(start), uint32(n)
	return p, nil
}

// textString pushes protocol 0's STRING (a quoted Python repr, bytes) or
// UNICODE (raw-unicode-escape, str), decoded into the scratch buffer.
func (d *Decoder) textString(op byte, b []byte, p int) (int, error) {
	arg, np, err := line(b, p)
	if err != nil {
		return p, err
	}
	var s []byte
	kind := KindBytes
	if op == 'S' {
		s, err = d.unquote(arg)
	} else {
		kind = KindStr
		s, err = d.rawUnicode(arg)
	}
	if err != nil {
		return np, err
	}
	v, err := d.push(kind)
	if err != nil {
		return np, err
	}
	d.scratchStr(v, s)
	return np, nil
}

// structure runs the opcodes that build tuples and lists or move values on
// the stack: MARK, EMPTY_TUPLE, TUPLE1..3, TUPLE, EMPTY_LIST, LIST, APPEND,
// APPENDS, POP, POP_MARK, DUP.
func (d *Decoder) structure(op byte) error {
	switch op {
	case '(': // MARK
		d.marks = append(d.marks, int32(len(d.stack)))
		if len(d.marks) > d.maxDepth*4 {
			return fmt.Errorf("%w: more than %d open marks", ErrLimit, d.maxDepth*4)
		}
		return nil
	case ')': // EMPTY_TUPLE
		return d.makeTuple(nil)
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op-0x85) + 1
		if len(d.stack) < n || (len(d.marks) > 0 && int(d.marks[len(d.marks)-1]) > len(d.stack)-n) {
			return malformed("stack underflow")
		}
		items := d.stack[len(d.stack)-n:]
		d.stack = d.stack[:len(d.stack)-n]
		return d.makeTuple(items)
	case 't': // TUPLE from mark
		items, err := d.popMark()
		if err != nil {
			return err
		}
		return d.makeTuple(items)
	case ']': // EMPTY_LIST
		v, err := d.push(KindList)
		if err != nil {
			return err
		}
		v.depth = 1
		return nil
	case 'l': // LIST from mark
		return d.listFromMark()
	case 'a', 'e': // APPEND, APPENDS
		return d.appendOp(op)
	case '0': // POP
		if len(d.marks) > 0 && int(d.marks[len(d.marks)-1]) == len(d.stack) {
			d.marks = d.marks[:len(d.marks)-1] // pops the mark, as CPython does
			return nil
		}
		_, err := d.pop()
		return err
	case '1': // POP_MARK
		_, err := d.popMark()
		return err
	default: // '2': DUP
		v, err := d.top()
		if err != nil {
			return err
		}
		d.stack = append(d.stack, v)
		return nil
	}
}

// listFromMark replaces the values since the mark by a list of them.
func (d *Decoder) listFromMark() error {
	items, err := d.popMark()
	if err != nil {
		return err
	}
	// items alias the stack; newVal does not touch the stack.
	i, err := d.newVal(KindList)
	if err != nil {
		return err
	}
	d.vals[i].depth = 1
	if err := d.appendItems(i, items); err != nil {
		return err
	}
	d.stack = append(d.stack, i)
	return nil
}

// appendOp adds the top value (APPEND) or the values since the mark
// (APPENDS) to the list below them.
func (d *Decoder) appendOp(op byte) error {
	var items []int32
	var one [1]int32
	if op == 'a' {
		item, err := d.pop()
		if err != nil {
			return err
		}
		one[0] = item
		items = one[:]
	} else {
		var err error
		if items, err = d.popMark(); err != nil {
			return err
		}
	}
	l, err := d.top()
	if err != nil {
		return err
	}
	return d.appendItems(l, items)
}

// memoOp runs PUT, BINPUT, LONG_BINPUT, MEMOIZE (store the top value) and
// GET, BINGET, LONG_BINGET (push a stored one).
func (d *Decoder) memoOp(op byte, b []byte, p int) (int, error) {
	var idx int
	switch op {
	case 'p', 'g': // PUT, GET: decimal text
		arg, np, err := line(b, p)
		if err != nil {
			return p, err
		}
		p = np
		n, err := strconv.Atoi(string(arg))
		if err != nil {
			name := "PUT"
			if op == 'g' {
				name = "GET"
			}
			return p, malformed("bad %s index %q", name, arg)
		}
		idx = n
	case 0x71, 'h': // BINPUT, BINGET
		if err := need(b, p, 1); err != nil {
			return p, err
		}
		idx = int(b[p])
		p++
	case 'r', 'j': // LONG_BINPUT, LONG_BINGET
		if err := need(b, p, 4); err != nil {
			return p, err
		}
		idx = int(binary.LittleEndian.Uint32(b[p:]))
		p += 4
	default: // MEMOIZE
		idx = len(d.memo)
	}
	if op == 'g' || op == 'h' || op == 'j' {
		return p, d.memoGet(idx)
	}
	v, err := d.top()
	if err != nil {
		return p, err
	}
	return p, d.memoPut(idx, v)
}

func opName(op byte) string {
	switch op {
	case 'c':
		return "GLOBAL"
	case 0x93:
		return "STACK_GLOBAL"
	case 'R':
		return "REDUCE"
	case 'b':
		return "BUILD"
	case 'i':
		return "INST"
	case 'o':
		return "OBJ"
	case 0x81:
		return "NEWOBJ"
	case 0x92:
		return "NEWOBJ_EX"
	case 0x82, 0x83, 0x84:
		return "EXT"
	case 'P', 'Q':
		return "PERSID"
	case 0x8f:
		return "EMPTY_SET"
	case 0x90:
		return "ADDITEMS"
	case 0x91:
		return "FROZENSET"
	case 0x97, 0x98:
		return "BUFFER"
	}
	return fmt.Sprintf("0x%02x", op)
}

func (d *Decoder) dictOp(op byte) error {
	switch op {
	case '}':
		v, err := d.push(KindDict)
		if err != nil {
			return err
		}
		v.depth = 1
	case 'd':
		items, err := d.popMark()
		if err != nil {
			return err
		}
		i, err := d.newVal(KindDict)
		if err != nil {
			return err
		}
		d.vals[i].depth = 1
		if err := d.setItems(i, items); err != nil {
			return err
		}
		d.stack = append(d.stack, i)
	case 's':
		n := len(d.stack)
		if n < 3 || (len(d.marks) > 0 && int(d.marks[len(d.marks)-1]) > n-3) {
			return malformed("stack underflow")
		}
		var kv [2]int32
		copy(kv[:], d.stack[n-2:])
		d.stack = d.stack[:n-2]
		return d.setItems(d.stack[n-3], kv[:])
	case 'u':
		items, err := d.popMark()
		if err != nil {
			return err
		}
		m, err := d.top()
		if err != nil {
			return err
		}
		return d.setItems(m, items)
	}
	return nil
}

// scratchStr points v at s, the most recent string appended to d.scratch.
func (d *Decoder) scratchStr(v *value, s []byte) {
	v.scratch = true
	v.soff, v.slen = uint32(len(d.scratch)-len(s)), uint32(len(s))
}

// setLong decodes a little-endian two's complement integer. Values beyond
// int64 keep an approximate float64 and i = 0 with f set (Int reports !ok).
func setLong(v *value, b []byte) {
	if len(b) == 0 {
		return
	}
	if len(b) <= 8 {
		var u uint64
		for j := len(b) - 1; j >= 0; j-- {
			u = u<<8 | uint64(b[j])
		}
		if b[len(b)-1]&0x80 != 0 && len(b) < 8 {
			u |= ^uint64(0) << (8 * uint(len(b)))
		}
		v.setInt(int64(u))
		return
	}
	neg := b[len(b)-1]&0x80 != 0
	f := 0.0
	for j := len(b) - 1; j >= 0; j-- {
		c := b[j]
		if neg {
			c = ^c
		}
		f = f*256 + float64(c)
	}
	if neg {
		f = -(f + 1)
	}
	v.setFloat(f)
	v.sealed = false
	v.depth = 0
	v.kind = KindFloat // too big for int64: expose as an approximate float
}

func (d *Decoder) textNumber(op byte, arg []byte) error {
	switch op {
	case 'I':
		if string(arg) == "01" || string(arg) == "00" {
			v, err := d.push(KindBool)
			if err != nil {
				return err
			}
			if arg[1] == '1' {
				v.setInt(1)
			}
			return nil
		}
		n, err := strconv.ParseInt(string(arg), 10, 64)
		if err != nil {
			return malformed("bad INT %q", arg)
		}
		v, err := d.push(KindInt)
		if err != nil {
			return err
		}
		v.setInt(n)
	case 'L':
		if len(arg) > 0 && arg[len(arg)-1] == 'L' {
			arg = arg[:len(arg)-1]
		}
		n, err := strconv.ParseInt(string(arg), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(arg), 64)
			if ferr != nil || !isDigits(arg) {
				return malformed("bad LONG %q", arg)
			}
			v, err := d.push(KindFloat)
			if err != nil {
				return err
			}
			v.setFloat(f)
			return nil
		}
		v, err := d.push(KindInt)
		if err != nil {
			return err
		}
		v.setInt(n)
	case 'F':
		f, err := strconv.ParseFloat(string(arg), 64)
		if err != nil {
			// Python 2 writes nan/inf as "nan", "inf", "-inf"; ParseFloat
			// accepts those; anything else is malformed.
			return malformed("bad FLOAT %q", arg)
		}
		v, err := d.push(KindFloat)
		if err != nil {
			return err
		}
		v.setFloat(f)
	}
	return nil
}

func isDigits(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// unquote decodes a protocol-0 STRING argument (a Python 2 repr of a str).
func (d *Decoder) unquote(arg []byte) ([]byte, error) {
	if len(arg) < 2 || (arg[0] != '\'' && arg[0] != '"') || arg[len(arg)-1] != arg[0] {
		return nil, malformed("STRING argument not quoted")
	}
	in := arg[1 : len(arg)-1]
	start := len(d.scratch)
	for j := 0; j < len(in); j++ {
		c := in[j]
		if c != '\\' {
			d.scratch = append(d.scratch, c)
			continue
		}
		j++
		if j >= len(in) {
			return nil, malformed("trailing backslash in STRING")
		}
		switch e := in[j]; e {
		case '\\', '\'', '"':
			d.scratch = append(d.scratch, e)
		case 'n':
			d.scratch = append(d.scratch, '\n')
		case 't':
			d.scratch = append(d.scratch, '\t')
		case 'r':
			d.scratch = append(d.scratch, '\r')
		case 'a':
			d.scratch = append(d.scratch, 7)
		case 'b':
			d.scratch = append(d.scratch, 8)
		case 'f':
			d.scratch = append(d.scratch, 12)
		case 'v':
			d.scratch = append(d.scratch, 11)
		case 'x':
			if j+2 >= len(in) {
				return nil, malformed("short \\x escape")
			}
			h1, ok1 := unhex(in[j+1])
			h2, ok2 := unhex(in[j+2])
			if !ok1 || !ok2 {
				return nil, malformed("bad \\x escape")
			}
			d.scratch = append(d.scratch, h1<<4|h2)
			j += 2
		default:
			if e >= '0' && e <= '7' {
				n := 0
				k := j
				for ; k < len(in) && k < j+3 && in[k] >= '0' && in[k] <= '7'; k++ {
					n = n*8 + int(in[k]-'0')
				}
				d.scratch = append(d.scratch, byte(n))
				j = k - 1
				continue
			}
			// Python keeps unknown escapes literally.
			d.scratch = append(d.scratch, '\\', e)
		}
	}
	return d.scratch[start:len(d.scratch):len(d.scratch)], nil
}

// rawUnicode decodes Python's raw-unicode-escape (protocol-0 UNICODE): bytes
// are Latin-1 code points except \uXXXX and \UXXXXXXXX escapes.
func (d *Decoder) rawUnicode(arg []byte) ([]byte, error) {
	start := len(d.scratch)
	for j := 0; j < len(arg); j++ {
		c := arg[j]
		if c == '\\' && j+1 < len(arg) && (arg[j+1] == 'u' || arg[j+1] == 'U') {
			// Only an odd run of backslashes escapes; pickle never emits
			// "\\\\u", it escapes backslash itself as \u005c.
			n := 4
			if arg[j+1] == 'U' {
				n = 8
			}
			if j+2+n > len(arg) {
				return nil, malformed("short \\u escape")
			}
			r := rune(0)
			for _, h := range arg[j+2 : j+2+n] {
				x, ok := unhex(h)
				if !ok {
					return nil, malformed("bad \\u escape")
				}
				r = r<<4 | rune(x)
			}
			if r > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
				return nil, malformed("escape outside unicode range")
			}
			d.scratch = utf8.AppendRune(d.scratch, r)
			j += 1 + n
			continue
		}
		if c < 0x80 {
			d.scratch = append(d.scratch, c)
		} else {
			d.scratch = utf8.AppendRune(d.scratch, rune(c))
		}
	}
	return d.scratch[start:len(d.scratch):len(d.scratch)], nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Kind returns the value's type.
func (r Ref) Kind() Kind { return r.d.vals[r.i].kind }

// Len returns the number of items of a tuple or list, the number of pairs of
// a dict, the byte length of a str or bytes, and 0 otherwise.
func (r Ref) Len() int {
	v := &r.d.vals[r.i]
	switch v.kind {
	case KindTuple:
		return int(v.tlen)
	case KindList:
		return len(r.d.lists[v.toff])
	case KindDict:
		return len(r.d.lists[v.toff]) / 2
	case KindStr, KindBytes:
		return int(v.slen)
	}
	return 0
}

// Index returns item i of a tuple or list. It panics when out of range, like
// a slice index.
func (r Ref) Index(i int) Ref {
	v := &r.d.vals[r.i]
	if v.kind == KindTuple {
		if i < 0 || i >= int(v.tlen) {
			panic("pickle: tuple index out of range")
		}
		return Ref{r.d, r.d.tkids[int(v.toff)+i]}
	}
	return Ref{r.d, r.d.lists[v.toff][i]}
}

// Bytes returns the content of a str (UTF-8) or bytes value; nil otherwise.
// The slice aliases the frame or the decoder's scratch buffer.
func (r Ref) Bytes() []byte {
	v := &r.d.vals[r.i]
	if v.kind == KindStr || v.kind == KindBytes {
		return r.d.str(v)
	}
	return nil
}

// Int returns an int or bool value.
func (r Ref) Int() (int64, bool) {
	v := &r.d.vals[r.i]
	if v.kind == KindInt || v.kind == KindBool {
		return v.int(), true
	}
	return 0, false
}

// Float converts the value as Python's float() would for ints, bools,
// floats, and str/bytes holding a number.
func (r Ref) Float() (float64, bool) {
	v := &r.d.vals[r.i]
	switch v.kind {
	case KindInt, KindBool:
		return float64(v.int()), true
	case KindFloat:
		return v.float(), true
	case KindStr, KindBytes:
		return parsePyFloat(r.d.str(v))
	}
	return 0, false
}

// Get looks a str or bytes key up in a dict.
func (r Ref) Get(key string) (Ref, bool) {
	v := &r.d.vals[r.i]
	if v.kind != KindDict {
		return Ref{}, false
	}
	found := Ref{}
	ok := false
	kids := r.d.lists[v.toff]
	for j := 0; j+1 < len(kids); j += 2 {
		k := &r.d.vals[kids[j]]
		if (k.kind == KindStr || k.kind == KindBytes) && string(r.d.str(k)) == key {
			found, ok = Ref{r.d, kids[j+1]}, true // later keys win, as in Python
		}
	}
	return found, ok
}

// parsePyFloat parses like Python's float(str): surrounding whitespace and
// underscores between digits are allowed, as are inf/nan spellings.
func parsePyFloat(s []byte) (float64, bool) {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) == 0 || len(s) > 64 {
		return 0, false
	}
	for _, c := range s {
		if c == '_' || c == 'x' || c == 'X' || c == 'p' || c == 'P' {
			// Go would accept hex floats and underscores; Python's float()
			// accepts neither hex nor (before we care) these forms reliably.
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
