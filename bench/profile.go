package main

import (
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// cpuProfiled reports whether the headline cell of t is run under the
// CPU profiler: the floor, our single-node stores and the Redis peers.
func cpuProfiled(t *target) bool {
	return t.side == sideFloor || t.redis && !strings.Contains(t.name,
		"NewRediStore") || t.ours && strings.Contains(t.name, ", 1 node")
}

// allocProfiled reports whether the allocations of t are accounted for:
// the floor and our single-node stores.
func allocProfiled(t *target) bool {
	return t.side == sideFloor ||
		t.ours && strings.Contains(t.name, ", 1 node")
}

// cpuProfile is a CPU profile of one target's headline cell.
type cpuProfile struct {
	name  string
	ours  bool
	file  string
	res   result
	parts map[string]time.Duration // CPU time per request, by part
	top   string                   // go tool pprof -top, or why there is none
}

// profileCells runs the headline cell of each CPU-profiled target again
// under the profiler, writes the profiles to dir, and splits each
// profile's CPU time into parts (see cpuPart).
func profileCells(env *environment, targets []*target, dir string, warmup,
	d time.Duration) []cpuProfile {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Printf("profiles: %v", err)
		return nil
	}

	var profiles []cpuProfile
	for _, t := range targets {
		if !cpuProfiled(t) {
			continue
		}
		p := cpuProfile{name: t.name, ours: t.ours,
			file: filepath.Join(dir, fileName(t.name)+".cpu.pprof")}
		if err := p.run(env, t, warmup, d); err != nil {
			log.Printf("profiling %s: %v", t.name, err)
			continue
		}
		log.Printf("profiled %s: %s", t.name, p.res.summary())
		profiles = append(profiles, p)
	}
	return profiles
}

// run measures t's headline cell with the CPU profiler writing to p.file,
// then reads the profile back.
func (p *cpuProfile) run(env *environment, t *target, warmup,
	d time.Duration) error {
	clients, release, err := openClients(t, headSize, headConc)
	if err != nil {
		return err
	}
	defer release()
	run(clients, warmup, nil)

	f, err := os.Create(p.file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	p.res = measure(clients, 0, d, env.serverCPU)
	pprof.StopCPUProfile()

	if p.parts, err = cpuParts(p.file, p.res.requests); err != nil {
		return err
	}
	if p.ours {
		out, err := exec.Command("go", "tool", "pprof", "-top",
			"-nodecount=20", p.file).CombinedOutput()
		p.top = string(out)
		if err != nil {
			p.top = "go tool pprof failed: " + err.Error()
		}
	}
	return nil
}

// cpuParts reads the CPU profile in file and returns the CPU time of each
// part per request, over requests.
func cpuParts(file string, requests int) (map[string]time.Duration,
	error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	prof, err := profile.Parse(f)
	if err != nil {
		return nil, err
	}

	idx := len(prof.SampleType) - 1 // cpu, nanoseconds
	parts := map[string]time.Duration{}
	for _, s := range prof.Sample {
		var funcs []string
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				funcs = append(funcs, line.Function.Name)
			}
		}
		parts[cpuPart(funcs)] += time.Duration(s.Value[idx])
	}
	for k, v := range parts {
		parts[k] = v / time.Duration(max(requests, 1))
	}
	return parts, nil
}

// The parts of a request's CPU time, each named with the prefixes of the
// functions that make it up. A sample goes to the first of heavyParts
// with a function anywhere on its stack, so that gob's work inside
// securecookie counts as securecookie's, and the system calls of
// gomemcache as gomemcache's. Failing that, it goes to the part of the
// innermost function that is in one of frameParts.
var (
	heavyParts = []part{
		{"GC, in the background", []string{"runtime.gcBgMarkWorker"}},
		{"securecookie", []string{"github.com/gorilla/securecookie."}},
		{"encoding/gob", []string{"encoding/gob."}},
		{"gomemcache, system calls included", []string{
			"github.com/bradfitz/gomemcache/"}},
		{"Redis client, system calls included", []string{
			"github.com/gomodule/redigo/", "github.com/redis/go-redis/"}},
	}
	frameParts = []part{
		{"mcsession's compact encoding", []string{
			ownPrefix + "internal/valuecodec.",
			ownPrefix + "gorillastore.CompactSerializer.",
			ownPrefix + "scsstore.CompactCodec."}},
		{"mcsession's cluster layer", []string{ownPrefix + "internal/"}},
		{"the store's own code", []string{ownPrefix,
			"github.com/boj/redistore.", "github.com/alexedwards/scs/" +
				"redisstore.", "github.com/alexedwards/scs/goredisstore."}},
		{"gorilla/sessions, net/http", []string{
			"github.com/gorilla/sessions.", "net/http."}},
		{"scs SessionManager", []string{"github.com/alexedwards/scs/v2."}},
		{"bench harness", []string{"main."}},
	}
)

// part is a part of a request's CPU time.
type part struct {
	name     string
	prefixes []string
}

func (p part) has(fn string) bool {
	for _, prefix := range p.prefixes {
		if strings.HasPrefix(fn, prefix) {
			return true
		}
	}
	return false
}

// cpuPart names the part of the CPU time that a sample with the given
// stack, innermost function first, belongs to.
func cpuPart(funcs []string) string {
	for _, p := range heavyParts {
		for _, fn := range funcs {
			if p.has(fn) {
				return p.name
			}
		}
	}
	for _, fn := range funcs {
		for _, p := range frameParts {
			if p.has(fn) {
				return p.name
			}
		}
	}
	return "runtime: scheduler, stacks, idle"
}

// fileName turns a target's name into a file name.
func fileName(name string) string {
	name = strings.NewReplacer(",", "", ":", "", "+", "", "(", "",
		")", "").Replace(strings.ToLower(name))
	return strings.Join(strings.Fields(name), "-")
}

