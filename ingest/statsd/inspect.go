package statsd

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

// This file reproduces the parts of Node's util.inspect (default options:
// breakLength 80, compact 3, maxArrayLength 100) that etsy's admin console
// output depends on: flat objects whose values are numbers or arrays of
// numbers or strings.

const breakLength = 80

func inspectNumber(f float64) string {
	if f == 0 && math.Signbit(f) {
		return "-0"
	}
	return jsNumberString(f)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

func inspectString(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func inspectKey(k string) string {
	if isIdent(k) {
		return k
	}
	return inspectString(k)
}

// inspectArray formats an array of already formatted elements at the given
// indentation. numeric selects right alignment when grouping.
func inspectArray(elems []string, indent int, numeric bool) string {
	if len(elems) == 0 {
		return "[]"
	}
	output := elems
	if len(elems) > 100 {
		more := len(elems) - 100
		output = append(append([]string(nil), elems[:100]...), "... "+strconv.Itoa(more)+" more item"+map[bool]string{true: "s", false: ""}[more > 1])
	}
	entries := len(output)
	if len(output) > 6 {
		output = groupArrayElements(output, indent, len(elems) > 100, numeric)
	}
	return reduceToSingleString(output, indent, "[", "]", entries == len(output))
}

func groupArrayElements(output []string, indent int, hasMore, numeric bool) []string {
	totalLength, maxLength := 0, 0
	outputLength := len(output)
	if hasMore {
		outputLength--
	}
	const separatorSpace = 2
	dataLen := make([]int, outputLength)
	for i := 0; i < outputLength; i++ {
		l := len(output[i])
		dataLen[i] = l
		totalLength += l + separatorSpace
		if maxLength < l {
			maxLength = l
		}
	}
	actualMax := maxLength + separatorSpace
	if actualMax*3+indent < breakLength && (float64(totalLength)/float64(actualMax) > 5 || maxLength <= 6) {
		averageBias := math.Sqrt(float64(actualMax) - float64(totalLength)/float64(len(output)))
		biasedMax := math.Max(float64(actualMax)-3-averageBias, 1)
		columns := min(
			int(math.Floor(math.Sqrt(2.5*biasedMax*float64(outputLength))/biasedMax+0.5)),
			(breakLength-indent)/actualMax,
			3*4,
			15,
		)
		if columns <= 1 {
			return output
		}
		var tmp []string
		var maxLineLength []int
		for i := 0; i < columns; i++ {
			lineLength := 0
			for j := i; j < len(output); j += columns {
				if j < outputLength && dataLen[j] > lineLength {
					lineLength = dataLen[j]
				}
			}
			maxLineLength = append(maxLineLength, lineLength+separatorSpace)
		}
		for i := 0; i < outputLength; i += columns {
			maxI := min(i+columns, outputLength)
			var b strings.Builder
			j := i
			for ; j < maxI-1; j++ {
				s := output[j] + ", "
				b.WriteString(pad(s, maxLineLength[j-i], numeric))
			}
			if numeric {
				b.WriteString(pad(output[j], maxLineLength[j-i]-separatorSpace, true))
			} else {
				b.WriteString(output[j])
			}
			tmp = append(tmp, b.String())
		}
		if hasMore {
			tmp = append(tmp, output[outputLength])
		}
		output = tmp
	}
	return output
}

func pad(s string, n int, start bool) string {
	if len(s) >= n {
		return s
	}
	if start {
		return strings.Repeat(" ", n-len(s)) + s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func reduceToSingleString(output []string, indent int, open, close string, ungrouped bool) string {
	if len(output) == 0 {
		return open + close
	}
	if ungrouped {
		start := len(output) + indent + len(open) + 10
		if isBelowBreakLength(output, start) {
			joined := strings.Join(output, ", ")
			if !strings.Contains(joined, "\n") {
				return open + " " + joined + " " + close
			}
		}
	}
	ind := "\n" + strings.Repeat(" ", indent)
	return open + ind + "  " + strings.Join(output, ","+ind+"  ") + ind + close
}

func isBelowBreakLength(output []string, start int) bool {
	total := len(output) + start
	if total+len(output) > breakLength {
		return false
	}
	for _, o := range output {
		total += len(o)
		if total > breakLength {
			return false
		}
	}
	return true
}

// inspectObject formats a flat object of already formatted values, keys in
// a JavaScript object's own order: array-index keys ("0" to "4294967294",
// no leading zeros) first in numeric order, then the rest as inserted.
func inspectObject(keys, vals []string) string {
	out := make([]string, 0, len(keys))
	var idx []int
	for i, k := range keys {
		if _, ok := arrayIndex(k); ok {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, _ := arrayIndex(keys[a])
		y, _ := arrayIndex(keys[b])
		return cmp.Compare(x, y)
	})
	for _, i := range idx {
		out = append(out, inspectKey(keys[i])+": "+vals[i])
	}
	for i, k := range keys {
		if _, ok := arrayIndex(k); !ok {
			out = append(out, inspectKey(k)+": "+vals[i])
		}
	}
	return reduceToSingleString(out, 0, "{", "}", true)
}

// arrayIndex reports whether k is a JavaScript array index, the canonical
// decimal form of an integer below 2^32 - 1, and its value.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || len(k) > 1 && k[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n < 1<<32-1
}
