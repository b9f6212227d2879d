package clickhouse

// SetRawReads makes s aggregate every archive in Plumbago from the points
// (the reads before the pushdown), to compare the two.
func SetRawReads(s *Store, raw bool) { s.rawReads = raw }
