package whisper

import (
	"os"
	"strings"
	"sync"
)

type scanDir struct {
	path   string // absolute directory path
	prefix string // metric prefix ("a.b."), "" at the root
	tagged int    // depth under _tagged (1 = _tagged itself), 0 = plain tree
}

// scan walks the tree with the given number of workers and adds every
// <seg>/.../<leaf>.wsp whose segments are valid metric segments to the index.
// Directory symlinks are not followed (no cycles); symlinked .wsp files are
// metrics.
func (s *Store) scan(workers int) {
	defer close(s.scanDone)
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		stack   = []scanDir{{path: s.dir}}
		pending = 1 // directories pushed and not yet finished
		wg      sync.WaitGroup
	)
	stopped := func() bool {
		select {
		case <-s.stop:
			return true
		default:
			return false
		}
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var subdirs []scanDir
			for {
				mu.Lock()
				for len(stack) == 0 && pending > 0 {
					cond.Wait()
				}
				if pending == 0 {
					mu.Unlock()
					return
				}
				d := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				mu.Unlock()

				subdirs = subdirs[:0]
				if !stopped() {
					subdirs = s.scanOne(d, subdirs)
				}

				mu.Lock()
				stack = append(stack, subdirs...)
				pending += len(subdirs) - 1
				if pending == 0 || len(subdirs) > 0 {
					cond.Broadcast()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func (s *Store) scanOne(d scanDir, subdirs []scanDir) []scanDir {
	s.addWatch(d.path) // before reading: nothing created meanwhile is missed
	f, err := os.Open(d.path)
	if err != nil {
		return subdirs
	}
	defer f.Close()
	for {
		ents, err := f.ReadDir(1024)
		for _, e := range ents {
			n := e.Name()
			if strings.IndexByte(n, '.') >= 0 && !strings.HasSuffix(n, ".wsp") {
				continue // not a metric segment (hidden files, other files)
			}
			t := e.Type()
			if d.prefix == "" && n == taggedDir && t.IsDir() {
				subdirs = append(subdirs, scanDir{path: d.path + "/" + n, tagged: 1})
				continue
			}
			if d.tagged > 0 {
				s.scanTagged(d, e)
				if t.IsDir() && d.tagged < 3 {
					subdirs = append(subdirs, scanDir{path: d.path + "/" + n, tagged: d.tagged + 1})
				}
				continue
			}
			if strings.IndexByte(n, ';') >= 0 {
				continue // tagged series live under _tagged
			}
			switch {
			case t.IsDir():
				if strings.IndexByte(n, '.') < 0 {
					subdirs = append(subdirs, scanDir{path: d.path + "/" + n, prefix: d.prefix + n + "."})
				}
			case (t.IsRegular() || t&os.ModeSymlink != 0) && strings.HasSuffix(n, ".wsp"):
				leaf := n[:len(n)-len(".wsp")]
				if leaf == "" || strings.IndexByte(leaf, '.') >= 0 {
					continue // "a.b.wsp" has no metric name that maps back to it
				}
				name := d.prefix + leaf
				if validName(name) == nil {
					s.found(name, d.path+"/"+n)
				}
			}
		}
		if err != nil || len(ents) == 0 {
			return subdirs
		}
	}
}

// scanTagged handles one entry under _tagged: at depth 3 (_tagged/abc/def/)
// a readable-name file is decoded to its tagged name and indexed. Hash-named
// files cannot be decoded; their names come from the index's own persisted
// tagged set.
func (s *Store) scanTagged(d scanDir, e os.DirEntry) {
	n := e.Name()
	if d.tagged != 3 || e.IsDir() || !strings.HasSuffix(n, ".wsp") {
		return
	}
	leaf := n[:len(n)-len(".wsp")]
	if isHashLeaf(leaf) {
		s.scannedHashed.Add(1)
		return
	}
	name := strings.ReplaceAll(leaf, dotEscape, ".")
	if isTagged(name) && validName(name) == nil {
		s.found(name, d.path+"/"+n)
	}
}

func (s *Store) found(name, path string) {
	s.scanned.Add(1)
	if s.onFile != nil {
		s.onFile(name, path)
		return
	}
	s.index.Add(name)
}
