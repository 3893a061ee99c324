package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcsession/mcsession/testutil"
)

func TestLocalFallbackHoldsSessionsUntilNodesReturn(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t)
	c := newCluster(t, []*testutil.Server{s}, func(cfg *Config) {
		fastFailover(1)(cfg)
		cfg.LocalFallback = 100
	})
	other := newCluster(t, []*testutil.Server{s}, func(cfg *Config) {
		cfg.Prefix = c.cfg.Prefix // another app server
	})
	mustSet(t, c, "before", []byte("stored"))
	mustSet(t, c, "logout", []byte("logged in"))
	s.Kill()

	mustSet(t, c, "during", []byte("held here"))
	wantValue(t, c, "during", []byte("held here"))
	if err := c.Delete(ctx, "logout"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Delete with every node down = %v; want ErrUnavailable", err)
	}
	wantMissing(t, c, "logout")
	if _, _, err := c.Get(ctx, "before"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get of a session not held = %v; want ErrUnavailable", err)
	}

	s.Restart()
	waitLive(t, c)
	deadline := time.Now().Add(5 * time.Second)
	for c.local.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c.local.Len() != 0 {
		t.Errorf("%d sessions still held after the node rejoined",
			c.local.Len())
	}
	wantValue(t, c, "during", []byte("held here"))
	if got := s.Command(t, "mg "+c.Key("during")+" v"); !strings.HasPrefix(got, "VA") {
		t.Errorf("held session not written back: %q", got)
	}
	wantValue(t, other, "during", []byte("held here"))
}

func TestNoLiveNodeIsAnErrorNotAPanic(t *testing.T) {
	t.Parallel()
	servers := testutil.StartCluster(t, 2)
	c := newCluster(t, servers, func(cfg *Config) {
		fastFailover(2)(cfg)
		cfg.FailureLimit = 1
		cfg.RetryInterval = time.Hour
	})
	mustSet(t, c, "s", []byte("v"))
	for _, s := range servers {
		s.Kill()
	}
	c.Get(ctx, "s") // ejects both

	if _, _, err := c.Get(ctx, "s"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get = %v; want ErrUnavailable", err)
	}
	if err := c.Set(ctx, "s", []byte("v"), time.Now().Add(time.Hour)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Set = %v; want ErrUnavailable", err)
	}
	if err := c.Delete(ctx, "s"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Delete = %v; want ErrUnavailable", err)
	}
}
