package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// TestScoreAndEvaluateTheFeaturesTable runs the data scientist's path on a
// small generated borough: features writes one table as CSV and as
// Parquet; a model trained on the CSV scores both with byte-identical
// output, label column included; a model whose label has a name of its
// own scores a table that carries that label; evaluate reads the Parquet.
func TestScoreAndEvaluateTheFeaturesTable(t *testing.T) {
	dir := t.TempDir()
	borough := filepath.Join(dir, "borough")
	mustRun(t, "generate", "--residents", "1500", "--seed", "4", "--as-of", "2025-01-01", "--out", borough)
	fcsv, fpq := filepath.Join(dir, "f.csv"), filepath.Join(dir, "f.parquet")
	for _, out := range []string{fcsv, fpq} {
		mustRun(t, "features", "--data", borough, "--as-of", "2023-01-01,2024-01-01", "--out", out)
	}
	model := filepath.Join(dir, "m.json")
	mustRun(t, "train", "--data", fcsv, "--label", "label_complex_case", "--rounds", "20", "--out", model)
	var scores [][]byte
	for _, data := range []string{fcsv, fpq} {
		out := filepath.Join(dir, "s-"+filepath.Base(data)+".csv")
		mustRun(t, "score", "--model", model, "--data", data, "--out", out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, b)
	}
	if !bytes.Equal(scores[0], scores[1]) {
		t.Errorf("scores of the CSV and of the Parquet differ")
	}
	if head, _, _ := strings.Cut(string(scores[0]), "\n"); head != "resident_id,uprn,as_of,score,margin" {
		t.Errorf("scores header %q", head)
	}
	mustRun(t, "evaluate", "--model", model, "--data", fpq, "--bootstrap", "-1", "--importance", "3")

	// inspect summarises both files alike, the label included.
	var summaries []string
	for _, data := range []string{fcsv, fpq} {
		out, err := execute("inspect", "--data", data, "--rows", "0")
		if err != nil {
			t.Fatalf("inspect %s: %v\n%s", data, err, out)
		}
		first, rest, _ := strings.Cut(out, "\n")
		if !strings.HasPrefix(first, filepath.Base(data)+": ") {
			t.Errorf("inspect first line %q", first)
		}
		summaries = append(summaries, rest)
	}
	if summaries[0] != summaries[1] {
		t.Errorf("inspect of the CSV:\n%s\nof the Parquet:\n%s", summaries[0], summaries[1])
	}
	for _, want := range []string{"\nas_of ", "\naudit_ward ", "\nlabel_complex_case ", "\nrent_arrears_gbp_now "} {
		if !strings.Contains(summaries[0], want) {
			t.Errorf("inspect lacks a line for %q:\n%s", want, summaries[0])
		}
	}

	// The model's label under a name of its own, not label_*: without
	// meta.json only the model file says it is a label.
	raw, err := os.ReadFile(fcsv)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(raw), "\n")
	own := filepath.Join(dir, "own.csv")
	if err := os.WriteFile(own, []byte(strings.Replace(head, "label_complex_case", "escalated", 1)+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	ownModel := filepath.Join(dir, "own.json")
	mustRun(t, "train", "--data", own, "--label", "escalated", "--rounds", "5", "--out", ownModel)
	mustRun(t, "score", "--model", ownModel, "--data", own, "--out", filepath.Join(dir, "own-scores.csv"))
	mustRun(t, "evaluate", "--model", ownModel, "--data", own, "--bootstrap", "-1", "--importance", "0")
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := execute(args...); err != nil {
		t.Fatalf("caserisk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestOutputExtensions: every command whose --out names a file refuses an
// extension it does not write, naming the ones it does; every command
// with --out is listed as writing files or a directory.
func TestOutputExtensions(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("out") != nil {
			_, file := outputs[where(c)]
			if !file && !slices.Contains(outputDirs, where(c)) {
				t.Errorf("%s has --out but is neither in outputs nor in outputDirs", where(c))
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd())

	dir := t.TempDir()
	for path, o := range outputs {
		t.Run(path, func(t *testing.T) {
			args := append(strings.Fields(path), "--out", filepath.Join(dir, "x.txt"))
			if path == "import" {
				args = append(args, "m.json")
			}
			var stderr bytes.Buffer
			code := runTo(context.Background(), args, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), `--out `) || !strings.Contains(stderr.String(), `".txt"`) ||
				!strings.Contains(stderr.String(), extList(o.exts)) {
				t.Errorf("caserisk %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
			}
			args[len(strings.Fields(path))+1] = "-"
			stderr.Reset()
			code = runTo(context.Background(), args, &stderr)
			if refused := strings.Contains(stderr.String(), "--out -:"); refused == o.stdout {
				t.Errorf("caserisk %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
			}
		})
	}
	var stderr bytes.Buffer
	if code := runTo(context.Background(), []string{"features", "--data", dir, "--as-of", "2024-01-01", "--out", filepath.Join(dir, "F.PARQUET")}, &stderr); strings.Contains(stderr.String(), "--out") {
		t.Errorf("an upper-case .PARQUET is refused: exit %d: %s", code, stderr.String())
	}
}

// TestOneErrorPrefix: errors are printed once prefixed with "caserisk: ",
// however the command names itself.
func TestOneErrorPrefix(t *testing.T) {
	for _, args := range [][]string{
		{"features", "--bogus"},
		{"--bogus"},
		{"models", "register", "--bogus"},
		{"score"},
		{"score-run", "--data", "d", "--as-of", "2024-01-01", "--capacity", "-1"},
		{"generate", "extra"},
		{"nosuchcommand"},
	} {
		var stderr bytes.Buffer
		code := runTo(context.Background(), args, &stderr)
		first, _, _ := strings.Cut(stderr.String(), "\n")
		if code == 0 || !strings.HasPrefix(first, "caserisk: ") || strings.HasPrefix(first, "caserisk: caserisk") {
			t.Errorf("caserisk %s: exit %d, first line %q", strings.Join(args, " "), code, first)
		}
	}
}

// TestCompletion: caserisk completion prints each shell's script, and the
// completion of --out offers the command's extensions.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, err := execute("completion", shell)
		if err != nil || !strings.Contains(out, "caserisk") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", shell, err, len(out))
		}
	}
	out, err := execute("__complete", "sc")
	if err != nil || !strings.Contains(out, "score\t") || !strings.Contains(out, "score-run\t") {
		t.Errorf("__complete sc: %v\n%s", err, out)
	}
	out, err = execute("__complete", "features", "--out", "")
	if err != nil || !strings.HasPrefix(out, "csv\nparquet\n") {
		t.Errorf("__complete features --out: %v\n%s", err, out)
	}
}

// TestStatusLine: the status line draws the step and the rows done once
// the delay has passed, clears itself on Stop, and is silent without a
// terminal (a nil writer).
func TestStatusLine(t *testing.T) {
	var buf syncBuffer
	s := newStatus(&buf, "score", 0, time.Millisecond)
	s.Step("writing", 200)
	s.Add(50)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "50/200 rows (25%)") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s.Stop()
	s.Stop()
	got := buf.String()
	if !strings.Contains(got, "\r\033[Kscore: writing 50/200 rows (25%) … ") || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("status output %q", got)
	}

	quiet := newStatus(nil, "score", 0, time.Millisecond)
	quiet.Step("writing", 10)
	quiet.Add(10)
	quiet.Stop()

	var late syncBuffer
	s = newStatus(&late, "score", time.Hour, time.Millisecond)
	s.Step("reading", 0)
	s.Stop()
	if late.String() != "" {
		t.Errorf("a run shorter than the delay printed %q", late.String())
	}

	var rows syncBuffer
	s = newStatus(nil, "score", time.Hour, time.Hour)
	s.Step("writing", 3)
	w := rowCounter{&rows, s}
	w.Write([]byte("a,b\n1,2\n3,"))
	w.Write([]byte("4\n"))
	if got := s.done.Load(); got != 3 {
		t.Errorf("rows counted %d, want 3", got)
	}
	s.Stop()
}

// syncBuffer is a bytes.Buffer safe for the status goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
