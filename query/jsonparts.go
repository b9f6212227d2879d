package query

import (
	"io"
	"runtime"
)

// JSONParts is a json answer (AppendJSON's bytes) held as parts to be
// written in order: a large answer stays in the pooled chunks it was
// encoded into (about 1 MiB each), so sending it needs no buffer of the whole
// answer (allocated, zeroed and copied into) before it is written. It is
// an io.Reader and io.WriterTo for one pass; Close puts the buffers back.
type JSONParts struct {
	parts [][]byte
	owned [][]byte
	n     int
	read  int // parts fully read
	off   int // bytes read of parts[read]
}

// EncodeJSONParts encodes list as AppendJSON does, between prefix and
// suffix (a JSONP callback's "name(" and ")"); the parts share prefix's
// and suffix's memory until Close.
func EncodeJSONParts(prefix []byte, list []*Series, noNullPoints bool, suffix []byte) *JSONParts {
	p := &JSONParts{}
	p.add(prefix)
	p.add(jsonOpen)
	if anyValues(list) {
		points := make([]int, len(list))
		total := 0
		for i, s := range list {
			points[i] = jsonPoints(s)
			total += points[i]
		}
		w := 1
		if total >= parallelJSONPoints {
			w = max(1, min(runtime.GOMAXPROCS(0), len(list), maxJSONWorkers))
		}
		wrote := false
		for _, r := range encodeJSONRuns(list, points, total, w, noNullPoints) {
			p.owned = append(p.owned, r.chunks...)
			if !r.wrote {
				continue
			}
			if wrote {
				p.add(jsonComma)
			}
			for _, c := range r.chunks {
				p.add(c)
			}
			wrote = true
		}
	}
	p.add(jsonClose)
	p.add(suffix)
	return p
}

var (
	jsonOpen  = []byte("[")
	jsonClose = []byte("]")
	jsonComma = []byte(", ")
)

func (p *JSONParts) add(b []byte) {
	if len(b) > 0 {
		p.parts = append(p.parts, b)
		p.n += len(b)
	}
}

// Len is the answer's length in bytes.
func (p *JSONParts) Len() int { return p.n }

// Read copies the next bytes of the answer into b.
func (p *JSONParts) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) && p.read < len(p.parts) {
		c := copy(b[n:], p.parts[p.read][p.off:])
		n += c
		p.off += c
		if p.off == len(p.parts[p.read]) {
			p.read, p.off = p.read+1, 0
		}
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// WriteTo writes the rest of the answer to w, part by part.
func (p *JSONParts) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for p.read < len(p.parts) {
		n, err := w.Write(p.parts[p.read][p.off:])
		total += int64(n)
		p.off += n
		if err != nil {
			return total, err
		}
		p.read, p.off = p.read+1, 0
	}
	return total, nil
}

// AppendTo appends the whole answer to b.
func (p *JSONParts) AppendTo(b []byte) []byte {
	for _, part := range p.parts {
		b = append(b, part...)
	}
	return b
}

// Close puts the run buffers back for later answers; p is empty after.
func (p *JSONParts) Close() error {
	for _, b := range p.owned {
		putRunBuf(b)
	}
	*p = JSONParts{}
	return nil
}
