package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"
)

// runScript drives one client through each library's pair: 20 requests,
// the session's primary node killed, 20 more, a logout, the old cookie
// replayed. It returns an error unless all of it held.
func runScript(base string, nodes *nodeSet) error {
	for _, library := range []string{"gorilla", "scs"} {
		if err := script(base, library, nodes); err != nil {
			return fmt.Errorf("%s: %w", library, err)
		}
	}
	log.Print("demo: all checks held")
	return nil
}

func script(base, library string, nodes *nodeSet) error {
	c := newClient(base + "/" + library + "/")
	seen := map[string]int{}
	st, err := c.increments(20, seen)
	if err != nil {
		return err
	}
	if len(seen) != 2 || st.Count != 20 || len(st.Nodes) == 0 {
		return fmt.Errorf("after 20 requests: count %d, app servers %v, "+
			"nodes %v; want 20 over 2 servers", st.Count, seen, st.Nodes)
	}
	log.Printf("%s: 20 requests served by %s; count 20; copies on %s",
		library, describe(seen), strings.Join(st.Nodes, " and "))

	primary := st.Nodes[0]
	log.Printf("%s: killing %s, the session's primary", library, primary)
	if err := c.post(base+"/nodes/kill", url.Values{"addr": {primary}}); err != nil {
		return err
	}
	defer restart(library, nodes, primary)

	clear(seen)
	if st, err = c.increments(20, seen); err != nil {
		return err
	}
	if st.Count != 40 || len(seen) != 2 {
		return fmt.Errorf("after the kill: count %d over %v; want 40 "+
			"over 2 servers", st.Count, seen)
	}
	log.Printf("%s: 20 more requests by %s; count 40, nothing lost "+
		"(Replicas: 2 kept a copy); copies now on %s", library,
		describe(seen), strings.Join(st.Nodes, " and "))

	return c.logoutSticks(library)
}

// restart brings a killed node back, empty, as a restarted memcached
// would be.
func restart(library string, nodes *nodeSet, addr string) {
	n, err := nodes.find(addr)
	if err == nil {
		err = n.restart()
	}
	if err != nil {
		log.Printf("%s: restarting %s: %v", library, addr, err)
		return
	}
	log.Printf("%s: restarted %s, empty; it rejoins once the stores see "+
		"it answer", library, addr)
}

func describe(seen map[string]int) string {
	var parts []string
	for s, n := range seen {
		parts = append(parts, fmt.Sprintf("%s (%d)", s, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " and ")
}

// client is one browser: a cookie jar and the app pair's base URL.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base,
		http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// increments posts n increments, counting the app servers that answered,
// and checks that the count goes up by one each time.
func (c *client) increments(n int, seen map[string]int) (state, error) {
	var st state
	for i := 0; i < n; i++ {
		prev := st.Count
		if err := c.call("POST", "incr", &st); err != nil {
			return st, err
		}
		if i > 0 && st.Count != prev+1 {
			return st, fmt.Errorf("count went from %d to %d on %s",
				prev, st.Count, st.Server)
		}
		seen[st.Server]++
	}
	return st, nil
}

// logoutSticks logs out, then replays the old cookie and expects an
// empty session.
func (c *client) logoutSticks(library string) error {
	u, _ := url.Parse(c.base)
	old := c.http.Jar.Cookies(u)
	var st state
	if err := c.call("POST", "logout", &st); err != nil {
		return err
	}

	c.http.Jar.SetCookies(u, old)
	if err := c.call("GET", "api/state", &st); err != nil {
		return err
	}
	if st.Count != 0 {
		return fmt.Errorf("old cookie replayed after logout: count %d; "+
			"want 0", st.Count)
	}
	log.Printf("%s: logged out; the old cookie, replayed, gets an empty "+
		"session", library)
	return nil
}

func (c *client) call(method, path string, st *state) error {
	req, _ := http.NewRequest(method, c.base+path, nil)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(st); err != nil {
		return fmt.Errorf("%s %s: %s: %v", method, path, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status,
			st.Error)
	}
	return nil
}

func (c *client) post(u string, form url.Values) error {
	resp, err := c.http.PostForm(u, form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}
