// Package layering checks the import rules that keep Plumbago's layers
// apart (rules.txt: query does not import ingest, storage does not import
// query, flag is parsed only in cmd). Its test reads every Go file of the
// module and fails on an import a rule denies; `make test` and `make lint`
// run it. TestFunctionLength (funclen_test.go) lists the module's
// functions over 100 lines and fails on one that is neither a named
// registry table nor on the list still to be split (issue #15 item 6).
package layering
