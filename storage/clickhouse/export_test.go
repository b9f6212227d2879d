package clickhouse

// SetPushdown switches Options.Pushdown of an open store, to compare reads
// with and without it on the same rows.
func SetPushdown(s *Store, on bool) { s.opts.Pushdown = on }

// DatabaseOf is the store's database.
func DatabaseOf(s *Store) string { return s.t.Database }
