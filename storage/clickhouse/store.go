package clickhouse

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// Options configure a Store.
type Options struct {
	// URLs of the ClickHouse HTTP interface (http:// or https://): replicas
	// or Distributed fronts; a write or read goes to the one that answered
	// last and fails over to the next.
	URLs     []string
	User     string
	Password string
	TLS      *tls.Config // for https:// URLs; nil = the system roots
	Tables   Tables
	// Timeout bounds one HTTP request (default 60 s).
	Timeout time.Duration
	// CreateTables runs DDL (single node) at Open.
	CreateTables bool
	Rules        *schema.Rules
	// Index, when set, is filled at Open with every name of the index
	// tables, gets each name written, and is refreshed every
	// IndexRefresh with names other writers added (0 = only at Open).
	Index        *index.Index
	IndexRefresh time.Duration
	Now          func() int64 // clock for retention decisions (default time.Now)
	// Pushdown makes reads of a coarse archive aggregate the first rollup
	// level in ClickHouse (pushdown.go): far fewer rows and bytes cross the
	// wire, for more CPU on the server (docs/clickhouse.md, "Pushdown").
	Pushdown bool
	// InsertQuorum > 1 makes every insert wait until that many replicas
	// of each shard have its rows (ClickHouse's insert_quorum; 0 or 1:
	// one replica acknowledges). A shard with fewer live replicas takes
	// no writes: its inserts fail and the write buffer retries them.
	InsertQuorum int
	Logger       *slog.Logger
}

// Stats are the store's counters.
type Stats struct {
	PointsWritten   uint64 // rows inserted into the points table
	PointsDropped   uint64 // older than the series' retention
	NoSchema        uint64 // points of names no schema matches
	Inserts         uint64 // INSERT statements acknowledged
	InsertErrors    uint64 // INSERTs that failed (the batch is kept and retried)
	InsertBytes     uint64 // compressed bytes sent in acknowledged inserts
	IndexRows       uint64 // rows inserted into the index and tagged tables
	Fetches         uint64
	FetchErrors     uint64
	FetchRows       uint64 // rows of fetch answers (points, or level-1 cells of a coarse archive)
	FetchBytes      uint64 // bytes of fetch answers (RowBinary, uncompressed)
	FetchQueries    uint64 // SELECTs sent for fetches: one per group of series a FetchMany reads together
	IndexRefreshErr uint64
	// BadTaggedPaths are tagged paths of the tagged table that Plumbago
	// cannot name (bad escapes, tags carbon rejects): left out of the
	// name index, logged.
	BadTaggedPaths uint64
}

// series is what the store keeps of a name it wrote.
type series struct {
	path    string // the name's Path in ClickHouse (chPath)
	rets    []schema.Retention
	method  schema.Method
	xff     float64
	lastVer uint32 // version (Timestamp column) of its last write
	day     uint16 // newest UTC day of its points whose index rows were written (0: never)
}

// Store is the ClickHouse backend.
type Store struct {
	opts   Options
	t      Tables
	cl     *client
	log    *slog.Logger
	mu     sync.Mutex
	series map[string]*series
	pool   sync.Pool // *writer

	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool
	maxVer   atomic.Uint32 // newest index Version seen by the last load
	pointsW  atomic.Uint64
	dropped  atomic.Uint64
	noSchema atomic.Uint64
	inserts  atomic.Uint64
	insErr   atomic.Uint64
	insBytes atomic.Uint64
	idxRows  atomic.Uint64
	fetches  atomic.Uint64
	fetchErr atomic.Uint64
	refErr   atomic.Uint64
	badPaths atomic.Uint64

	fetchRows    atomic.Uint64
	fetchBytes   atomic.Uint64
	fetchQueries atomic.Uint64
}

