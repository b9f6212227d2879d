package seriesops

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// Renamed is one series renamed (or, dry, to be renamed); Merged tells its
// points were filled into an existing series.
type Renamed struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Merged bool   `json:"merged"`
}

// RenameResult is what a rename did (or, dry, would do).
type RenameResult struct {
	Renamed []Renamed `json:"renamed"`
	DryRun  bool      `json:"dry_run"`
}

// hasMeta reports whether s is a glob rather than one name.
func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[{") }

// rewriter compiles a glob into a regular expression with one capture group
// per wildcard (*, **, ?, [...], {...}), numbered from 1 left to right, and
// expands \1..\99 in the replacement.
type rewriter struct {
	re   *regexp.Regexp
	repl string
}

func compileRewrite(glob, repl string) (*rewriter, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				b.WriteString("(.*)")
				i++
			} else {
				b.WriteString("([^.]*)")
			}
		case '?':
			b.WriteString("([^.])")
		case '[':
			j := strings.IndexByte(glob[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("%w: unclosed [ in %q", ErrInvalid, glob)
			}
			class := glob[i+1 : i+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("([" + strings.ReplaceAll(class, `\`, `\\`) + "])")
			i += j
		case '{':
			j := strings.IndexByte(glob[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("%w: unclosed { in %q", ErrInvalid, glob)
			}
			alts := strings.Split(glob[i+1:i+j], ",")
			for k, a := range alts {
				alts[k] = regexp.QuoteMeta(a)
			}
			b.WriteString("(" + strings.Join(alts, "|") + ")")
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: glob %q: %w", ErrInvalid, glob, err)
	}
	// Check the back-references against the groups.
	for i := 0; i < len(repl); i++ {
		if repl[i] != '\\' {
			continue
		}
		j := i + 1
		for j < len(repl) && j < i+3 && repl[j] >= '0' && repl[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(repl[i+1 : j]); err != nil || n == 0 || n > re.NumSubexp() {
			return nil, fmt.Errorf("%w: %q refers to group %q; the glob %q has %d", ErrInvalid, repl, repl[i+1:j], glob, re.NumSubexp())
		}
	}
	return &rewriter{re: re, repl: repl}, nil
}

// apply returns the new name of name, or false when the glob does not
// match it.
func (r *rewriter) apply(name string) (string, bool) {
	m := r.re.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(r.repl); i++ {
		if r.repl[i] != '\\' {
			b.WriteByte(r.repl[i])
			continue
		}
		j := i + 1
		for j < len(r.repl) && j < i+3 && r.repl[j] >= '0' && r.repl[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(r.repl[i+1 : j])
		b.WriteString(m[n])
		i = j - 1
	}
	return b.String(), true
}

// validTarget checks a new name: plain names need non-empty segments and no
// glob characters.
func validTarget(name string) error {
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") ||
		strings.ContainsAny(name, "*?[]{}/ \x00") {
		return fmt.Errorf("%w: new name %q", ErrInvalid, name)
	}
	return nil
}

// Plan returns the renames from → to asks for: one series, or, when from is
// a glob, every series it matches with to's \N replaced by the text the
// N-th wildcard matched. Without merge no target may exist already or be
// the target of two series.
func (o *Ops) Plan(from, to string, merge bool) ([]Renamed, error) {
	var pairs []Renamed
	if !hasMeta(from) {
		if !o.Index.Has(from) {
			return nil, fmt.Errorf("renaming %q: %w", from, storage.ErrNotFound)
		}
		if strings.Contains(to, `\`) {
			return nil, fmt.Errorf("%w: back-references need a glob to rename from", ErrInvalid)
		}
		pairs = append(pairs, Renamed{From: from, To: to})
	} else {
		rw, err := compileRewrite(from, to)
		if err != nil {
			return nil, err
		}
		names, err := o.Select(Selector{Globs: []string{from}})
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			t, ok := rw.apply(n)
			if !ok {
				return nil, fmt.Errorf("%w: the glob %q matches %q in the index but not as a rewrite", ErrInvalid, from, n)
			}
			pairs = append(pairs, Renamed{From: n, To: t})
		}
	}
	sources := map[string]bool{}
	for _, p := range pairs {
		sources[p.From] = true
	}
	targets := map[string]bool{}
	out := pairs[:0]
	for _, p := range pairs {
		if p.From == p.To {
			continue
		}
		if err := validTarget(p.To); err != nil && !strings.Contains(p.To, ";") {
			return nil, err
		}
		if sources[p.To] {
			return nil, fmt.Errorf("%w: %q is renamed and also the new name of %q; rename in two steps", ErrInvalid, p.To, p.From)
		}
		exists := targets[p.To] || o.Index.Has(p.To)
		if exists && !merge {
			return nil, fmt.Errorf("renaming %q to %q (add merge to fill it): %w", p.From, p.To, storage.ErrExists)
		}
		p.Merged = exists
		targets[p.To] = true
		out = append(out, p)
	}
	return out, nil
}

// Rename renames from to to (see Plan); merge fills existing targets with
// whisper-fill's semantics (their points are kept; gaps are filled from the
// renamed series, finest archive first) and then deletes the renamed
// series. dry only plans.
func (o *Ops) Rename(from, to string, merge, dry bool) (RenameResult, error) {
	pairs, err := o.Plan(from, to, merge)
	res := RenameResult{Renamed: pairs, DryRun: dry}
	if res.Renamed == nil {
		res.Renamed = []Renamed{}
	}
	if err != nil || dry || len(pairs) == 0 {
		return res, err
	}
	if o.Buffer != nil {
		// Everything accepted so far goes to the store first, so a merge
		// sees all of both series.
		o.Buffer.Sync()
	}
	done := 0
	var merged []string
	err = o.pause(func() error {
		for i := range pairs {
			m, err := o.renameOne(pairs[i].From, pairs[i].To)
			if err != nil {
				return err
			}
			pairs[i].Merged = m
			if m {
				merged = append(merged, pairs[i].From)
			}
			done++
		}
		return nil
	})
	o.changed()
	res.Renamed = pairs[:done]
	if err != nil {
		return res, err
	}
	if c, ok := o.Store.(Compactor); ok && len(merged) > 0 {
		if _, err := c.CompactDeleted(); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (o *Ops) now() int64 {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now().Unix()
}

// renameOne moves or merges one series (inside pause) and reports whether
// it merged.
func (o *Ops) renameOne(from, to string) (merged bool, err error) {
	fromHeld, toHeld := o.Index.Has(from), o.Index.Has(to)
	srcPts := o.take(from)
	dstPts := o.take(to)
	_, srcErr := o.Store.SeriesRetentions(from)
	_, dstErr := o.Store.SeriesRetentions(to)
	srcStored := srcErr == nil
	dstStored := dstErr == nil
	if srcErr != nil && !errors.Is(srcErr, storage.ErrNotFound) {
		return false, srcErr
	}
	if dstErr != nil && !errors.Is(dstErr, storage.ErrNotFound) {
		return false, dstErr
	}
	switch {
	case srcStored && dstStored:
		if err := o.fill(from, to); err != nil {
			return false, fmt.Errorf("merging %q into %q: %w", from, to, err)
		}
		if _, _, err := o.Store.DeleteSeries([]string{from}); err != nil {
			return true, fmt.Errorf("deleting %q after merging it into %q: %w", from, to, err)
		}
		merged = true
	case srcStored:
		if err := o.Store.RenameSeries(from, to); err != nil {
			return false, err
		}
	}
	// Points that arrived since the sync: the renamed series' first, the
	// target's own after them (a slot holding both keeps the target's).
	if len(srcPts)+len(dstPts) > 0 {
		b := storage.Batch{Series: []storage.SeriesPoints{{Name: to, Points: append(srcPts, dstPts...)}}}
		if err := o.Store.Write(&b); err != nil {
			return merged, fmt.Errorf("writing the buffered points of %q: %w", to, err)
		}
	}
	o.Index.Delete(from)
	o.Index.Add(to)
	if fromHeld {
		o.forget([]string{from})
	}
	if !toHeld && o.Count != nil {
		o.Count(to)
	}
	return merged || (dstStored || len(dstPts) > 0), nil
}
