package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// clickhouseFlags binds the clickhouse backend's settings.
func clickhouseFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.ClickHouseURL, "clickhouse-url", c.ClickHouseURL, "clickhouse backend: comma-separated HTTP interface URLs (http:// or https://) of replicas or Distributed fronts; requests go to the one that answered last and fail over to the next")
	fs.StringVar(&c.ClickHouseDatabase, "clickhouse-database", c.ClickHouseDatabase, "clickhouse backend: database of the tables")
	fs.StringVar(&c.ClickHousePointsTable, "clickhouse-points-table", c.ClickHousePointsTable, "clickhouse backend: GraphiteMergeTree points table (carbon-clickhouse's Path, Value, Time, Date, Timestamp)")
	fs.StringVar(&c.ClickHouseIndexTable, "clickhouse-index-table", c.ClickHouseIndexTable, "clickhouse backend: path index table (Date, Level, Path, Version)")
	fs.StringVar(&c.ClickHouseTaggedTable, "clickhouse-tagged-table", c.ClickHouseTaggedTable, "clickhouse backend: tagged series table (Date, Tag1, Path, Tags, Version)")
	fs.StringVar(&c.ClickHouseUser, "clickhouse-user", c.ClickHouseUser, "clickhouse backend: user (HTTP basic auth; empty = the server's default user)")
	fs.StringVar(&c.ClickHousePassword, "clickhouse-password", c.ClickHousePassword, "clickhouse backend: password of --clickhouse-user (prefer the TOML key: flags show in ps)")
	fs.StringVar(&c.ClickHouseTLSCA, "clickhouse-tls-ca", c.ClickHouseTLSCA, "clickhouse backend: PEM CA bundle to verify https:// servers with (default: the system roots)")
	fs.StringVar(&c.ClickHouseTLSCert, "clickhouse-tls-cert", c.ClickHouseTLSCert, "clickhouse backend: PEM client certificate for https:// servers that ask for one, with --clickhouse-tls-key")
	fs.StringVar(&c.ClickHouseTLSKey, "clickhouse-tls-key", c.ClickHouseTLSKey, "clickhouse backend: PEM private key of --clickhouse-tls-cert")
	fs.BoolVar(&c.ClickHouseTLSInsecure, "clickhouse-tls-insecure-skip-verify", c.ClickHouseTLSInsecure, "clickhouse backend: do not verify the server's certificate (testing only)")
	fs.DurationVar(&c.ClickHouseTimeout.Duration, "clickhouse-timeout", c.ClickHouseTimeout.Duration, "clickhouse backend: the most one request (insert, fetch, find) may take")
	fs.DurationVar(&c.ClickHouseIndexRefresh.Duration, "clickhouse-index-refresh", c.ClickHouseIndexRefresh.Duration, "clickhouse backend: how often names other writers added to the index tables are loaded (0 = only at start)")
	fs.BoolVar(&c.ClickHousePushdown, "clickhouse-pushdown", c.ClickHousePushdown, "clickhouse backend: renders of a coarse archive have ClickHouse aggregate the finest rows into the second archive's slots (about 60x fewer rows sent for 1m -> 1h, for about 2.8x the server CPU on 18.16; docs/clickhouse.md)")
	fs.IntVar(&c.ClickHouseInsertQuorum, "clickhouse-insert-quorum", c.ClickHouseInsertQuorum, "clickhouse backend: replicas of a shard that must have an insert's rows before it is acknowledged (ClickHouse's insert_quorum; 0 = one replica acknowledges alone); a shard with fewer live replicas takes no writes and the write buffer keeps its points")
	fs.BoolVar(&c.ClickHouseCreateTables, "clickhouse-create-tables", c.ClickHouseCreateTables, "clickhouse backend: create the database and tables (single node) at start if missing; the server needs the graphite_rollup section first (plumbago clickhouse schema)")
}

func (c *Config) validateClickHouse() error {
	if len(clickhouseURLs(*c)) == 0 {
		return errors.New("--backend clickhouse: --clickhouse-url is empty")
	}
	if (c.ClickHouseTLSCert == "") != (c.ClickHouseTLSKey == "") {
		return errors.New("--clickhouse-tls-cert and --clickhouse-tls-key go together")
	}
	if c.ClickHouseTimeout.Duration <= 0 {
		return errors.New("--clickhouse-timeout must be > 0")
	}
	if c.ClickHouseInsertQuorum < 0 {
		return errors.New("--clickhouse-insert-quorum must be >= 0")
	}
	if c.ClickHouseIndexRefresh.Duration < 0 {
		return errors.New("--clickhouse-index-refresh must be >= 0")
	}
	return nil
}

