// Package attime parses Graphite's from/until/now time specifications with
// the rules of graphite-web 1.1 render/attime.py: epoch seconds, YYYYMMDD,
// a reference (now, HH:MM, Xam/Xpm, noon, midnight, teatime, yesterday,
// today, tomorrow, MM/DD/YY[YY], YYYYMMDD, month name + day, weekday name)
// followed by an optional signed offset made of <int><unit> groups (units by
// prefix: s, min, h, d, w, mon = 30 days, y = 365 days; a bare "m" is
// invalid). References are interpreted in the given time zone.
package attime
