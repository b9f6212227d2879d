package graph

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math"
	"strconv"
)

// pdfWriter writes a one-page PDF 1.4 whose content stream holds the
// drawing as path operators (text as glyph outlines, like the other
// formats), y flipped to cairo's top-left origin.
type pdfWriter struct {
	w, h   float64
	c      bytes.Buffer
	alphas map[string]string // "ca 0.5" -> /GSn
	order  []string
}

func newPDF(w, h float64) *pdfWriter {
	p := &pdfWriter{w: w, h: h, alphas: map[string]string{}}
	p.c.WriteString("1 0 0 -1 0 ")
	p.num(h)
	p.c.WriteString(" cm\n")
	return p
}

func (p *pdfWriter) num(v float64) {
	b := strconv.AppendFloat(p.c.AvailableBuffer(), v, 'f', 4, 64)
	b = bytes.TrimRight(b, "0")
	b = bytes.TrimSuffix(b, []byte("."))
	if len(b) == 0 || string(b) == "-" || string(b) == "-0" {
		b = []byte("0")
	}
	p.c.Write(b)
}

func (p *pdfWriter) header(string) {}

func (p *pdfWriter) pathOps(q *path) {
	j := 0
	pt := func(i int) {
		p.num(q.pts[i])
		p.c.WriteByte(' ')
		p.num(q.pts[i+1])
		p.c.WriteByte(' ')
	}
	cx, cy := 0.0, 0.0
	for _, c := range q.cmds {
		switch c {
		case cmdMove:
			pt(j)
			p.c.WriteString("m\n")
			cx, cy = q.pts[j], q.pts[j+1]
			j += 2
		case cmdLine:
			pt(j)
			p.c.WriteString("l\n")
			cx, cy = q.pts[j], q.pts[j+1]
			j += 2
		case cmdQuad:
			x1, y1, x, y := q.pts[j], q.pts[j+1], q.pts[j+2], q.pts[j+3]
			for _, v := range []float64{cx + 2.0/3*(x1-cx), cy + 2.0/3*(y1-cy), x + 2.0/3*(x1-x), y + 2.0/3*(y1-y), x, y} {
				p.num(v)
				p.c.WriteByte(' ')
			}
			p.c.WriteString("c\n")
			cx, cy = x, y
			j += 4
		case cmdCube:
			pt(j)
			pt(j + 2)
			pt(j + 4)
			p.c.WriteString("c\n")
			cx, cy = q.pts[j+4], q.pts[j+5]
			j += 6
		case cmdClose:
			p.c.WriteString("h\n")
		}
	}
}

func (p *pdfWriter) gs(op string, a float64) {
	if a >= 1 {
		return
	}
	k := op + " " + strconv.FormatFloat(a, 'f', 4, 64)
	name, ok := p.alphas[k]
	if !ok {
		name = fmt.Sprintf("GS%d", len(p.order))
		p.alphas[k] = name
		p.order = append(p.order, k)
	}
	p.c.WriteString("/" + name + " gs\n")
}

func (p *pdfWriter) begin(clip *clipState) {
	p.c.WriteString("q\n")
	var chain []*clipState
	for c := clip; c != nil; c = c.parent {
		chain = append(chain, c)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		p.pathOps(&chain[i].p)
		p.c.WriteString("W n\n")
	}
}

func (p *pdfWriter) color(c rgba, op string) {
	for _, v := range []float64{c.r, c.g, c.b} {
		p.num(v)
		p.c.WriteByte(' ')
	}
	p.c.WriteString(op + "\n")
}

func (p *pdfWriter) fill(q *path, c rgba, clip *clipState) {
	if c.a <= 0 {
		return
	}
	p.begin(clip)
	p.gs("ca", c.a)
	p.color(c, "rg")
	p.pathOps(q)
	p.c.WriteString("f\nQ\n")
}

func (p *pdfWriter) stroke(q *path, st *strokeStyle, c rgba, clip *clipState) {
	if c.a <= 0 {
		return
	}
	p.begin(clip)
	p.gs("CA", c.a)
	p.color(c, "RG")
	p.num(st.width)
	p.c.WriteString(" w 0 J 0 j 10 M\n")
	if len(st.dash) > 0 {
		p.c.WriteString("[")
		for _, d := range st.dash {
			p.num(d)
			p.c.WriteByte(' ')
		}
		p.c.WriteString("] ")
		p.num(st.dashOffset)
		p.c.WriteString(" d\n")
	}
	p.pathOps(q)
	p.c.WriteString("S\nQ\n")
}

func (p *pdfWriter) finish() []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(p.c.Bytes())
	zw.Close()
	var out bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	var gs bytes.Buffer
	for _, k := range p.order {
		op, a, _ := bytes.Cut([]byte(k), []byte(" "))
		fmt.Fprintf(&gs, "/%s << /Type /ExtGState /%s %s >> ", p.alphas[k], op, a)
	}
	obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Contents 4 0 R /Resources << /ExtGState << %s>> >> >>",
		pdfNum(p.w), pdfNum(p.h), gs.String()))
	offs = append(offs, out.Len())
	fmt.Fprintf(&out, "4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", z.Len())
	out.Write(z.Bytes())
	out.WriteString("\nendstream\nendobj\n")
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return out.Bytes()
}

func pdfNum(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
