package container

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// fakeImages holds the images named in have; pulls succeed for those in
// pullable.
type fakeImages struct {
	have     map[string]bool
	pullable map[string]bool
	pulled   []string
}

func (f *fakeImages) present(_ context.Context, ref string) (bool, error) {
	return f.have[ref], nil
}

func (f *fakeImages) pull(_ context.Context, ref string) error {
	f.pulled = append(f.pulled, ref)
	if !f.pullable[ref] {
		return errors.New("no registry")
	}
	f.have[ref] = true
	return nil
}

func TestChooseImage(t *testing.T) {
	skipIfHubPrefix(t)
	const custom = "example/memcached:1.6"
	tests := []struct {
		name       string
		named      string
		have       []string
		pullable   []string
		want       string
		wantPulled []string
		wantErr    bool
	}{
		{name: "default present", have: []string{defaultImage, localImage},
			want: defaultImage},
		{name: "local instead of a pull", have: []string{localImage},
			want: localImage},
		{name: "default pulled", pullable: []string{defaultImage},
			want: defaultImage, wantPulled: []string{defaultImage}},
		{name: "nothing at all", want: defaultImage,
			wantPulled: []string{defaultImage}, wantErr: true},
		{name: "named present", named: custom,
			have: []string{custom, defaultImage}, want: custom},
		{name: "named pulled", named: custom, pullable: []string{custom},
			want: custom, wantPulled: []string{custom}},
		{name: "named missing, local ignored", named: custom,
			have: []string{localImage}, want: custom,
			wantPulled: []string{custom}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeImages{have: set(tt.have), pullable: set(tt.pullable)}

			got, err := chooseImage(f, tt.named)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("chooseImage(%q) = %q, %v; want %q, error %v",
					tt.named, got, err, tt.want, tt.wantErr)
			}
			if strings.Join(f.pulled, " ") != strings.Join(tt.wantPulled, " ") {
				t.Errorf("pulled %q; want %q", f.pulled, tt.wantPulled)
			}
		})
	}
}

// The error for an image that cannot be had tells how to build one, and
// is about the machine, so that tests skip on it.
func TestMissingImageSaysHowToBuildOne(t *testing.T) {
	skipIfHubPrefix(t)
	f := &fakeImages{have: set(nil), pullable: set(nil)}

	_, err := chooseImage(f, "")
	var env *envError
	if !errors.As(err, &env) {
		t.Fatalf("chooseImage error = %#v; want an *envError", err)
	}
	for _, want := range []string{defaultImage, buildScript, imageEnv,
		localImage} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRequireDocker(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{requireEnv: "1"}, true},
		{map[string]string{requireEnv: "0"}, false},
		{map[string]string{"CI": "true"}, false}, // not every CI has Docker
	}
	for _, tt := range tests {
		getenv := func(k string) string { return tt.env[k] }
		if got := requireDocker(getenv); got != tt.want {
			t.Errorf("requireDocker(%v) = %v; want %v", tt.env, got, tt.want)
		}
	}
}

func TestPortTaken(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("Bind for 127.0.0.1:4000 failed: port is already " +
			"allocated"), true},
		{errors.New("listen tcp4 127.0.0.1:4000: bind: address already " +
			"in use"), true},
		{errors.New("no such image"), false},
	}
	for _, tt := range tests {
		if got := portTaken(tt.err); got != tt.want {
			t.Errorf("portTaken(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

func TestProcessGone(t *testing.T) {
	if processGone(os.Getpid()) {
		t.Error("processGone(own pid) = true; want false")
	}

	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	if !processGone(cmd.Process.Pid) {
		t.Errorf("processGone(%d), a reaped child, = false; want true",
			cmd.Process.Pid)
	}
}

// skipIfHubPrefix skips a test of image choice on a machine where
// testcontainers-go prefixes image names, and the package does not choose.
func skipIfHubPrefix(t *testing.T) {
	if hubPrefix() {
		t.Skip("testcontainers-go is set to prefix image names")
	}
}

func set(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}
