// Package auth implements HTTP basic authentication from an htpasswd file,
// as the classic stack's nginx did in front of graphite-api. It accepts
// every format nginx's auth_basic_user_file accepts on Debian: bcrypt
// ($2y$, $2a$, $2b$), Apache MD5 ($apr1$), crypt(3) MD5 ($1$), SHA-256
// ($5$) and SHA-512 ($6$), traditional DES crypt (`htpasswd -d`), {SHA},
// {SSHA} and {PLAIN} (loaded with a warning). An entry in any other form
// is refused when the file is loaded, with its line number, rather than
// silently never matching.
//
// A check of an unknown user costs the same as a check of a known one: it
// verifies against a dummy hash made with the scheme and cost of the file's
// costliest entry. FailureLimiter bounds the failed attempts per client.
package auth
