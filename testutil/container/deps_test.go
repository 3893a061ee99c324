package container_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The stores must not compile Docker: only this package brings in
// testcontainers-go, for the tests that import it.
func TestStoresDoNotDependOnDocker(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list dependencies with")
	}

	cmd := exec.Command(goTool, "list", "-deps", "./gorillastore",
		"./scsstore")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		lower := strings.ToLower(pkg)
		for _, banned := range []string{"testcontainers", "docker", "moby"} {
			if strings.Contains(lower, banned) {
				t.Errorf("the stores depend on %s", pkg)
			}
		}
	}
}
