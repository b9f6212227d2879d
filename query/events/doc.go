// Package events is a small store of annotation events with graphite-web's
// events semantics (graphite/events): each event has an id, a time with
// microsecond precision, a "what", free-form data and a tag string. Tags
// are matched as django-tagging does (the tag string parsed with
// parse_tag_input; a query's unknown tags ignored), and listed as the tag
// string split on whitespace. The store is bounded in count and bytes
// (oldest events dropped first) and optionally persisted as JSON lines.
package events
