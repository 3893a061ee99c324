// Command loadbalanced is the mcsession demo: four app servers behind two
// round-robin proxies, with no sticky sessions, keeping their sessions in
// a three-node Memcached cluster with Replicas: 2. Kill a node from the
// page and nobody is logged out; /metrics shows it to Prometheus.
//
//	go run ./examples/loadbalanced            # serve the demo
//	go run ./examples/loadbalanced -scripted  # drive it and check it
//
// It starts three memcached processes when the binary is installed,
// uses -servers host:port,... when given, and otherwise runs three small
// in-process servers that speak enough of Memcached's protocol for it.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcsession/mcsession/gorillastore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "where to serve the demo")
	servers := flag.String("servers", "",
		"an existing cluster as host:port,... instead of starting one")
	scripted := flag.Bool("scripted", false,
		"drive a client through the demo, report, and exit 0 if all held")
	flag.Parse()
	log.SetFlags(0)

	if err := run(*addr, *servers, *scripted); err != nil {
		log.Fatal("demo: ", err)
	}
}

func run(addr, servers string, scripted bool) error {
	var list []string
	if servers != "" {
		list = strings.Split(servers, ",")
	}
	if scripted && len(list) > 0 {
		return errors.New("-scripted kills and restarts nodes, which it " +
			"can do only to nodes it started: leave out -servers")
	}
	nodes, err := startNodes(list)
	if err != nil {
		return err
	}
	defer nodes.close()
	log.Printf("memcached: %s at %s", nodes.kind,
		strings.Join(nodes.addrs(), ", "))

	if scripted {
		addr = "127.0.0.1:0"
	}
	d, err := newDemo(nodes)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer d.close()
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	if scripted {
		return runScript(base, nodes)
	}
	log.Printf("demo: open %s/ (gorilla at /gorilla/, scs at /scs/, "+
		"metrics at /metrics); Ctrl-C stops", base)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt,
		syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// demo is the front server: the two proxied app pairs, the node controls
// and an index page.
type demo struct {
	nodes   *nodeSet
	proxies map[string]http.Handler // by library
	apps    []*http.Server
	metrics *prometheus.Registry // every app's store, labelled by app
}

func newDemo(nodes *nodeSet) (*demo, error) {
	cfg := gorillastore.Config{Servers: nodes.addrs(), Replicas: 2,
		Timeout: 250 * time.Millisecond, FailureLimit: 2,
		RetryInterval: time.Second}
	key := make([]byte, 32)
	rand.Read(key)

	d := &demo{nodes: nodes, proxies: map[string]http.Handler{},
		metrics: prometheus.NewRegistry()}
	for _, library := range []string{"gorilla", "scs"} {
		apps, err := newApps(library, cfg, nodes, key)
		if err != nil {
			return nil, err
		}
		var backends []*url.URL
		for _, a := range apps {
			d.register(a)
			u, err := d.serveApp(a)
			if err != nil {
				return nil, err
			}
			backends = append(backends, u)
		}
		d.proxies[library] = http.StripPrefix("/"+library,
			roundRobin(backends))
		log.Printf("app servers: %s-1 at %s, %s-2 at %s, "+
			"round robin at /%s/", library, backends[0].Host, library,
			backends[1].Host, library)
	}
	return d, nil
}

// close stops the app servers.
func (d *demo) close() {
	for _, srv := range d.apps {
		srv.Close()
	}
}

// serveApp starts one app server on a free port.
func (d *demo) serveApp(a *app) (*url.URL, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: a.handler(),
		ReadHeaderTimeout: 5 * time.Second}
	d.apps = append(d.apps, srv)
	go srv.Serve(ln)
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}, nil
}

func (d *demo) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", d.index)
	for library, proxy := range d.proxies {
		mux.Handle("/"+library+"/", proxy)
	}
	mux.HandleFunc("POST /nodes/{action}", d.control)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics,
		promhttp.HandlerOpts{}))
	return mux
}

func (d *demo) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><title>mcsession demo</title>
<h1>mcsession demo</h1>
<p>Two app servers per library behind a round-robin proxy, sessions in
Memcached with two replicas.</p>
<ul><li><a href="/gorilla/">gorilla/sessions with gorillastore</a>
<li><a href="/scs/">scs with scsstore</a>
<li><a href="/metrics">Prometheus metrics</a></ul>`)
}

// control kills or restarts a node: POST /nodes/kill?addr=host:port.
func (d *demo) control(w http.ResponseWriter, r *http.Request) {
	n, err := d.nodes.find(r.FormValue("addr"))
	if err == nil {
		switch r.PathValue("action") {
		case "kill":
			err = n.kill()
		case "restart":
			err = n.restart()
		default:
			err = fmt.Errorf("unknown action %q", r.PathValue("action"))
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log.Printf("node %s: %s", n.addr(), r.PathValue("action"))
	if back := r.FormValue("back"); strings.HasPrefix(back, "/") {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	fmt.Fprintf(w, "%s %s\n", r.PathValue("action"), n.addr())
}
