// Package pickle is a safe, allocation-free decoder for the subset of
// Python's pickle format that carbon traffic uses. Pickles are written by
// query/pickleenc.
//
// The decoder understands pickle protocols 0 through 5 but only the opcodes
// that build None, bools, ints, floats, str, bytes, tuples and lists (and,
// when a Decoder has AllowDicts set, dicts, which carbonlink requests use).
// Every opcode that resolves a global, calls a function or constructs an
// object (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, EXT*,
// PERSID, sets, out-of-band buffers) rejects the whole frame with an error
// wrapping ErrUnsafe. Sizes and nesting are bounded (Limits) so a hostile
// frame cannot make the decoder allocate more than a small multiple of the
// frame's own size, and containers can only be mutated before they are placed
// inside another container, which rules out cycles.
//
// Strings are returned as views into the frame (or into the decoder's scratch
// buffer for protocol-0 escaped strings); they are valid until the next call
// on the same Decoder and until the caller reuses the frame.
//
// Carbon's pickle receiver (port 2004) frames each message as a 4-byte
// big-endian length followed by a pickle of [(path, (timestamp, value)), ...];
// DecodePoints walks such a frame and calls a sink per point. Frame splitting
// is the caller's job (see FrameLen).
package pickle
