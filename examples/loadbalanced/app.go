package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/alexedwards/scs/v2"

	"github.com/mcsession/mcsession/gorillastore"
	"github.com/mcsession/mcsession/mcprom"
	"github.com/mcsession/mcsession/scsstore"
)

// counter is what the demo page does with a session, whichever library
// keeps it.
type counter interface {
	// wrap puts the library's middleware, if any, around h.
	wrap(h http.Handler) http.Handler
	// load returns the session's ID and count.
	load(w http.ResponseWriter, r *http.Request) (id string, n int, err error)
	// add increments the count and saves the session.
	add(w http.ResponseWriter, r *http.Request) (id string, n int, err error)
	// logout deletes the session.
	logout(w http.ResponseWriter, r *http.Request) error
	// nodes lists the nodes holding the session's copies, primary first.
	nodes(id string) []string
	// source returns the session store, for its metrics.
	source() mcprom.Source
}

// state is the JSON answer of every endpoint of an app server.
type state struct {
	Server  string   `json:"server"`
	Library string   `json:"library"`
	Count   int      `json:"count"`
	Nodes   []string `json:"nodes"`
	Error   string   `json:"error,omitempty"`
}

// app is one app server of the demo: a page with a counter kept in a
// session, served by the name it shows.
type app struct {
	name, library, base string
	sessions            counter
	cluster             *nodeSet
}

func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.page)
	mux.HandleFunc("GET /api/state", a.do(a.sessions.load))
	mux.HandleFunc("POST /incr", a.do(a.sessions.add))
	mux.HandleFunc("POST /logout", a.do(func(w http.ResponseWriter,
		r *http.Request) (string, int, error) {
		return "", 0, a.sessions.logout(w, r)
	}))
	return a.sessions.wrap(mux)
}

// do runs an action and answers with the resulting state: JSON, or a
// redirect to the page when a form asked for one.
func (a *app) do(action func(http.ResponseWriter, *http.Request) (string,
	int, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, n, err := action(w, r)
		st := a.state(id, n, err)
		if r.FormValue("back") != "" {
			http.Redirect(w, r, a.base, http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
		}
		json.NewEncoder(w).Encode(st)
	}
}

func (a *app) state(id string, n int, err error) state {
	st := state{Server: a.name, Library: a.library, Count: n}
	if id != "" {
		st.Nodes = a.sessions.nodes(id)
	}
	if err != nil {
		st.Error = err.Error()
	}
	return st
}

func (a *app) page(w http.ResponseWriter, r *http.Request) {
	id, n, err := a.sessions.load(w, r)
	st := a.state(id, n, err)
	roles := map[string]string{}
	for i, addr := range st.Nodes {
		roles[addr] = "replica"
		if i == 0 {
			roles[addr] = "primary"
		}
	}
	data := struct {
		state
		Base  string
		Nodes []nodeView
		Roles map[string]string
	}{st, a.base, a.cluster.view(), roles}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<title>mcsession demo: {{.Library}}</title>
<style>body{font:16px sans-serif;max-width:40em;margin:2em auto}
td,th{padding:.2em .8em;text-align:left} form{display:inline}</style>
<h1>{{.Library}} behind a round-robin proxy</h1>
<p>Answered by app server <b>{{.Server}}</b>. Reload: the next request goes
to the other one, and the count stays.</p>
<p style="font-size:2em">Count: <b>{{.Count}}</b></p>
{{if .Error}}<p style="color:#b00">Error: {{.Error}}</p>{{end}}
<form method=post action="{{.Base}}incr"><input type=hidden name=back value=1>
<button>Increment</button></form>
<form method=post action="{{.Base}}logout"><input type=hidden name=back value=1>
<button>Log out</button></form>
<h2>Memcached nodes</h2>
<table><tr><th>node</th><th>state</th><th>this session</th><th></th></tr>
{{range .Nodes}}<tr><td>{{.Addr}}</td><td>{{.State}}</td>
<td>{{index $.Roles .Addr}}</td><td>
<form method=post action="/nodes/{{if .Up}}kill{{else}}restart{{end}}">
<input type=hidden name=addr value="{{.Addr}}">
<input type=hidden name=back value="{{$.Base}}">
<button {{if not .Controllable}}disabled{{end}}>
{{- if .Up}}Kill{{else}}Restart{{end}}</button></form></td></tr>
{{end}}</table>
<p><a href="/">All demos</a></p>
`))

// gorillaCounter keeps the count in a gorilla session.
type gorillaCounter struct{ store *gorillastore.Store }

const sessionName = "demo"

func (g gorillaCounter) wrap(h http.Handler) http.Handler { return h }

func (g gorillaCounter) load(w http.ResponseWriter, r *http.Request) (string,
	int, error) {
	s, err := g.store.Get(r, sessionName)
	n, _ := s.Values["count"].(int)
	return s.ID, n, err
}

func (g gorillaCounter) add(w http.ResponseWriter, r *http.Request) (string,
	int, error) {
	s, err := g.store.Get(r, sessionName)
	if err != nil && !s.IsNew {
		return "", 0, err
	}
	n, _ := s.Values["count"].(int)
	s.Values["count"] = n + 1
	err = s.Save(r, w)
	return s.ID, n + 1, err
}

func (g gorillaCounter) logout(w http.ResponseWriter, r *http.Request) error {
	s, _ := g.store.Get(r, sessionName)
	s.Options.MaxAge = -1
	return s.Save(r, w)
}

func (g gorillaCounter) nodes(id string) []string { return g.store.Nodes(id) }

// scsCounter keeps the count in an scs session.
type scsCounter struct {
	manager *scs.SessionManager
	store   *scsstore.Store
}

func (s scsCounter) wrap(h http.Handler) http.Handler {
	return s.manager.LoadAndSave(h)
}

func (s scsCounter) load(w http.ResponseWriter, r *http.Request) (string,
	int, error) {
	return s.manager.Token(r.Context()), s.manager.GetInt(r.Context(),
		"count"), nil
}

func (s scsCounter) add(w http.ResponseWriter, r *http.Request) (string,
	int, error) {
	n := s.manager.GetInt(r.Context(), "count") + 1
	s.manager.Put(r.Context(), "count", n)
	return s.manager.Token(r.Context()), n, nil
}

func (s scsCounter) logout(w http.ResponseWriter, r *http.Request) error {
	return s.manager.Destroy(r.Context())
}

func (s scsCounter) nodes(id string) []string { return s.store.Nodes(id) }

// newApps builds the two app servers of one library over servers.
func newApps(library string, cfg gorillastore.Config, nodes *nodeSet,
	key []byte) ([2]*app, error) {
	var apps [2]*app
	for i := range apps {
		c, err := newCounter(library, cfg, key)
		if err != nil {
			return apps, err
		}
		apps[i] = &app{name: fmt.Sprintf("%s-%d", library, i+1),
			library: library, base: "/" + library + "/", sessions: c,
			cluster: nodes}
	}
	return apps, nil
}

func newCounter(library string, cfg gorillastore.Config,
	key []byte) (counter, error) {
	switch library {
	case "gorilla":
		store, err := gorillastore.NewStore(cfg, key)
		if err != nil {
			return nil, err
		}
		store.Options.Secure = false // the demo serves plain HTTP
		return gorillaCounter{store}, nil
	case "scs":
		store, err := scsstore.NewStore(cfg)
		if err != nil {
			return nil, err
		}
		m := scs.New()
		m.Store = store
		m.Cookie.Name = "scs_demo"
		return scsCounter{m, store}, nil
	}
	return nil, errors.New("unknown library " + strings.ToUpper(library))
}
