// Package auth implements HTTP basic authentication from an htpasswd file,
// as the classic stack's nginx did in front of graphite-api. Only bcrypt
// entries ($2y$, $2a$, $2b$, as written by `htpasswd -B`) are accepted:
// crypt, MD5 (apr1) and SHA-1 entries are rejected when the file is loaded,
// with the line number, rather than silently never matching.
package auth
