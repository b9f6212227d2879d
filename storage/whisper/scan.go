package whisper

import (
	"os"
	"strings"
	"sync"
)

type scanDir struct {
	path   string // absolute directory path
	prefix string // metric prefix ("a.b."), "" at the root
	tagged int    // depth below <dir>/_tagged (1 = the _tagged dir itself), 0 elsewhere
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
			if d.tagged > 0 {
				s.scanTagged(d, n, t, &subdirs)
				continue
			}
			switch {
			case t.IsDir() && d.prefix == "" && n == taggedDir:
				subdirs = append(subdirs, scanDir{path: d.path + "/" + n, tagged: 1})
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
					s.index.Add(name)
					s.scanned.Add(1)
				}
			}
		}
		if err != nil || len(ents) == 0 {
			return subdirs
		}
	}
}

// scanTagged handles one entry below _tagged: two levels of hash
// directories, then files named after the series (see tagged.go).
func (s *Store) scanTagged(d scanDir, n string, t os.FileMode, subdirs *[]scanDir) {
	switch {
	case t.IsDir() && d.tagged < 3:
		*subdirs = append(*subdirs, scanDir{path: d.path + "/" + n, tagged: d.tagged + 1})
	case d.tagged == 3 && (t.IsRegular() || t&os.ModeSymlink != 0) && strings.HasSuffix(n, ".wsp"):
		if name, ok := decodeTaggedFile(n[:len(n)-len(".wsp")]); ok && validName(name) == nil {
			s.index.Add(name)
			s.scanned.Add(1)
		}
	}
}