func clickhouseURLs(c Config) []string {
	var out []string
	for _, u := range strings.Split(c.ClickHouseURL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// clickhouseTLS builds the client's TLS settings (nil: Go's defaults).
func clickhouseTLS(c Config) (*tls.Config, error) {
	if c.ClickHouseTLSCA == "" && c.ClickHouseTLSCert == "" && !c.ClickHouseTLSInsecure {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.ClickHouseTLSInsecure}
	if c.ClickHouseTLSCA != "" {
		pem, err := os.ReadFile(c.ClickHouseTLSCA)
		if err != nil {
			return nil, fmt.Errorf("--clickhouse-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--clickhouse-tls-ca %s: no PEM certificate", c.ClickHouseTLSCA)
		}
		tc.RootCAs = pool
	}
	if c.ClickHouseTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.ClickHouseTLSCert, c.ClickHouseTLSKey)
		if err != nil {
			return nil, fmt.Errorf("--clickhouse-tls-cert/--clickhouse-tls-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func clickhouseTables(c Config) clickhouse.Tables {
	return clickhouse.Tables{Database: c.ClickHouseDatabase, Points: c.ClickHousePointsTable,
		Index: c.ClickHouseIndexTable, Tagged: c.ClickHouseTaggedTable}
}

// openClickHouse opens the clickhouse backend.
func openClickHouse(cfg Config, rules *schema.Rules, idx *index.Index, log *slog.Logger) (*clickhouse.Store, error) {
	tc, err := clickhouseTLS(cfg)
	if err != nil {
		return nil, err
	}
	return clickhouse.Open(clickhouse.Options{
		URLs: clickhouseURLs(cfg), User: cfg.ClickHouseUser, Password: cfg.ClickHousePassword, TLS: tc,
		Tables: clickhouseTables(cfg), Timeout: cfg.ClickHouseTimeout.Duration,
		CreateTables: cfg.ClickHouseCreateTables && !cfg.readOnly(),
		Rules:        rules, Index: idx, IndexRefresh: cfg.ClickHouseIndexRefresh.Duration, Logger: log,
		Pushdown: cfg.ClickHousePushdown, InsertQuorum: cfg.ClickHouseInsertQuorum,
	})
}

// clickhouseMetrics adds the clickhouse backend's counters to /metrics.
func clickhouseMetrics(p *promWriter, s *clickhouse.Store, drops map[string]uint64) {
	st := s.Stats()
	drops["out_of_retention"] += st.PointsDropped
	drops["no_schema"] += st.NoSchema
	p.counter("plumbago_clickhouse_points_written_total", "Rows inserted into the ClickHouse points table.", st.PointsWritten)
	p.counter("plumbago_clickhouse_inserts_total", "INSERT statements ClickHouse acknowledged.", st.Inserts)
	p.counter("plumbago_clickhouse_insert_errors_total", "INSERTs that failed; their points stay in the write buffer and are retried.", st.InsertErrors)
	p.counter("plumbago_clickhouse_insert_bytes_total", "Compressed bytes of acknowledged INSERTs.", st.InsertBytes)
	p.counter("plumbago_clickhouse_index_rows_total", "Rows inserted into the index and tagged tables.", st.IndexRows)
	p.counter("plumbago_clickhouse_fetches_total", "Series fetched from ClickHouse.", st.Fetches)
	p.counter("plumbago_clickhouse_fetch_errors_total", "Fetches that failed.", st.FetchErrors)
	p.counter("plumbago_clickhouse_fetch_rows_total", "Rows of fetch answers: points, or for a coarse archive the second-finest archive's slots ClickHouse aggregated.", st.FetchRows)
	p.counter("plumbago_clickhouse_fetch_bytes_total", "Bytes of fetch answers (RowBinary).", st.FetchBytes)
	p.counter("plumbago_clickhouse_fetch_queries_total", "SELECTs sent for fetches: one per series fetched alone, one per group of series a render reads together (docs/clickhouse.md, Reads).", st.FetchQueries)
	p.counter("plumbago_clickhouse_index_refresh_errors_total", "Index refreshes that failed.", st.IndexRefreshErr)
	p.counter("plumbago_clickhouse_bad_tagged_paths_total", "Tagged paths of the tagged table that Plumbago cannot name, left out of the name index.", st.BadTaggedPaths)
}
