// Package line parses the carbon plaintext protocol: one datapoint per line,
// "<path> <value> <timestamp>", with carbon 1.1's rules (any whitespace
// separates exactly three fields; value and timestamp are floats; a timestamp
// of -1 means "now"; NaN values are rejected). Parsing happens in place: the
// returned name aliases the input and nothing is allocated.
package line
