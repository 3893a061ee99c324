package main

import (
	"bytes"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// row is one target's figures in one cell.
type row struct {
	t   *target
	res result
}

type cell struct{ size, conc int }

// report gathers the figures of a run and writes them as markdown.
type report struct {
	env        *environment
	d, warmup  time.Duration
	rounds     int
	start, end time.Time
	loadBefore string
	loadAfter  string
	cells      map[cell][]row
	profiles   []cpuProfile
	accounting *accounting
}

func newReport(env *environment, d, warmup time.Duration,
	rounds int) *report {
	return &report{env: env, d: d, warmup: warmup, rounds: rounds,
		start:      time.Now(),
		loadBefore: loadAverage(), cells: map[cell][]row{}}
}

func (rep *report) add(t *target, size, conc int, res result) {
	c := cell{size, conc}
	rep.cells[c] = append(rep.cells[c], row{t, res})
}

// finish notes the end of the run.
func (rep *report) finish() {
	rep.end = time.Now()
	rep.loadAfter = loadAverage()
}

func (rep *report) took() time.Duration { return time.Since(rep.start) }

// printRanking logs each side's stores in the cell, fastest first, so
// that two runs can be compared line by line.
func (rep *report) printRanking(size, conc int) {
	for _, side := range []string{sideGorilla, sideSCS} {
		log.Printf("ranking %s c%d %s: %s", sizeName(size), conc, side,
			ranking(rep.ranked(cell{size, conc}, side)))
	}
}

// ranking lists rows, fastest first, with ">" between two neighbours
// when the first is ahead by more than the noise of the two, and "≈"
// when not.
func ranking(rows []row) string {
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			if clearlyAhead(rows[i-1].res, r.res) {
				b.WriteString(" > ")
			} else {
				b.WriteString(" ≈ ")
			}
		}
		b.WriteString(r.t.name)
	}
	return b.String()
}

// clearlyAhead reports whether a ran more requests per second than b by
// more than twice the standard error of the difference, as estimated
// from the spread of their turns.
func clearlyAhead(a, b result) bool {
	ea := a.requestsPerS * a.rateErr
	eb := b.requestsPerS * b.rateErr
	return a.requestsPerS-b.requestsPerS > 2*math.Sqrt(ea*ea+eb*eb)
}

// ranked returns the rows of side in c that have figures, the most
// requests per second first.
func (rep *report) ranked(c cell, side string) []row {
	var rows []row
	for _, r := range rep.cells[c] {
		if r.t.side == side && r.res.unavailable == "" {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return rows[i].res.requestsPerS > rows[j].res.requestsPerS
	})
	return rows
}

// markdown returns RESULTS.md.
func (rep *report) markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Benchmark results\n\n")
	fmt.Fprintf(&b, "Written by `cd bench && ./run.sh` (or `go run .`) "+
		"in one run; do not edit by hand. The workload and the stores "+
		"are described in [README.md](README.md).\n\n")
	rep.writeMachine(&b)
	fmt.Fprintf(&b, "## Targets: 4 KiB sessions, 64 clients\n\n")
	rep.writeTargets(&b)
	fmt.Fprintf(&b, "\n%s", legend)
	rep.writeCell(&b, cell{headSize, headConc}, "###")
	fmt.Fprintf(&b, "## Every cell\n\n")
	for _, size := range sizes {
		for _, conc := range concurrencies {
			if size != headSize || conc != headConc {
				rep.writeCell(&b, cell{size, conc}, "###")
			}
		}
	}
	rep.writeAccounting(&b)
	rep.writeProfiles(&b)
	return b.Bytes()
}

// headline returns the tables of the headline cell, for the README.
func (rep *report) headline() string {
	var b bytes.Buffer
	rep.writeCell(&b, cell{headSize, headConc}, "####")
	return b.String()
}

const legend = "Each figure is followed by its ratio to the floor's " +
	"and to the best peer's on the same side: the best in that figure " +
	"among the stores that are not ours, that encode values as it " +
	"does (with gob, or with mcsession's compact encoding), and that " +
	"every app server behind a load balancer can share. The stores marked † keep " +
	"sessions on one machine (in its memory, or in its files), so they " +
	"are shown but not taken as the best peer. For req/s higher is " +
	"better, and ± is the standard error estimated from the spread of " +
	"its turns; under each table, > separates stores further apart " +
	"than twice the standard error of their difference, and ≈ those " +
	"closer, whose order the next run may swap. For latency, allocations and bytes lower is better. The " +
	"last column is CPU time per request, of the benchmark process " +
	"(user + system) and of the memcached and Redis servers (read from " +
	"/proc in ticks of 10 ms, while only the store being measured " +
	"runs).\n\n"

