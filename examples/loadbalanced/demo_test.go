package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func startDemo(t *testing.T) (*httptest.Server, *nodeSet) {
	t.Helper()
	nodes, err := startNodes(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nodes.close)
	d, err := newDemo(nodes)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.handler())
	t.Cleanup(srv.Close)
	t.Cleanup(d.close)
	return srv, nodes
}

// browser posts and gets with a cookie jar and decodes JSON answers.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, client: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path string, form url.Values) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path,
		strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) state(method, path string) state {
	b.t.Helper()
	code, body := b.do(method, path, nil)
	var st state
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		b.t.Fatalf("%s %s = %d %q; want 200 and a state", method, path,
			code, body)
	}
	return st
}

func TestPageEndpoints(t *testing.T) {
	srv, nodes := startDemo(t)
	for _, library := range []string{"gorilla", "scs"} {
		t.Run(library, func(t *testing.T) {
			b := newBrowser(t, srv.URL)
			p := "/" + library + "/"
			for want := 1; want <= 3; want++ {
				if st := b.state("POST", p+"incr"); st.Count != want {
					t.Fatalf("increment %d: count %d", want, st.Count)
				}
			}
			st := b.state("GET", p+"api/state")
			if st.Count != 3 || len(st.Nodes) != 2 || st.Library != library {
				t.Fatalf("state = %+v; want count 3 on 2 nodes", st)
			}
			if code, page := b.do("GET", p, nil); code != 200 ||
				!strings.Contains(page, "Count: <b>3</b>") ||
				!strings.Contains(page, "primary") {
				t.Fatalf("page = %d:\n%s", code, page)
			}

			primary := url.Values{"addr": {st.Nodes[0]}}
			if code, body := b.do("POST", "/nodes/kill", primary); code != 200 {
				t.Fatalf("kill = %d %q", code, body)
			}
			if n, _ := nodes.find(st.Nodes[0]); n.up() {
				t.Fatal("killed node still up")
			}
			if st := b.state("POST", p+"incr"); st.Count != 4 {
				t.Fatalf("after the kill: count %d; want 4", st.Count)
			}
			if code, body := b.do("POST", "/nodes/restart", primary); code != 200 {
				t.Fatalf("restart = %d %q", code, body)
			}
			if n, _ := nodes.find(st.Nodes[0]); !n.up() {
				t.Fatal("restarted node not up")
			}

			b.state("POST", p+"logout")
			if st := b.state("GET", p+"api/state"); st.Count != 0 {
				t.Fatalf("after logout: count %d; want 0", st.Count)
			}
		})
	}
}

func TestControlRejectsUnknownNodes(t *testing.T) {
	srv, _ := startDemo(t)
	b := newBrowser(t, srv.URL)
	for _, path := range []string{"/nodes/kill", "/nodes/explode"} {
		code, _ := b.do("POST", path, url.Values{"addr": {"10.9.9.9:1"}})
		if code != http.StatusBadRequest {
			t.Errorf("POST %s for an unknown node = %d; want 400", path, code)
		}
	}
	if code, page := b.do("GET", "/", nil); code != 200 ||
		!strings.Contains(page, "/gorilla/") {
		t.Errorf("index = %d %q", code, page)
	}
}

func TestScriptedRun(t *testing.T) {
	srv, nodes := startDemo(t)
	if err := runScript(srv.URL, nodes); err != nil {
		t.Fatal(err)
	}
}
