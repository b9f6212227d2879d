// Package diskspace checks a volume's free space against a reserve before a
// backend writes to it, so a store stops taking writes while the disk still
// has room for what is in flight (pebble's flushes and compactions, a
// whisper file being completed) instead of failing half way through a write.
// It also reports a volume mounted read-only.
package diskspace