func (rep *report) writeMachine(b *bytes.Buffer) {
	rows := [][2]string{
		{"CPU", fmt.Sprintf("%s, %d cores (GOMAXPROCS %d)", cpuModel(),
			runtime.NumCPU(), runtime.GOMAXPROCS(0))},
		{"OS", "Linux " + readTrim("/proc/sys/kernel/osrelease")},
		{"Go", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH},
		{"memcached", version("memcached", "-V") + "; 3 servers, " +
			memcachedSettings(rep.env.memcachedArgs)},
		{"Redis", version("redis-server", "--version") +
			"; 1 server, no persistence"},
		{"modules", modules()},
		{"date", rep.start.UTC().Format("2006-01-02 15:04 MST")},
		{"load average (1, 5, 15 min)", "before: " + rep.loadBefore +
			"; after: " + rep.loadAfter},
		{"cells", fmt.Sprintf("%s measured per cell after %s of "+
			"warm-up, in %d turns taken in turn with the cell's other "+
			"stores; the whole run took %s", rep.d, rep.warmup,
			rep.rounds, rep.end.Sub(rep.start).Round(time.Second))},
	}
	fmt.Fprintf(b, "## Machine\n\n| | |\n| --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", r[0], r[1])
	}
	fmt.Fprintf(b, "\nThe servers and the benchmark share the machine's "+
		"cores, as do other programs running at the same time: compare "+
		"figures within one run, not across machines.\n\n")
}

// writeTargets says whether our single-node stores reach 0.8 times the
// floor's requests per second, and run ahead of every Redis-backed peer.
func (rep *report) writeTargets(b *bytes.Buffer) {
	c := cell{headSize, headConc}
	floor := rep.find(c, func(t *target) bool { return t.side == sideFloor })
	for _, r := range rep.cells[c] {
		if !r.t.ours || !strings.Contains(r.t.name, ", 1 node") {
			continue
		}
		if r.res.unavailable != "" || floor.res.requestsPerS == 0 {
			fmt.Fprintf(b, "- %s: no figures (%s)\n", r.t.name,
				r.res.unavailable)
			continue
		}
		ratio := r.res.requestsPerS / floor.res.requestsPerS
		fmt.Fprintf(b, "- %s: %s req/s, %.3f× the floor's %s: %s.\n",
			r.t.name, count(r.res.requestsPerS), ratio,
			count(floor.res.requestsPerS), verdict(ratio, 0.8))
		for _, p := range rep.cells[c] {
			if p.t.side != r.t.side || !p.t.redis ||
				p.t.compact != r.t.compact {
				continue
			}
			fmt.Fprintf(b, "  - against %s (%s req/s): %s\n", p.t.name,
				count(p.res.requestsPerS), ahead(r.res, p.res))
		}
	}
}

// verdict says whether ratio reaches want, or by how much it misses.
func verdict(ratio, want float64) string {
	if ratio >= want {
		return fmt.Sprintf("target of %.1f× met", want)
	}
	return fmt.Sprintf("target of %.1f× missed by %.1f%%", want,
		(want-ratio)/want*100)
}

// ahead says whether ours ran more requests per second than peer, less,
// or as many within the noise.
func ahead(ours, peer result) string {
	if peer.requestsPerS == 0 {
		return "no figures for the peer"
	}
	r := ours.requestsPerS / peer.requestsPerS
	switch {
	case clearlyAhead(ours, peer):
		return fmt.Sprintf("ahead, %.2f×", r)
	case clearlyAhead(peer, ours):
		return fmt.Sprintf("behind, %.2f×", r)
	}
	return fmt.Sprintf("level within the noise, %.2f×", r)
}

func (rep *report) find(c cell, match func(*target) bool) row {
	for _, r := range rep.cells[c] {
		if match(r.t) {
			return r
		}
	}
	return row{}
}

// A figure is one column of the tables.
type figure struct {
	head   string
	value  func(result) float64
	format func(float64) string
	higher bool // higher is better
}

var figures = []figure{
	{"req/s", func(r result) float64 { return r.requestsPerS }, count, true},
	{"p50", func(r result) float64 { return float64(r.p50) }, latency, false},
	{"p99", func(r result) float64 { return float64(r.p99) }, latency, false},
	{"allocs/req", func(r result) float64 { return r.allocs }, objects,
		false},
	{"bytes/req", func(r result) float64 { return r.bytes }, size, false},
}

// cpuHead heads the last column, which has no ratios: the servers of
// the in-process stores do no work, which would make any ratio to the
// best peer meaningless.
const cpuHead = "CPU/req: bench + servers"

