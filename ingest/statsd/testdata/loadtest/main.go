// Command loadtest runs the bundled load generator (package loadtest) for
// bench-vs-etsy.sh until `plumbago loadtest` is wired into the binary.
package main

import (
	"fmt"
	"os"

	"github.com/plumbago/plumbago/loadtest"
)

func main() {
	if err := loadtest.Main(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
