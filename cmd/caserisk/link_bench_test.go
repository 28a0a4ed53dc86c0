//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLinkBorough measures issue #10's bars end to end with the
// caserisk binary, as a user runs it:
//
//   - `caserisk link` on the raw extracts of a 240,000-resident borough
//     (CASERISK_LINK_RESIDENTS to change): wall seconds, peak resident
//     memory of the process, pairwise precision and recall against the
//     oracle;
//   - the complex-case model built from the linked output against the same
//     model built from the true links (`link --links-from oracle/links.csv`):
//     features as of 2024-01-01 to train and 2025-01-01 to test (a temporal
//     hold-out), a GBDT with the CLI's defaults, test ROC-AUC of each and the
//     difference; and, for reference, the same model on the generator's own
//     joined data, whose residences are true rather than inferred.
//
// The borough is generated once into $CASERISK_LINK_BENCH_DIR (default
// under os.TempDir()) and reused.
func BenchmarkLinkBorough(b *testing.B) {
	residents := 240_000
	if s := os.Getenv("CASERISK_LINK_RESIDENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("CASERISK_LINK_RESIDENTS=%q: %v", s, err)
		}
		residents = n
	}
	root := os.Getenv("CASERISK_LINK_BENCH_DIR")
	if root == "" {
		root = filepath.Join(os.TempDir(), fmt.Sprintf("caserisk-link-bench-%d", residents))
	}
	bin := filepath.Join(b.TempDir(), "caserisk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	borough := filepath.Join(root, "borough")
	if _, err := os.Stat(filepath.Join(borough, "oracle", "links.csv")); err != nil {
		os.RemoveAll(borough)
		runBin(b, bin, "generate", "--residents", strconv.Itoa(residents), "--seed", "2026", "--as-of", "2025-01-01", "--out", borough, "--raw")
	}
	raw, oracle := filepath.Join(borough, "raw"), filepath.Join(borough, "oracle", "links.csv")
	linked, truth := filepath.Join(root, "linked"), filepath.Join(root, "truth")

	for range b.N {
		os.RemoveAll(linked)
		t0 := time.Now()
		out, rss := runBin(b, bin, "link", "--raw", raw, "--out", linked, "--oracle", oracle, "--json")
		secs := time.Since(t0).Seconds()
		var s linkSummary
		if err := json.Unmarshal(out, &s); err != nil || s.Evaluation == nil {
			b.Fatalf("link --json: %v: %s", err, out)
		}
		b.ReportMetric(secs, "link_s")
		b.ReportMetric(float64(rss)/(1<<30), "link_peak_GiB")
		b.ReportMetric(s.Evaluation.Precision, "precision")
		b.ReportMetric(s.Evaluation.Recall, "recall")
		b.ReportMetric(float64(s.Evaluation.FalseMerges), "false_merges")
		b.Logf("link: %.1f s, peak RSS %.2f GiB; %d records, %d candidate pairs, %d residents; pairwise precision %.4f recall %.4f; %d false merges, %d people split",
			secs, float64(rss)/(1<<30), s.Stats.Records, s.Stats.CandidatePairs, s.Stats.Clusters,
			s.Evaluation.Precision, s.Evaluation.Recall, s.Evaluation.FalseMerges, s.Evaluation.MissedLinks)

		os.RemoveAll(truth)
		runBin(b, bin, "link", "--raw", raw, "--out", truth, "--links-from", oracle)
		aucLinked := complexCaseAUC(b, bin, linked)
		aucTruth := complexCaseAUC(b, bin, truth)
		aucIndex := complexCaseAUC(b, bin, borough)
		b.ReportMetric(aucLinked, "auc_linked")
		b.ReportMetric(aucIndex, "auc_index")
		b.ReportMetric(aucTruth, "auc_true_links")
		b.ReportMetric(aucTruth-aucLinked, "auc_gap")
		b.Logf("complex-case GBDT test ROC-AUC: %.4f from the linked output, %.4f from the true links (gap %+.4f); %.4f from the generator's own joined data (true links and true residences)",
			aucLinked, aucTruth, aucTruth-aucLinked, aucIndex)
	}
}

// complexCaseAUC builds features from the joined data in dir, trains the
// complex-case GBDT on 2024-01-01 and returns its ROC-AUC on 2025-01-01.
func complexCaseAUC(b *testing.B, bin, dir string) float64 {
	b.Helper()
	train, test, model := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv"), filepath.Join(dir, "model.json")
	runBin(b, bin, "features", "--data", dir, "--as-of", "2024-01-01", "--out", train)
	runBin(b, bin, "features", "--data", dir, "--as-of", "2025-01-01", "--out", test)
	runBin(b, bin, "train", "--data", train, "--label", "label_complex_case", "--algo", "gbdt", "--valid-frac", "0.2", "--seed", "1", "--out", model)
	out, _ := runBin(b, bin, "evaluate", "--model", model, "--data", test, "--bootstrap", "-1", "--json")
	var ev struct {
		Report struct {
			ROCAUC struct {
				Value float64 `json:"value"`
			} `json:"roc_auc"`
		} `json:"report"`
	}
	if err := json.Unmarshal(out, &ev); err != nil || ev.Report.ROCAUC.Value == 0 {
		b.Fatalf("evaluate --json: %v: %.300s", err, out)
	}
	return ev.Report.ROCAUC.Value
}

// runBin runs the binary and returns its standard output and the child's
// peak resident memory in bytes.
func runBin(b *testing.B, bin string, args ...string) ([]byte, int64) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("caserisk %v: %v\n%s\n%s", args, err, out, stderr.Bytes())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return out, rss
}