// Open connects to ClickHouse, checks (or with CreateTables creates) the
// tables, and loads the index tables' names into opts.Index.
func Open(opts Options) (*Store, error) {
	if opts.Rules == nil {
		return nil, errors.New("clickhouse: Options.Rules is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().Unix() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	t := opts.Tables.withDefaults()
	if err := t.validate(); err != nil {
		return nil, err
	}
	cl, err := newClient(opts.URLs, opts.User, opts.Password, opts.TLS, opts.Timeout, opts.InsertQuorum)
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, t: t, cl: cl, log: opts.Logger, series: map[string]*series{},
		stop: make(chan struct{}), done: make(chan struct{})}
	s.pool.New = func() any { return new(writer) }
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	if opts.CreateTables {
		stmts, err := DDL(t)
		if err != nil {
			return nil, err
		}
		for _, q := range stmts {
			if err := cl.exec(ctx, q); err != nil {
				return nil, fmt.Errorf("creating the clickhouse tables: %w", err)
			}
		}
	}
	for _, tb := range []string{t.Points, t.Index, t.Tagged} {
		if _, err := cl.query(ctx, fmt.Sprintf("SELECT 1 FROM %s.%s LIMIT 0", t.Database, tb)); err != nil {
			return nil, fmt.Errorf("checking table %s.%s (plumbago clickhouse schema prints the DDL): %w", t.Database, tb, err)
		}
	}
	if opts.Index != nil {
		n, err := s.loadNames(ctx, 0)
		if err != nil {
			return nil, fmt.Errorf("loading the clickhouse index: %w", err)
		}
		s.log.Info("clickhouse index loaded", "names", n)
	}
	go s.refresh()
	return s, nil
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	return Stats{
		PointsWritten: s.pointsW.Load(), PointsDropped: s.dropped.Load(), NoSchema: s.noSchema.Load(),
		Inserts: s.inserts.Load(), InsertErrors: s.insErr.Load(), InsertBytes: s.insBytes.Load(),
		IndexRows: s.idxRows.Load(), Fetches: s.fetches.Load(), FetchErrors: s.fetchErr.Load(),
		IndexRefreshErr: s.refErr.Load(), BadTaggedPaths: s.badPaths.Load(),
		FetchRows: s.fetchRows.Load(), FetchBytes: s.fetchBytes.Load(), FetchQueries: s.fetchQueries.Load(),
	}
}

// Close stops the index refresh. Nothing is buffered in the store: every
// Write returned after ClickHouse acknowledged it.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.done
	s.cl.close()
	return nil
}

// refresh adds names other writers indexed, every IndexRefresh.
func (s *Store) refresh() {
	defer close(s.done)
	if s.opts.Index == nil || s.opts.IndexRefresh <= 0 {
		<-s.stop
		return
	}
	tk := time.NewTicker(s.opts.IndexRefresh)
	defer tk.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tk.C:
			// A margin: rows of the same second may land after a load.
			since := s.maxVer.Load()
			if since > 120 {
				since -= 120
			}
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			if _, err := s.loadNames(ctx, since); err != nil {
				s.refErr.Add(1)
				s.log.Warn("refreshing the clickhouse index", "err", err)
			}
			cancel()
		}
	}
}

