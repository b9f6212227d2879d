// Package oraclefixture holds the metrics of the graphite-web oracle
// fixture: query's golden cases (recorded from graphite-web) and query/api's
// oracle tests read the same series, so both build their whisper files from
// this one list.
package oraclefixture
