// Package graphiteapiconf reads graphite-api's graphite-api.yaml (the
// file graphite-api 1.1 loads with yaml.safe_load): search_index, finders,
// functions, whisper.directories, carbon (carbonlink hosts and options),
// time_zone, allowed_origins, cache, statsd, sentry_dsn, logging. It keeps
// every key with its line, so the caller can say per key what it does.
package graphiteapiconf