// writeCell writes the gorilla table and the scs table of c, each with
// the floor as its first row.
func (rep *report) writeCell(b *bytes.Buffer, c cell, heading string) {
	if len(rep.cells[c]) == 0 {
		return // not run: see -cell
	}
	fmt.Fprintf(b, "%s %s sessions, %d %s\n\n", heading, sizeName(c.size),
		c.conc, plural(c.conc, "client"))
	floor := rep.find(c, func(t *target) bool { return t.side == sideFloor })
	for _, side := range []string{sideGorilla, sideSCS} {
		var rows []row
		for _, r := range rep.cells[c] {
			if r.t.side == side {
				rows = append(rows, r)
			}
		}
		best := map[bool][]float64{false: bestPeer(rows, false),
			true: bestPeer(rows, true)}

		fmt.Fprintf(b, "| %s store |", side)
		for _, f := range figures {
			fmt.Fprintf(b, " %s |", f.head)
		}
		fmt.Fprintf(b, " %s |\n| --- |%s\n", cpuHead,
			strings.Repeat(" ---: |", len(figures)+1))
		for _, r := range append([]row{floor}, rows...) {
			writeRow(b, r, floor.res, best[r.t.compact])
		}
		fmt.Fprintf(b, "\nBy req/s: %s.\n\n", ranking(rep.ranked(c, side)))
	}
}

// bestPeer returns the best figure of the peers in rows that use the
// compact encoding, or gob, as compact says, by figure.
func bestPeer(rows []row, compact bool) []float64 {
	best := make([]float64, len(figures))
	for i, f := range figures {
		for _, r := range rows {
			if !r.t.peer() || r.t.local || r.res.unavailable != "" ||
				r.t.compact != compact {
				continue
			}
			v := f.value(r.res)
			if best[i] == 0 || (f.higher && v > best[i]) ||
				(!f.higher && v < best[i]) {
				best[i] = v
			}
		}
	}
	return best
}

func writeRow(b *bytes.Buffer, r row, floor result, best []float64) {
	name := r.t.name
	switch {
	case r.t.ours:
		name = "**" + name + "**"
	case r.t.local:
		name += " †"
	}
	fmt.Fprintf(b, "| %s |", name)
	if r.res.unavailable != "" {
		fmt.Fprintf(b, " %s |%s\n", r.res.unavailable,
			strings.Repeat(" |", len(figures)))
		return
	}
	for i, f := range figures {
		v := f.value(r.res)
		if f.head == "req/s" && r.res.rateErr > 0 {
			fmt.Fprintf(b, " %s ±%.0f%% (%s / %s) |", f.format(v),
				r.res.rateErr*100, ratio(v, f.value(floor)),
				ratio(v, best[i]))
			continue
		}
		fmt.Fprintf(b, " %s (%s / %s) |", f.format(v),
			ratio(v, f.value(floor)), ratio(v, best[i]))
	}
	fmt.Fprintf(b, " %s + %s |", latency(float64(r.res.cpu)),
		latency(float64(r.res.serverCPU)))
	if r.res.errors > 0 {
		fmt.Fprintf(b, " %d failed requests, the first: %v |", r.res.errors,
			r.res.firstErr)
	}
	fmt.Fprintln(b)
}

