//go:build tools

// Package tools pins the carbon-clickhouse release (v0.11.0, from before
// Go modules: its dependencies are pinned in go.mod here, as its dep
// lock file had them where the Go module proxy still serves them) that
// scripts/install-clickhouse-tools.sh builds for the interoperability
// tests (docs/clickhouse.md). Nothing here is Plumbago's code.
package tools

import _ "github.com/lomik/carbon-clickhouse"