// accounting is where the heap allocations of the headline cell come
// from, for the floor and our single-node stores.
type accounting struct {
	names []string
	// objects and bytes per request, by source and then by target
	objects, bytes map[string][]float64
	totals         []float64 // objects per request, from MemStats
	failed         []int     // failed requests, whose allocations count too
}

// accountAllocs runs each profiled target with one client and sessions
// of the headline size for a second, with every allocation recorded, and
// sorts the allocations by source: the innermost frame of their stack
// that belongs to a package we name (see source).
//
// One client, because recording every allocation slows the stores down
// so much that 64 clients on a small machine reach the stores' timeouts,
// and failed requests allocate differently. The allocations per request
// are the same for 1 and 64 clients, as the tables show.
func accountAllocs(targets []*target, warmup time.Duration) *accounting {
	saved := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = saved }()

	acc := &accounting{objects: map[string][]float64{},
		bytes: map[string][]float64{}}
	for _, t := range targets {
		if !allocProfiled(t) {
			continue
		}
		i := len(acc.names)
		acc.names = append(acc.names, t.name)
		acc.totals = append(acc.totals, 0)
		acc.failed = append(acc.failed, 0)
		for _, m := range []map[string][]float64{acc.objects, acc.bytes} {
			for k := range m {
				m[k] = append(m[k], 0)
			}
		}
		acc.account(t, i, warmup)
	}
	return acc
}

// account adds the allocations of t's headline cell to column i.
func (acc *accounting) account(t *target, i int, warmup time.Duration) {
	clients, release, err := openClients(t, headSize, 1)
	if err != nil {
		log.Printf("accounting %s: %v", t.name, err)
		return
	}
	defer release()
	run(clients, warmup, nil)

	before := memRecords()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	hists := make([]histogram, len(clients))
	acc.failed[i], _ = run(clients, time.Second, hists)
	runtime.ReadMemStats(&ms1)
	after := memRecords()

	var h histogram
	for j := range hists {
		h.add(&hists[j])
	}
	n := float64(h.count())
	if n == 0 {
		return
	}
	acc.totals[i] = float64(ms1.Mallocs-ms0.Mallocs) / n
	for stack, r := range after {
		objects := r.AllocObjects - before[stack].AllocObjects
		if objects == 0 {
			continue
		}
		src := source(r.Stack())
		acc.addTo(acc.objects, src, i, float64(objects)/n)
		acc.addTo(acc.bytes, src, i,
			float64(r.AllocBytes-before[stack].AllocBytes)/n)
	}
}

func (acc *accounting) addTo(m map[string][]float64, src string, i int,
	v float64) {
	if m[src] == nil {
		m[src] = make([]float64, len(acc.names))
	}
	m[src][i] += v
}

// sources returns the sources of allocations, the most objects first.
func (acc *accounting) sources() []string {
	var srcs []string
	for s := range acc.objects {
		srcs = append(srcs, s)
	}
	most := func(s string) float64 {
		m := 0.0
		for _, v := range acc.objects[s] {
			m = max(m, v)
		}
		return m
	}
	sort.Slice(srcs, func(a, b int) bool {
		if ma, mb := most(srcs[a]), most(srcs[b]); ma != mb {
			return ma > mb
		}
		return srcs[a] < srcs[b]
	})
	return srcs
}

// memRecords returns the heap profile as of now, by stack.
func memRecords() map[[32]uintptr]runtime.MemProfileRecord {
	runtime.GC() // the profile is published at the end of a cycle
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+100)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			break
		}
	}
	// The runtime keeps a record per stack and size: add them up.
	m := make(map[[32]uintptr]runtime.MemProfileRecord, n)
	for _, r := range recs[:n] {
		sum := m[r.Stack0]
		sum.Stack0 = r.Stack0
		sum.AllocObjects += r.AllocObjects
		sum.AllocBytes += r.AllocBytes
		m[r.Stack0] = sum
	}
	return m
}

// ownPrefix starts the functions of mcsession's own packages, which
// source names one by one.
const ownPrefix = "github.com/mcsession/mcsession/"

// sourcePackages name the packages that source attributes allocations
// to, by the prefix of their functions' names.
var sourcePackages = []struct{ prefix, name string }{
	{"github.com/gorilla/securecookie.", "securecookie"},
	{"encoding/gob.", "encoding/gob"},
	{"github.com/bradfitz/gomemcache/", "gomemcache"},
	{"github.com/gorilla/sessions.", "gorilla/sessions"},
	{"github.com/alexedwards/scs/v2.", "scs (SessionManager)"},
	{"net/http.", "net/http"},
	{"main.", "bench harness"},
}

// source names where the allocation with the given stack comes from:
// securecookie when it is on the stack (it runs gob and base64 of its
// own), else the innermost frame that is ours (named by function) or in
// one of sourcePackages.
func source(stack []uintptr) string {
	var found string
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "github.com/gorilla/securecookie.") {
			return "securecookie"
		}
		if found == "" {
			found = frameSource(f.Function)
		}
		if !more {
			break
		}
	}
	if found == "" {
		return "other (runtime)"
	}
	return found
}

// frameSource returns the source that function belongs to, or "".
func frameSource(function string) string {
	if own, ok := strings.CutPrefix(function, ownPrefix); ok {
		own = strings.TrimPrefix(own, "internal/")
		for strings.Contains(own, ".func") { // a closure: name its function
			own = own[:strings.LastIndex(own, ".func")]
		}
		return own
	}
	for _, p := range sourcePackages {
		if strings.HasPrefix(function, p.prefix) {
			return p.name
		}
	}
	return ""
}