func ratio(v, base float64) string {
	if base == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

// writeAccounting writes where the allocations of the headline cell come
// from.
func (rep *report) writeAccounting(b *bytes.Buffer) {
	acc := rep.accounting
	if acc == nil || len(acc.names) == 0 {
		return
	}
	fmt.Fprintf(b, "## Where the allocations come from\n\n")
	fmt.Fprintf(b, "The %s cell, run again for a second with every "+
		"allocation recorded (runtime.MemProfileRate = 1), and with one "+
		"client: recording every allocation slows a request down so "+
		"much that %d clients on a small machine run into the stores' "+
		"timeouts. A request allocates the same with 1 client as with "+
		"%d (compare the allocs/req columns above). Each "+
		"allocation is put down to securecookie when securecookie is "+
		"on its stack, else to the innermost frame that is ours (by "+
		"function) or in a package named here. Objects per request, "+
		"then bytes per request.\n\n", sizeName(headSize), headConc,
		headConc)
	fmt.Fprintf(b, "| source |")
	for _, n := range acc.names {
		fmt.Fprintf(b, " %s |", n)
	}
	fmt.Fprintf(b, "\n| --- |%s\n", strings.Repeat(" ---: |",
		len(acc.names)))
	sums := make([]float64, len(acc.names))
	for _, src := range acc.sources() {
		fmt.Fprintf(b, "| %s |", src)
		for i, v := range acc.objects[src] {
			sums[i] += v
			fmt.Fprintf(b, " %s (%s) |", objects(v),
				size(acc.bytes[src][i]))
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintf(b, "| **total** |")
	for i, v := range sums {
		fmt.Fprintf(b, " **%s** (MemStats: %s) |", objects(v),
			objects(acc.totals[i]))
	}
	fmt.Fprintln(b)
	for i, n := range acc.failed {
		if n > 0 {
			fmt.Fprintf(b, "\n%d requests of %s failed during this run; "+
				"their allocations are counted, which skews its "+
				"column.\n", n, acc.names[i])
		}
	}
	fmt.Fprintf(b, "\n%s\n", allocNotes)
}

// writeProfiles writes where the CPU time of the headline cell goes, and
// the top of the profiles of our stores.
func (rep *report) writeProfiles(b *bytes.Buffer) {
	profs := rep.profiles
	if len(profs) == 0 {
		return
	}
	fmt.Fprintf(b, "## Where the CPU time goes\n\n")
	fmt.Fprintf(b, "The %s, %d-client cell of these stores, run again "+
		"for %s under the CPU profiler, which slows it a little. The "+
		"benchmark process's CPU time per request is split into parts: "+
		"GC, securecookie, gob and the network clients when they are "+
		"anywhere on a sample's stack (in that order), else by the "+
		"innermost function of a named part. The profiles are left in "+
		"bench/profiles/.\n\n", sizeName(headSize), headConc, rep.d)
	fmt.Fprintf(b, "| CPU per request |")
	for _, p := range profs {
		fmt.Fprintf(b, " %s |", p.name)
	}
	fmt.Fprintf(b, "\n| --- |%s\n", strings.Repeat(" ---: |", len(profs)))
	var names []string
	for _, pt := range append(heavyParts, frameParts...) {
		names = append(names, pt.name)
	}
	names = append(names, "runtime: scheduler, stacks, idle")
	totals := make([]time.Duration, len(profs))
	for _, name := range names {
		fmt.Fprintf(b, "| %s |", name)
		for i, p := range profs {
			totals[i] += p.parts[name]
			fmt.Fprintf(b, " %s |", latency(float64(p.parts[name])))
		}
		fmt.Fprintln(b)
	}
	rowsOf := []struct {
		name  string
		value func(i int) string
	}{
		{"**total, this process**", func(i int) string {
			return "**" + latency(float64(totals[i])) + "**"
		}},
		{"the servers (memcached, Redis)", func(i int) string {
			return latency(float64(profs[i].res.serverCPU))
		}},
		{"req/s in this run", func(i int) string {
			return count(profs[i].res.requestsPerS)
		}},
	}
	for _, r := range rowsOf {
		fmt.Fprintf(b, "| %s |", r.name)
		for i := range profs {
			fmt.Fprintf(b, " %s |", r.value(i))
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintln(b)

	for _, p := range profs {
		if p.top == "" {
			continue
		}
		fmt.Fprintf(b, "<details><summary>go tool pprof -top, %s"+
			"</summary>\n\n```\n%s```\n\n</details>\n\n", p.name,
			trimTop(p.top))
	}
}

// trimTop drops the lines of pprof's output before "Showing nodes".
func trimTop(top string) string {
	if i := strings.Index(top, "Showing nodes"); i >= 0 {
		return top[i:]
	}
	return top
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// count formats a rate with thousands separated.
func count(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func latency(ns float64) string {
	switch d := time.Duration(ns); {
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case d >= 10*time.Microsecond:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f µs", ns/1e3)
}

func objects(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func size(v float64) string {
	if v >= 1<<10 {
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// memcachedSettings describes the flags the memcached servers run with.
func memcachedSettings(args []string) string {
	if len(args) == 0 {
		return "default settings (4 threads, 64 MB)"
	}
	return "run with `" + strings.Join(args, " ") +
		"`, default settings otherwise"
}

// modules returns the versions of the stores and clients compared, as
// built into this program.
func modules() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var mods []string
	for _, m := range info.Deps {
		if strings.Contains(m.Path, "/mcsession/") {
			continue
		}
		for _, want := range []string{"gomemcache", "gorilla/", "scs",
			"redistore", "redigo", "go-redis"} {
			if strings.Contains(m.Path, want) {
				mods = append(mods, m.Path+" "+m.Version)
				break
			}
		}
	}
	return strings.Join(mods, ", ")
}

func loadAverage() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

func cpuModel() string {
	for _, line := range strings.Split(readTrim("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok &&
			strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
