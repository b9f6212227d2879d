package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/plumbago/plumbago/storage/clickhouse"
	"github.com/plumbago/plumbago/storage/schema"
)

// runClickHouse runs `plumbago clickhouse <subcommand>`.
func runClickHouse(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "schema" {
		return errors.New("usage: plumbago clickhouse schema [--schemas F] [--aggregation F] [--cluster NAME] [--only ddl|rollup] [table flags]")
	}
	return runClickHouseSchema(args[1:], out)
}

// runClickHouseSchema prints the DDL of the tables and the graphite_rollup
// section generated from storage-schemas.conf and storage-aggregation.conf.
func runClickHouseSchema(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("clickhouse schema", flag.ContinueOnError)
	fl.SetOutput(out)
	schemas := fl.String("schemas", "", "storage-schemas.conf (default built in)")
	aggregation := fl.String("aggregation", "", "storage-aggregation.conf (default built in)")
	cluster := fl.String("cluster", "", "cluster name of remote_servers: ReplicatedGraphiteMergeTree / ReplicatedReplacingMergeTree <table>_local tables ON CLUSTER and Distributed tables over them (empty = one server)")
	only := fl.String("only", "", "print only the ddl or only the rollup section")
	section := fl.String("rollup-section", clickhouse.RollupSection, "name of the graphite_rollup section in the servers' config")
	def := DefaultConfig()
	db := fl.String("clickhouse-database", def.ClickHouseDatabase, "database")
	points := fl.String("clickhouse-points-table", def.ClickHousePointsTable, "points table")
	idx := fl.String("clickhouse-index-table", def.ClickHouseIndexTable, "path index table")
	tagged := fl.String("clickhouse-tagged-table", def.ClickHouseTaggedTable, "tagged table")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *only != "" && *only != "ddl" && *only != "rollup" {
		return fmt.Errorf("--only %q: want ddl or rollup", *only)
	}
	rules, err := schema.Load(*schemas, *aggregation)
	if err != nil {
		return err
	}
	t := clickhouse.Tables{Database: *db, Points: *points, Index: *idx, Tagged: *tagged, Rollup: *section}
	var stmts []string
	if *cluster != "" {
		stmts, err = clickhouse.ClusterDDL(t, *cluster)
	} else {
		stmts, err = clickhouse.DDL(t)
	}
	if err != nil {
		return err
	}
	if *only != "rollup" {
		fmt.Fprintln(out, "-- Tables (clickhouse-client --multiquery < this file). The servers need the rollup section first.")
		for _, s := range stmts {
			fmt.Fprintf(out, "%s;\n\n", s)
		}
	}
	if *only != "ddl" {
		if *only == "" {
			fmt.Fprintln(out, "-- Rollup: save what follows as config.d/graphite_rollup.xml on every server (before creating the tables).")
		}
		rollup := clickhouse.RollupXML(rules, *section)
		if *only == "" {
			rollup = "-- " + strings.ReplaceAll(strings.TrimSuffix(rollup, "\n"), "\n", "\n-- ") + "\n"
		}
		fmt.Fprint(out, rollup)
	}
	return nil
}
