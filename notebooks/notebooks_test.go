package notebooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNotebooksExecute runs every notebook top to bottom against a freshly
// built caserisk binary, in a scratch folder shared by the notebooks so the
// synthetic borough is generated once.
func TestNotebooksExecute(t *testing.T) {
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		t.Skip("jupyter not installed (Debian: jupyter-nbconvert python3-ipykernel python3-pandas python3-matplotlib); .ci/run installs it")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import pandas, matplotlib, ipykernel").Run(); err != nil {
		t.Skip("python3-pandas, python3-matplotlib or python3-ipykernel missing; .ci/run installs them")
	}
	if testing.Short() {
		t.Skip("notebooks take about a minute; skipped with -short")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "caserisk")
	build := exec.Command("go", "build", "-o", bin, "../cmd/caserisk")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building caserisk: %v\n%s", err, out)
	}
	books, _ := filepath.Glob("*.ipynb")
	if len(books) < 3 {
		t.Fatalf("found %d notebooks, want 3", len(books))
	}
	for _, nb := range books {
		t.Run(nb, func(t *testing.T) {
			cmd := exec.Command(jupyter, "nbconvert", "--to", "notebook", "--execute",
				"--ExecutePreprocessor.timeout=600", "--output-dir", work, nb)
			cmd.Env = append(os.Environ(), "CASERISK_BIN="+bin, "CASERISK_NOTEBOOK_DIR="+filepath.Join(work, "scratch"),
				"MPLBACKEND=Agg")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s failed: %v\n%s", nb, err, out)
			}
		})
	}
}
