// Package statsdconf reads etsy statsd's config.js the way statsd does:
// node evaluates `config = ` followed by the file, so the file is a
// JavaScript expression — comments, arithmetic, string joins and object
// literals included. The file is run by goja (a pure-Go ECMAScript engine)
// with no require, no timers and a bounded time and memory; `process.env`
// is there, as many Docker images' configs read it. The result must be an
// object of plain data (objects, arrays, strings, numbers, booleans, null).
//
// What a key means to Plumbago is the caller's business; Line finds where
// a key is written, for messages that point at the file.
package statsdconf