// loadNames adds to opts.Index every metric of the index table (tree rows,
// leaves only) and every tagged series, with Version >= since.
func (s *Store) loadNames(ctx context.Context, since uint32) (int, error) {
	n := 0
	for _, q := range []string{
		fmt.Sprintf("SELECT Path, max(Version) FROM %s.%s WHERE Level > %d AND Level < %d AND Version >= %d GROUP BY Path ORDER BY Path FORMAT RowBinary",
			s.t.Database, s.t.Index, treeLevel, reverseTreeLevel, since),
		fmt.Sprintf("SELECT Path, max(Version) FROM %s.%s WHERE Version >= %d GROUP BY Path ORDER BY Path FORMAT RowBinary",
			s.t.Database, s.t.Tagged, since),
	} {
		out, err := s.cl.query(ctx, q)
		if err != nil {
			return n, err
		}
		err = decodePaths(out, func(p string, v uint32) {
			if v > s.maxVer.Load() {
				s.maxVer.Store(v)
			}
			if strings.HasSuffix(p, ".") { // a branch
				return
			}
			name, err := plumbagoName(p)
			if err != nil {
				s.badPaths.Add(1)
				s.log.Warn("skipping a tagged path of the clickhouse index", "err", err)
				return
			}
			if s.opts.Index.Add(name) {
				n++
			}
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// decodePaths decodes a RowBinary answer of (Path String, Version UInt32)
// rows, calling fn for each.
func decodePaths(out []byte, fn func(path string, ver uint32)) error {
	r := reader{b: out}
	for r.more() {
		p, v := r.str(), r.u32()
		if r.err != nil {
			break
		}
		fn(p, v)
	}
	return r.err
}

// info returns what the store keeps of name, matching the rules for a
// name seen the first time (kept when keep: a name written). Caller holds
// s.mu.
func (s *Store) info(name string, keep bool) (*series, error) {
	if ser := s.series[name]; ser != nil {
		return ser, nil
	}
	sch, agg, err := s.opts.Rules.Match(name)
	if err != nil {
		return nil, err
	}
	ser := &series{path: chPath(name), rets: sch.Retentions, method: agg.Method, xff: float64(float32(agg.XFilesFactor))}
	if keep {
		s.series[name] = ser
	}
	return ser, nil
}

// unreachable marks a failed request as one the caller retries.
func unreachable(what string, err error) error {
	return fmt.Errorf("%s: %w (%w)", what, storage.ErrUnreachable, err)
}

// quote writes s as a ClickHouse string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Find expands a graphite glob against the index table's tree rows (the
// depth of the pattern, narrowed by its literal prefix), sorted by path.
func (s *Store) Find(pattern string) ([]storage.Node, error) {
	depth := strings.Count(pattern, ".") + 1
	prefix := pattern
	if i := strings.IndexAny(pattern, "*?[{\\"); i >= 0 {
		prefix = pattern[:i]
	}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	q := fmt.Sprintf("SELECT DISTINCT Path FROM %s.%s WHERE Level = %d AND Path LIKE %s LIMIT %d FORMAT RowBinary",
		s.t.Database, s.t.Index, treeLevel+depth, quote(like), maxFindRows+1)
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	out, err := s.cl.query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("finding %q: %w", pattern, err)
	}
	// Match with the name index's own glob semantics: leaves as names,
	// branches as a name with one child below them.
	tmp := index.New()
	r := reader{b: out}
	rows := 0
	for r.more() {
		p := r.str()
		if r.err != nil {
			break
		}
		if rows++; rows > maxFindRows {
			return nil, fmt.Errorf("finding %q: more than %d index rows: %w", pattern, maxFindRows, storage.ErrTooManyResults)
		}
		if strings.HasSuffix(p, ".") {
			tmp.Add(p + "_")
		} else {
			tmp.Add(p)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("finding %q: %w", pattern, r.err)
	}
	nodes, err := tmp.Find(pattern)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(nodes, func(a, b storage.Node) int { return strings.Compare(a.Path, b.Path) })
	return nodes, nil
}

// maxFindRows bounds the index rows one Find reads.
const maxFindRows = 1_000_000

// exists reports whether the index tables know name.
func (s *Store) exists(ctx context.Context, name string) (bool, error) {
	s.mu.Lock()
	_, ok := s.series[name]
	s.mu.Unlock()
	if ok || (s.opts.Index != nil && s.opts.Index.Has(name)) {
		return true, nil
	}
	var q string
	if strings.IndexByte(name, ';') >= 0 {
		q = fmt.Sprintf("SELECT count() FROM %s.%s WHERE Path = %s FORMAT RowBinary", s.t.Database, s.t.Tagged, quote(chPath(name)))
	} else {
		q = fmt.Sprintf("SELECT count() FROM %s.%s WHERE Level = %d AND Path = %s FORMAT RowBinary",
			s.t.Database, s.t.Index, treeLevel+strings.Count(name, ".")+1, quote(name))
	}
	out, err := s.cl.query(ctx, q)
	if err != nil {
		return false, err
	}
	return len(out) == 8 && !bytes.Equal(out, make([]byte, 8)), nil
}
