// Command bench compares mcsession's stores with the session stores a Go
// web app would use instead, in one run on one machine, and writes the
// figures to RESULTS.md as markdown tables.
//
// It starts three memcached servers and one redis-server on free
// loopback ports (both binaries must be on PATH; run.sh installs them),
// and stops them when it ends. Run it from this directory:
//
//	go run .            # or ./run.sh, which installs the servers first
//
// Every request of the workload loads a session, changes its one value
// and saves it, as an HTTP handler would, for sessions of 256 B, 4 KiB
// and 64 KiB and 1 and 64 clients at once. Linux only.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "RESULTS.md", "the markdown `file` to write")
	d := flag.Duration("d", 2*time.Second, "how long to measure each cell")
	warmup := flag.Duration("warmup", 300*time.Millisecond,
		"how long to run each cell before measuring it")
	rounds := flag.Int("rounds", 8, "the number of `turns` each cell's "+
		"measurement is split into, taken in turn with the other stores'")
	profiles := flag.String("profiles", "profiles",
		"the `directory` for the CPU profiles of the 4 KiB, "+
			"concurrency 64 cells of our stores")
	mcArgs := flag.String("memcached-args", "", "extra `flags` for the "+
		"memcached servers, such as \"-t 2\"; none by default")
	only := flag.String("cell", "", "measure only the cell `SIZE/CLIENTS`, "+
		"such as 4096/64, and skip the profiles")
	flag.Parse()
	log.SetFlags(0)

	env, err := startEnvironment(strings.Fields(*mcArgs))
	if err != nil {
		log.Fatal(err)
	}
	defer env.stop()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		<-sig
		env.stop()
		os.Exit(1)
	}()

	*rounds = max(*rounds, 1)
	rep := newReport(env, *d, *warmup, *rounds)
	targets := env.targets()
	for _, size := range sizes {
		for _, conc := range concurrencies {
			if *only != "" && *only != fmt.Sprintf("%d/%d", size, conc) {
				continue
			}
			results := runCells(env, targets, size, conc, *warmup, *d,
				*rounds)
			for i, t := range targets {
				rep.add(t, size, conc, results[i])
				log.Printf("%6d B c%-2d  %-36s %s", size, conc, t.name,
					results[i].summary())
			}
			rep.printRanking(size, conc)
		}
	}

	if *only == "" {
		rep.profiles = profileCells(env, targets, *profiles, *warmup, *d)
		rep.accounting = accountAllocs(targets, *warmup)
	}
	rep.finish()
	if err := os.WriteFile(*out, rep.markdown(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Print(rep.headline())
	log.Printf("wrote %s in %s", *out, rep.took().Round(time.Second))
}

// The session sizes and concurrencies of the cells.
var (
	sizes         = []int{256, 4 << 10, 64 << 10}
	concurrencies = []int{1, 64}
)

// headSize and headConc pick the headline cell.
const (
	headSize = 4 << 10
	headConc = 64
)
