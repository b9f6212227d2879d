// Package carbonconf reads carbon.conf as carbon 1.1 does: Python 3's
// configparser.ConfigParser syntax (sections, "key = value" or
// "key: value", full-line # and ; comments, indented continuation lines,
// a [DEFAULT] section, %(name)s interpolation, duplicate sections and keys
// refused), keys upper-cased as carbon's Settings.readFrom does, and a
// program's settings read from its section ([cache], [relay],
// [aggregator]) overlaid by its instance section ([cache:a]).
//
// It keeps each value's file and line so a caller can refuse a setting
// with file:line. What a setting means to Plumbago is the caller's business.
package carbonconf
