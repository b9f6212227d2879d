// Command plumbago is a Graphite server in one binary: statsd, carbon
// (plaintext, pickle, aggregator, carbonlink), whisper or pebble storage, and
// the Graphite render/find API for Grafana.
//
// Usage:
//
//	plumbago [serve] [flags]      run the server (the default)
//	plumbago check-config [flags] validate a config and its rule files
//	plumbago tune [flags]         print the sizes derived for this machine
//	plumbago loadtest [flags]     generate load and measure a server
//	plumbago import-whisper       migrate a carbon whisper tree into pebble
//	plumbago clickhouse schema   print the ClickHouse backend's DDL and rollup
//	plumbago migrate              write a config from a classic installation's files
//	plumbago checkpoint           back up a stopped server's pebble store
//	plumbago delete               delete series of a stopped store
//	plumbago rename               rename or merge series of a stopped store
//	plumbago stale                list or prune series with no recent point
//	plumbago version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/plumbago/plumbago/loadtest"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, help string
	run        func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server (default)", func(a []string, _, _ io.Writer) error { return serve(a) }},
		{"check-config", "validate the config, schemas, aggregation and rule files", checkConfig},
		{"import-whisper", "migrate a carbon whisper tree into the pebble backend (--from DIR --data-dir D), or into ClickHouse (--backend clickhouse --clickhouse-url U)", runImportWhisper},
		{"copy", "copy series (every archive, names, tags) between stopped stores: pebble, whisper, clickhouse (--from-backend B --from-... --to-backend B --to-...; resumable)", runCopy},
		{"migrate", "read a classic installation's files (carbon conf dir, statsd config.js, graphite-api.yaml, htpasswd, whisper tree) and write one Plumbago config plus a report", func(a []string, out, _ io.Writer) error {
			return runMigrate(a, out)
		}},
		{"checkpoint", "write a consistent copy of a stopped server's pebble store (--data-dir D --dest DIR); a running server: POST /admin/checkpoint", func(a []string, out, _ io.Writer) error {
			return runCheckpoint(a, out)
		}},
		{"reencode", "rewrite the blocks of a stopped pebble store written by an older release in today's smaller block format (--data-dir D)", func(a []string, out, _ io.Writer) error {
			return runReencode(a, out)
		}},
		{"resize", "re-shape the series of a stopped whisper tree whose schema or aggregation changed, as whisper-resize does (--data-dir D [--schemas F] [--aggregation F] [--dry-run])", func(a []string, out, _ io.Writer) error {
			return runResize(a, out)
		}},
		{"delete", "delete series of a stopped store by glob, --tag expression or --name (--dry-run lists them); a running server: POST /admin/series/delete", func(a []string, out, _ io.Writer) error {
			return runDelete(a, out)
		}},
		{"rename", "rename series of a stopped store, one or by a glob rewrite (\\1...), --merge fills existing ones as whisper-fill does; a running server: POST /admin/series/rename", func(a []string, out, _ io.Writer) error {
			return runRename(a, out)
		}},
		{"stale", "list (--prune: delete) series of a stopped store with no point since --since; a running server: /admin/series/stale and /admin/series/prune", func(a []string, out, _ io.Writer) error {
			return runStale(a, out)
		}},
		{"clickhouse", "clickhouse schema: print the ClickHouse tables' DDL (one server or --cluster NAME) and the graphite_rollup section generated from --schemas and --aggregation", func(a []string, out, _ io.Writer) error {
			return runClickHouse(a, out)
		}},
		{"loadtest", "drive load at any Graphite-compatible server and measure it (plumbago loadtest -h)", loadtest.Main},
		{"tune", "print the runtime sizes derived for this machine and the kernel settings to apply", func(a []string, out, _ io.Writer) error {
			return runTune(a, out)
		}},
		{"version", "print the version", func(_ []string, out, _ io.Writer) error {
			fmt.Fprintln(out, "plumbago", versionString())
			return nil
		}},
	}
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " " + bi.GoVersion
	}
	return v
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: plumbago [command] [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'plumbago <command> -h' for a command's flags.")
}

func run(args []string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args, stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", name)
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "plumbago:", err)
		os.Exit(1)
	}
}
