// Package layering checks the import rules that keep Plumbago's layers
// apart (rules.txt: query does not import ingest, storage does not import
// query, flag is parsed only in cmd). Its test reads every Go file of the
// module and fails on an import a rule denies; `make test` and `make lint`
// run it.
package layering
