//go:build unix

package metrics

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user plus system CPU time. The benchmarks
// report it beside wall time because on a shared machine wall time mostly
// measures the other tenants.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkROCAUC200k(b *testing.B) {
	scores, labels := synthetic(200_000, 1, false)
	start := cpuTime()
	for b.Loop() {
		if _, err := ROCAUC(scores, labels, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}

func BenchmarkEvaluate200kBootstrap200(b *testing.B) {
	scores, labels := synthetic(200_000, 1, false)
	start := cpuTime()
	for b.Loop() {
		if _, err := Evaluate(context.Background(), scores, labels, Options{Bootstrap: 200}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}
