// Command mkstore writes a pebble store of many series, one point each, for
// start-up measurements (docs/bench-rounds.md, "Start-up with 2 M series"),
// or times (and CPU-profiles) opening one: the time to Indexed (finds and
// reads answer) and to Loaded (the name map is built, writes go on). Series i is
// app<i/100000>.host<i/1000%100>.cpu<i/100%10>.m<i%100> with the value i at
// the time of writing minus 60 s.
//
//	go run ./storage/pebble/testdata/mkstore -dir /tmp/s2m/data/pebble -n 2000000
//	go run ./storage/pebble/testdata/mkstore -dir /tmp/s2m/data/pebble -open cpu.prof
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/pebble"
)

func main() {
	dir := flag.String("dir", "", "pebble directory (plumbago's <data-dir>/pebble)")
	n := flag.Int("n", 2000000, "series to write")
	prof := flag.String("open", "", "only open the store (names loaded in the background), CPU profile of the load's first step (until Indexed) into this file")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	opts := pebble.DefaultOptions()
	opts.Dir = *dir
	if *prof != "" {
		if err := openOnly(opts, *prof); err != nil {
			log.Fatal(err)
		}
		return
	}
	st, err := pebble.Open(opts)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now().Unix()
	var b storage.Batch
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		name := fmt.Sprintf("app%02d.host%03d.cpu%d.m%03d", i/100000, (i/1000)%100, (i/100)%10, i%100)
		b.Series = append(b.Series, storage.SeriesPoints{Name: name, Points: []storage.Point{{Timestamp: now - 60, Value: float64(i)}}})
		if len(b.Series) == 20000 || i == *n-1 {
			if err := st.Write(&b); err != nil {
				log.Fatal(err)
			}
			b.Reset()
		}
	}
	if err := st.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *n, "series in", time.Since(t0))
}

func openOnly(opts pebble.Options, prof string) error {
	f, err := os.Create(prof)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	t0 := time.Now()
	opts.LoadNamesInBackground = true
	st, err := pebble.Open(opts)
	if err != nil {
		pprof.StopCPUProfile()
		return err
	}
	<-st.Indexed()
	pprof.StopCPUProfile()
	fmt.Println("indexed", time.Since(t0))
	<-st.Loaded()
	fmt.Println("loaded", time.Since(t0))
	if err := st.LoadErr(); err != nil {
		return err
	}
	return st.Close()
}
