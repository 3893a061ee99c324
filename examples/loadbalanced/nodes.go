package main

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/mcsession/mcsession/internal/mcproc"
)

// node is one Memcached node of the demo's cluster.
type node interface {
	addr() string
	up() bool
	kill() error
	restart() error
	close()
}

// nodeSet is the demo's cluster: real memcached processes, embedded
// servers, or an existing cluster given with -servers.
type nodeSet struct {
	kind  string // what the nodes are, for the first lines of output
	nodes []node
}

// nodeView is a node as the page shows it.
type nodeView struct {
	Addr, State  string
	Up           bool
	Controllable bool
}

func (s *nodeSet) addrs() []string {
	addrs := make([]string, len(s.nodes))
	for i, n := range s.nodes {
		addrs[i] = n.addr()
	}
	return addrs
}

func (s *nodeSet) find(addr string) (node, error) {
	i := slices.Index(s.addrs(), addr)
	if i < 0 {
		return nil, fmt.Errorf("no node %q", addr)
	}
	return s.nodes[i], nil
}

func (s *nodeSet) view() []nodeView {
	views := make([]nodeView, len(s.nodes))
	for i, n := range s.nodes {
		_, external := n.(externalNode)
		views[i] = nodeView{Addr: n.addr(), Up: n.up(), State: "up",
			Controllable: !external}
		if !n.up() {
			views[i].State = "down"
		}
	}
	return views
}

func (s *nodeSet) close() {
	for _, n := range s.nodes {
		n.close()
	}
}

// startNodes starts the demo's cluster: the given servers if any, else
// three memcached processes if the binary is installed, else three
// embedded servers.
func startNodes(servers []string) (*nodeSet, error) {
	if len(servers) > 0 {
		set := &nodeSet{kind: "existing memcached servers"}
		for _, s := range servers {
			set.nodes = append(set.nodes, externalNode(s))
		}
		return set, nil
	}

	if _, err := mcproc.Find(""); err == nil {
		return startEach("memcached processes", func() (node, error) {
			p, err := mcproc.Start(mcproc.Options{})
			return procNode{p}, err
		})
	}
	return startEach("embedded servers (no memcached binary found; "+
		"install one with: apt-get install -y memcached)",
		func() (node, error) { return newEmbeddedNode() })
}

func startEach(kind string, start func() (node, error)) (*nodeSet, error) {
	set := &nodeSet{kind: kind}
	for range 3 {
		n, err := start()
		if err != nil {
			set.close()
			return nil, err
		}
		set.nodes = append(set.nodes, n)
	}
	return set, nil
}

// procNode is a memcached process.
type procNode struct{ p *mcproc.Proc }

func (n procNode) addr() string   { return n.p.Addr() }
func (n procNode) up() bool       { return n.p.Running() }
func (n procNode) kill() error    { return n.p.Kill() }
func (n procNode) restart() error { return n.p.Restart() }
func (n procNode) close()         { n.p.Close() }

// externalNode is a server the demo did not start and cannot control.
type externalNode string

var errExternal = errors.New("the demo cannot control a server it did not start")

func (n externalNode) addr() string   { return string(n) }
func (n externalNode) up() bool       { return true }
func (n externalNode) kill() error    { return errExternal }
func (n externalNode) restart() error { return errExternal }
func (n externalNode) close()         {}

// embeddedNode is an in-process server that can be killed and restarted
// on the same address, empty, like a memcached process.
type embeddedNode struct {
	mu      sync.Mutex
	address string
	srv     *embeddedServer // nil while killed
}

func newEmbeddedNode() (*embeddedNode, error) {
	srv, err := startEmbedded("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &embeddedNode{address: srv.addr(), srv: srv}, nil
}

func (n *embeddedNode) addr() string { return n.address }

func (n *embeddedNode) up() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv != nil
}

func (n *embeddedNode) kill() error {
	n.close()
	return nil
}

func (n *embeddedNode) restart() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		n.srv.close()
	}
	srv, err := startEmbedded(n.address)
	n.srv = srv
	return err
}

func (n *embeddedNode) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		n.srv.close()
		n.srv = nil
	}
}
