// Package oracletest holds what the tests comparing query and query/api
// with graphite-web share: the series of the oracle fixture (Metrics; query's
// golden cases were recorded from it, so both must build the same whisper
// files), the comparison of JSON answers (JSONEqual) and running the Python
// oracle scripts (RunPython).
package oracletest
