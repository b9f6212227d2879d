package clickhouse

// SetPushdown switches Options.Pushdown of an open store, to compare reads
// with and without it on the same rows.
func SetPushdown(s *Store, on bool) { s.opts.Pushdown = on }
